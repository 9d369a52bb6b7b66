"""Opening, migrating and writing the case store.

SQLite in WAL mode with ``synchronous=FULL`` (a committed wizard survives power loss),
foreign keys on, numbered migrations, file mode 0600. A store that is locked, read-only,
corrupt, from a newer version or not ours is refused with a :class:`StoreError` naming the
file: it is never overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.cpr import mask
from . import wizard_time
from .schema import LATEST, MIGRATIONS

# The domain model and its rules are imported by the methods that read or write a person, a
# task or a case: opening the store and the inbox's first page need none of them (start-up).
if TYPE_CHECKING:
    import sqlite_utils

    from ..domain.model import Case, Operation, PersonState, Provider, Task
    from ..domain.operations import PlannedOp, RuleContext, Violation

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The store cannot be used. ``code``: locked, in_use, readonly, corrupt, newer, foreign,
    empty, missing, not_training (a command meant for a training store found another)."""

    def __init__(self, code: str, path: Path | str, detail: str = "") -> None:
        self.code = code
        self.path = Path(path)
        self.detail = detail
        super().__init__(f"{code}: {path}" + (f" ({detail})" if detail else ""))


class RuleViolation(Exception):
    """A planned operation breaks a domain rule; nothing was written."""

    def __init__(self, op: PlannedOp, violations: Sequence[Violation]) -> None:
        self.op = op
        self.violations = list(violations)
        super().__init__(f"{op.kind} on {mask(op.cpr)}: " + ", ".join(v.code for v in violations))


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner alone (0600)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


class Store:
    """One open case store. Use :func:`open_store`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self.conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.RLock()
        self._providers: dict[str, Provider] | None = None

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over the same connection, for reads and maintenance (export, tools).

        Imported on first use: it costs ~140 ms at start-up, which the desk app never needs.
        Not for writes inside :meth:`transaction` (sqlite-utils commits on its own).
        """
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        if self._lock_fd is not None:
            _release_lock(self.path, self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); rolled back on any exception."""
        with self._mutex:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _map_error(exc, self.path) from exc
            try:
                yield self.conn
            except BaseException:
                self.conn.rollback()
                raise
            try:
                self.conn.commit()
            except sqlite3.OperationalError as exc:
                self.conn.rollback()
                raise _map_error(exc, self.path) from exc

    # -- meta ---------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def is_training(self) -> bool:
        return self.meta("training") == "1"

    # -- providers ----------------------------------------------------------------------
    def providers(self) -> dict[str, Provider]:
        if self._providers is None:
            from ..domain.model import Provider

            rows = self.conn.execute(
                "SELECT provider_number, practice_name, open, municipality_code, lat, lon, address FROM providers"
            ).fetchall()
            self._providers = {
                r[0]: Provider(r[0], r[1], bool(r[2]), int(r[3]), float(r[4]), float(r[5]), r[6]) for r in rows
            }
        return self._providers

    def provider(self, number: str) -> Provider | None:
        return self.providers().get(number)

    def upsert_providers(self, providers: Iterable[Provider]) -> None:
        self.conn.executemany(
            "INSERT INTO providers VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(provider_number) DO UPDATE SET "
            "practice_name=excluded.practice_name, open=excluded.open, municipality_code=excluded.municipality_code, "
            "lat=excluded.lat, lon=excluded.lon, address=excluded.address",
            [(p.provider_number, p.practice_name, int(p.open), p.municipality_code, p.lat, p.lon, p.address)
             for p in providers],
        )
        self._providers = None

    def rule_context(self, today: date) -> RuleContext:
        from ..domain.operations import RuleContext

        return RuleContext(today=today, provider=self.provider, person=self.load_person,
                           providers=lambda: self.providers().values(), team_lead=self._team_lead)

    def _team_lead(self, initials: str) -> bool:
        """Whether ``initials`` is the signed-in caseworker and leads the team (the desk knows
        no one else's role; the server checks again)."""
        from .session import current

        signed = current(self)
        return signed is not None and signed.team_lead and signed.initials == initials

    # -- persons ------------------------------------------------------------------------
    def load_person(self, cpr: str) -> PersonState | None:
        row = self.conn.execute("SELECT doc, version FROM persons WHERE cpr = ?", (cpr,)).fetchone()
        if row is None:
            return None
        from ..domain.model import PersonState, loads

        state = loads(PersonState, row[0])
        tasks = tuple(self._task_from_row(r) for r in self.conn.execute(
            f"SELECT {_TASK_COLS} FROM tasks WHERE cpr = ? ORDER BY due, rid", (cpr,)))
        return replace(state, version=int(row[1]), tasks=tasks)

    def save_person(self, state: PersonState) -> None:
        """Write ``state`` (call inside :meth:`transaction`). Tasks are upserted by id."""
        p = state.person
        write_person_rows(self.conn, [person_row(state)], [task_row(t, p.name) for t in state.tasks])
        # Python's lower(), as in task_row: SQLite's lower() leaves Æ, Ø and Å upper case.
        self.conn.execute("UPDATE tasks SET name = ?, search = ? WHERE cpr = ? AND name != ?",
                          (p.name, f"{p.cpr} {p.name.lower()}", p.cpr, p.name))

    @staticmethod
    def _task_from_row(r: Sequence[Any]) -> Task:
        from ..domain.model import Task, TaskStatus

        return Task(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), date.fromisoformat(r[5]),
                    TaskStatus(r[6]), r[7], r[8], r[9], r[10])

    def task(self, task_id: str) -> Task | None:
        r = self.conn.execute(f"SELECT {_TASK_COLS} FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return self._task_from_row(r) if r else None

    # -- cases and drafts ---------------------------------------------------------------
    def create_case(self, workaround_id: str, cpr: str, task_id: str | None, draft: dict[str, Any] | None = None) -> Case:
        from ..domain.model import Case

        case = Case(str(uuid.uuid4()), workaround_id, cpr, task_id, "draft", 0, draft or {}, _now())
        with self.transaction():
            self.conn.execute(
                "INSERT INTO cases(id, workaround_id, cpr, task_id, status, step, draft, created, updated) "
                "VALUES (?, ?, ?, ?, 'draft', 0, ?, ?, ?)",
                (case.id, workaround_id, cpr, task_id, json.dumps(case.draft, ensure_ascii=False), case.created,
                 case.created),
            )
        return case

    def save_draft(self, case_id: str, step: int, draft: dict[str, Any]) -> None:
        """Persist the wizard's draft at every step: quitting or a crash resumes it."""
        from ..domain.model import to_json

        with self.transaction():
            self.conn.execute(
                "UPDATE cases SET step = ?, draft = ?, updated = ? WHERE id = ? AND status = 'draft'",
                (step, json.dumps(to_json(draft), ensure_ascii=False), _now(), case_id),
            )

    def case(self, case_id: str) -> Case | None:
        r = self.conn.execute(
            "SELECT id, workaround_id, cpr, task_id, status, step, draft, created, committed FROM cases WHERE id = ?",
            (case_id,),
        ).fetchone()
        return _case_from_row(r) if r else None

    def open_draft(self, workaround_id: str, cpr: str, task_id: str | None) -> Case | None:
        """The unfinished draft of this wizard for this person and task, if any."""
        r = self.conn.execute(
            "SELECT id, workaround_id, cpr, task_id, status, step, draft, created, committed FROM cases "
            "WHERE status = 'draft' AND workaround_id = ? AND cpr = ? AND task_id IS ? ORDER BY updated DESC LIMIT 1",
            (workaround_id, cpr, task_id),
        ).fetchone()
        return _case_from_row(r) if r else None

    def drafts(self) -> list[Case]:
        rows = self.conn.execute(
            "SELECT id, workaround_id, cpr, task_id, status, step, draft, created, committed FROM cases "
            "WHERE status = 'draft' ORDER BY updated DESC"
        ).fetchall()
        return [_case_from_row(r) for r in rows]

    def discard_case(self, case_id: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE cases SET status = 'discarded', updated = ? WHERE id = ? AND status = 'draft'",
                              (_now(), case_id))

    def commit_case(self, case_id: str, planned: Sequence[PlannedOp], today: date, author: str = "") -> list[Operation]:
        """Apply a wizard's operations and write them, with their outbox rows, in ONE transaction.

        Every operation is checked against the domain rules first; one violation and nothing
        is written (:class:`RuleViolation`). A draft the wizard timed (store/wizard_time.py)
        also gets a ``case_time`` operation: the caseworker's time in it, for the report.
        """
        from ..domain import operations as ops_mod
        from ..domain.model import Operation
        from ..domain.operations import PlannedOp, Violation

        at = _now()
        done: list[Operation] = []
        with self.transaction():
            row = self.conn.execute("SELECT status, workaround_id, cpr FROM cases WHERE id = ?", (case_id,)).fetchone()
            if row is None or row[0] != "draft":
                raise ValueError(f"case {case_id} is not an open draft")
            timed = wizard_time.case_time_payload(self.conn, case_id, row[1], at)
            added = 0
            if timed is not None:  # the caseworker's time in this draft goes last with the case
                planned = [*planned, PlannedOp(row[2], "case_time", timed)]  # (a conflict lists the real work first)
                added = 1
            states: dict[str, PersonState] = {}
            # the rules see the other persons as this commit has changed them so far
            ctx = replace(self.rule_context(today), person=lambda c: states.get(c) or self.load_person(c))
            for p in planned:
                state = states.get(p.cpr) or self.load_person(p.cpr)
                if state is None:
                    raise RuleViolation(p, [Violation("rule.person_unknown")])
                payload = {**p.payload, "at": p.payload.get("at", at)}
                if author:  # the signed-in caseworker: the server checks the op is in their name
                    payload.setdefault("author", author)
                op = Operation(str(uuid.uuid4()), p.kind, p.cpr, payload, state.version, case_id)
                try:
                    violations = ops_mod.check(state, op, ctx)
                except ops_mod.PayloadError as exc:
                    raise RuleViolation(p, [Violation("rule.payload", {"detail": str(exc)})]) from exc
                if violations:
                    raise RuleViolation(p, violations)
                states[p.cpr] = ops_mod.apply(state, op, ctx)
                done.append(op)
            for state in states.values():
                self.save_person(state)
            self.conn.executemany(
                "INSERT INTO outbox(op_id, case_id, cpr, kind, payload, base_version, status, created) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                [(o.op_id, case_id, o.cpr, o.kind, json.dumps(o.payload, ensure_ascii=False), o.base_version, at)
                 for o in done],
            )
            self.conn.execute("UPDATE cases SET status = 'committed', committed = ?, updated = ? WHERE id = ?",
                              (at, at, case_id))
        log.info("case %s committed: %d operations", case_id, len(done))
        # the operations asked for; the timing added to them is written, not counted
        return done[:len(done) - added]

    # -- outbox -------------------------------------------------------------------------
    def outbox(self, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT seq, op_id, case_id, cpr, kind, payload, base_version, status, created, result FROM outbox"
        args: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        sql += " ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        keys = ("seq", "op_id", "case_id", "cpr", "kind", "payload", "base_version", "status", "created", "result")
        out = []
        for r in self.conn.execute(sql, args):
            d = dict(zip(keys, r))
            d["payload"] = json.loads(d["payload"])
            d["result"] = json.loads(d["result"]) if d["result"] else None
            out.append(d)
        return out

    def case_operations(self, case_id: str) -> list[dict[str, Any]]:
        return [o for o in self.outbox() if o["case_id"] == case_id]


_TASK_COLS = ("id, cpr, event_code, event_id, received, due, status, assignee, closed_reason, workaround_id, "
              "claimed_at")


# -- the one writer of person and task rows: the desk's commit, the pull, the training build --
PERSON_UPSERT = (
    "INSERT INTO persons(cpr, name, municipality_code, version, doc) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT(cpr) DO UPDATE SET name=excluded.name, municipality_code=excluded.municipality_code, "
    "version=excluded.version, doc=excluded.doc"
)
TASK_UPSERT = (
    "INSERT INTO tasks(id, cpr, name, search, event_code, event_id, received, due, status, assignee, "
    "closed_reason, workaround_id, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(id) DO UPDATE SET name=excluded.name, search=excluded.search, status=excluded.status, "
    "assignee=excluded.assignee, closed_reason=excluded.closed_reason, due=excluded.due, "
    "workaround_id=excluded.workaround_id, claimed_at=excluded.claimed_at"
)


def write_person_rows(conn: sqlite3.Connection, persons: Iterable[tuple[Any, ...]],
                      tasks: Iterable[tuple[Any, ...]]) -> None:
    """Insert or update person rows (:func:`person_row`) and task rows (:func:`task_row`)."""
    conn.executemany(PERSON_UPSERT, persons)
    conn.executemany(TASK_UPSERT, tasks)


def person_row(state: PersonState, doc: str | None = None) -> tuple[Any, ...]:
    """The ``persons`` row of ``state``: its document is the state without tasks (those have
    their own rows), in the model's codec; ``doc`` when the caller has that text already."""
    from ..domain.model import dumps

    p = state.person
    return (p.cpr, p.name, p.address.municipality_code, state.version,
            doc if doc is not None else dumps(replace(state, tasks=())))


def task_row_of_json(t: dict[str, Any], name: str) -> tuple[Any, ...]:
    """:func:`task_row` of a task in its JSON form (a pulled task, not decoded)."""
    return (t["id"], t["cpr"], name, f"{t['cpr']} {name.lower()}", t["event_code"], t.get("event_id"),
            t["received"], t["due"], t.get("status", "open"), t.get("assignee"), t.get("closed_reason"),
            t.get("workaround_id"), t.get("claimed_at"))


def task_row(t: Task, name: str) -> tuple[Any, ...]:
    return (t.id, t.cpr, name, f"{t.cpr} {name.lower()}", t.event_code, t.event_id, t.received.isoformat(),
            t.due.isoformat(), t.status.value, t.assignee, t.closed_reason, t.workaround_id, t.claimed_at)


def _case_from_row(r: Sequence[Any]) -> Case:
    from ..domain.model import Case

    return Case(r[0], r[1], r[2], r[3], r[4], int(r[5]), json.loads(r[6]), r[7], r[8])


def _map_error(exc: sqlite3.Error, path: Path) -> StoreError:
    msg = str(exc).lower()
    if "locked" in msg or "busy" in msg:
        return StoreError("locked", path, str(exc))
    if "readonly" in msg or "read-only" in msg:
        return StoreError("readonly", path, str(exc))
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return StoreError("corrupt", path, str(exc))
    return StoreError("error", path, str(exc))


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _take_lock(path: Path) -> int:
    """Lock ``<store>.lock`` (created 0600, removed again by :meth:`Store.close`). The lock
    is ours only if the file we locked is still the one at that name: a closing store may
    have removed it between our open and our lock."""
    lock_path = _lock_path(path)
    while True:
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreError("in_use", path, "another sygesikring-tui has it open") from exc
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _release_lock(path: Path, fd: int) -> None:
    """Remove the lock file while still holding it (no stray ``.lock``), then unlock."""
    with contextlib.suppress(OSError):
        os.unlink(_lock_path(path))
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        os.close(fd)


def _is_empty(path: Path) -> bool:
    """A file of no bytes (and no write-ahead log holding its first pages): never a store,
    and never silently made into one."""
    if path.stat().st_size:
        return False
    wal = path.with_name(path.name + "-wal")
    return not (wal.exists() and wal.stat().st_size)


def open_store(path: Path | str, *, create: bool = True, exclusive: bool = False,
               training: bool | None = None) -> Store:
    """Open (and if new, create and migrate) the case store at ``path``.

    ``exclusive`` takes an advisory lock for the app's lifetime, so two desks never share a
    file unknowingly. ``training`` marks a NEW store as a training store.
    """
    path = Path(path).expanduser()
    existed = path.exists()
    if not existed:
        if not create:
            raise StoreError("missing", path)
        if not os.access(path.parent, os.W_OK):
            raise StoreError("readonly", path, "the folder is not writable")
        _create_private(path)
    elif not os.access(path, os.R_OK):
        raise StoreError("readonly", path, "the file is not readable")
    elif not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise StoreError("readonly", path, "the file or its folder is not writable")
    elif _is_empty(path):
        raise StoreError("empty", path, "an empty file is not a case store")

    lock_fd = _take_lock(path) if exclusive else None
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=3.0)
    except sqlite3.Error as exc:
        if lock_fd is not None:
            _release_lock(path, lock_fd)
        raise _map_error(exc, path) from exc
    store = Store(path, conn, lock_fd)
    try:
        _prepare(store, existed, training)
    except StoreError:
        store.close()
        raise
    except sqlite3.Error as exc:
        store.close()
        raise _map_error(exc, path) from exc
    return store


def _prepare(store: Store, existed: bool, training: bool | None) -> None:
    conn = store.conn
    path = store.path
    # Reading the schema fails on a file that is not an SQLite database.
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError("corrupt", path, str(exc)) from exc
    if version > LATEST:
        raise StoreError("newer", path, f"schema {version} > {LATEST}")
    if existed and version == 0 and tables:
        raise StoreError("foreign", path, "an SQLite file that is not a case store")
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError("error", path, f"cannot use WAL (journal_mode={mode})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=3000")
    for number, sql in MIGRATIONS:
        if number <= version:
            continue
        with store.transaction():
            for stmt in _statements(sql):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {number}")
            if number == 1:
                store.set_meta("created", _now())
                store.set_meta("training", "1" if training else "0")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            with contextlib.suppress(OSError):
                os.chmod(side, 0o600)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit mid-transaction)."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
