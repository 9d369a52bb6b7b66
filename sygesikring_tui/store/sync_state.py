"""The desk store's side of sync: cursor, answers to pushed operations, pulled states, conflicts.

Pure store functions (no network): :mod:`sygesikring_tui.sync` calls them with what the
server said, and the UI calls :func:`status`, :func:`conflicts` and :func:`resolve`.

The invariant kept here: a person's local state is the server's state with the desk's
pending operations applied on top, in outbox order.

* A pulled state of a person who has pending operations is *held* (``sync_held``) and
  installed once those operations are answered; it is never laid over them.
* A person who moved to another municipality arrives as a removal: the desk deletes the
  person and its tasks, unless it has pending operations on them; then the removal is held
  like a state, the next push gets those operations refused (shown as a rejected item with
  the reason ``sync.moved_away``, both versions kept) and the removal is installed with the
  refusal. Any operation refused as ``not_found`` (the removal not pulled yet) takes the
  person off the desk the same way.
* An operation answered ``conflict`` or ``rejected`` was not applied on the server: the
  server's current state (sent with the answer) replaces the local one, and every later
  pending operation on the same person (made on top of the refused one) becomes a conflict
  too (``blocked_by``). Each is an inbox item with both versions, settled by the caseworker
  with :func:`resolve` (redo the wizard on the fresh data, or drop with a note). Nothing is
  overwritten silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .db import Store, _now, task_row_of_json, write_person_rows

# The domain model is imported where a state is decoded or encoded: the status line of a
# desk that starts needs none of it (start-up time).
if TYPE_CHECKING:
    from ..domain.model import PersonState

CURSOR = "cursor"
TOKEN_READABLE = "token_readable"  # "1" when the launch found the token file readable by others


# -- key/value ----------------------------------------------------------------------------
def get(store: Store, key: str, default: str | None = None) -> str | None:
    r = store.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return r[0] if r else default


def put(store: Store, key: str, value: str) -> None:
    """Set ``key`` (inside or outside a transaction)."""
    store.conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


def cursor(store: Store) -> int:
    return int(get(store, CURSOR, "0") or 0)


def record_outcome(store: Store, *, online: bool, error: str | None = None, synced: bool = False) -> None:
    with store.transaction():
        put(store, "online", "1" if online else "0")
        put(store, "last_error", error or "")
        if synced:
            put(store, "last_sync", _now())


# -- status for the status bar ----------------------------------------------------------
@dataclass(frozen=True)
class SyncStatus:
    online: bool | None  # None: never tried (no server configured, or not yet)
    waiting: int  # pending operations
    last_sync: str | None  # ISO timestamp of the last complete sync
    oldest_waiting_age: float | None  # seconds since the oldest pending operation was saved
    conflicts: int
    rejected: int  # not applied: refused by a rule, or held as a server error
    last_error: str | None
    server_errors: int = 0  # of ``rejected``: held after the same 5xx again and again (fejl hos serveren)
    token_warning: bool = False  # the desk's token file can be read by group or others


def status(store: Store, now: datetime | None = None) -> SyncStatus:
    counts = dict(store.conn.execute(
        "SELECT status, count(*) FROM outbox WHERE status IN ('pending', 'conflict', 'rejected') GROUP BY status"
    ).fetchall())
    oldest = store.conn.execute("SELECT min(created) FROM outbox WHERE status = 'pending'").fetchone()[0]
    age = None
    if oldest:
        now = now or datetime.now().astimezone()
        then = datetime.fromisoformat(oldest)
        if then.tzinfo is None:
            then = then.astimezone()
        age = max(0.0, (now - then).total_seconds())
    n_server = store.conn.execute(
        "SELECT count(*) FROM outbox WHERE status = 'rejected' AND result LIKE ?", (_SERVER_ERROR_LIKE,)
    ).fetchone()[0]
    online = get(store, "online")
    return SyncStatus(
        online=None if online is None else online == "1",
        waiting=int(counts.get("pending", 0)),
        last_sync=get(store, "last_sync") or None,
        oldest_waiting_age=age,
        conflicts=int(counts.get("conflict", 0)),
        rejected=int(counts.get("rejected", 0)),
        last_error=get(store, "last_error") or None,
        server_errors=n_server,
        token_warning=get(store, TOKEN_READABLE) == "1",
    )


# -- installing server states -------------------------------------------------------------
# A pulled person arrives as a record: {"kind": "person", "cpr", "version", "municipality",
# "name", "doc": <the state without tasks, as JSON text: stored as is>, "tasks": [...]}; a
# person who left the desk's municipality as {"kind": "removal", "cpr", "version"}. A whole
# state in the domain codec (an answer's "state", an old held row) is turned into a record.


def doc_record(doc: dict[str, Any]) -> dict[str, Any]:
    """A whole person state (domain codec JSON) as a pulled-person record."""
    from ..domain.model import dumps

    d = dict(doc)
    tasks = d.get("tasks") or []
    d["tasks"] = []
    p = d["person"]
    return {"kind": "person", "cpr": p["cpr"], "version": int(d.get("version", 0)),
            "municipality": int(p["address"]["municipality_code"]), "name": p["name"],
            "doc": dumps(d), "tasks": tasks}


def _as_record(item: dict[str, Any]) -> dict[str, Any]:
    return item if "kind" in item else doc_record(item)


def _write_records(store: Store, recs: Sequence[dict[str, Any]], known: set[str]) -> None:
    """Write pulled persons: the same rows as :meth:`Store.save_person` (the test
    ``test_fast_state_writer_stores_what_save_person_stores`` holds them to it), without
    decoding the state. ``known``: persons the store had before (their tasks may carry an
    old name)."""
    prow, trow, names = [], [], []
    for r in recs:
        name = r["name"]
        cpr = r["cpr"]
        prow.append((cpr, name, int(r["municipality"]), int(r["version"]), r["doc"]))
        low = name.lower()
        trow.extend(task_row_of_json(t, name) for t in r["tasks"])
        if cpr in known:
            # Python's lower(), as in store.db.task_row: SQLite's lower() leaves Æ, Ø and Å.
            names.append((name, f"{cpr} {low}", cpr, name))
    write_person_rows(store.conn, prow, trow)
    if names:
        store.conn.executemany("UPDATE tasks SET name = ?, search = ? WHERE cpr = ? AND name != ?", names)


def _write_docs(store: Store, docs: Sequence[dict[str, Any]]) -> None:
    """Write whole person states given as codec JSON (see :func:`_write_records`)."""
    recs = [doc_record(d) for d in docs]
    _write_records(store, recs, set(_local_versions(store, [r["cpr"] for r in recs])))


def _remove(store: Store, cprs: Sequence[str]) -> None:
    """The persons left the desk's municipality: their tasks and rows go (the outbox,
    cases and conflict items stay)."""
    rows = [(c,) for c in cprs]
    store.conn.executemany("DELETE FROM tasks WHERE cpr = ?", rows)
    store.conn.executemany("DELETE FROM persons WHERE cpr = ?", rows)


def _pending_cprs(store: Store, cprs: Iterable[str] | None = None) -> set[str]:
    rows = store.conn.execute("SELECT DISTINCT cpr FROM outbox WHERE status = 'pending'").fetchall()
    have = {r[0] for r in rows}
    return have if cprs is None else have & set(cprs)


def _local_versions(store: Store, cprs: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(0, len(cprs), 500):
        chunk = cprs[i:i + 500]
        q = "SELECT cpr, version FROM persons WHERE cpr IN (%s)" % ",".join("?" * len(chunk))
        out.update({r[0]: int(r[1]) for r in store.conn.execute(q, chunk)})
    return out


def install_states(store: Store, docs: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Lay pulled persons into the store (call inside a transaction): records (see above)
    or whole states in the domain codec.

    A person with pending operations gets the record held; an older version than the local
    one (with no pending operation) is ignored; a removal deletes the person and its tasks.
    Returns counts: installed, removed, held, stale.
    """
    latest: dict[str, dict[str, Any]] = {}
    for item in docs:
        r = _as_record(item)
        cpr = r["cpr"]
        if cpr not in latest or int(r["version"]) >= int(latest[cpr]["version"]):
            latest[cpr] = r
    pending = _pending_cprs(store, latest)
    local = _local_versions(store, [c for c in latest if c not in pending])
    now, gone, held, stale = [], [], 0, 0
    for cpr, r in latest.items():
        v = int(r["version"])
        if cpr in pending:
            store.conn.execute(
                "INSERT INTO sync_held(cpr, version, doc) VALUES (?, ?, ?) ON CONFLICT(cpr) DO UPDATE SET "
                "version = excluded.version, doc = excluded.doc WHERE excluded.version >= sync_held.version",
                (cpr, v, json.dumps(r, ensure_ascii=False)))
            held += 1
        elif cpr in local and v < local[cpr]:
            stale += 1
        elif r["kind"] == "removal":
            if cpr in local:
                gone.append(cpr)
            else:
                stale += 1
        else:
            now.append(r)
    if now:
        _write_records(store, now, set(local))
    if gone:
        _remove(store, gone)
    return {"installed": len(now), "removed": len(gone), "held": held, "stale": stale}


def release_held(store: Store) -> int:
    """Install held records of persons that have no pending operation left (in a transaction)."""
    rows = store.conn.execute("SELECT cpr, doc FROM sync_held").fetchall()
    if not rows:
        return 0
    pending = _pending_cprs(store)
    free = [(c, d) for c, d in rows if c not in pending]
    if not free:
        return 0
    store.conn.executemany("DELETE FROM sync_held WHERE cpr = ?", [(c,) for c, _ in free])
    counts = install_states(store, [json.loads(d) for _, d in free])
    return counts["installed"] + counts["removed"]


def _held_removal(store: Store, cpr: str) -> bool:
    r = store.conn.execute("SELECT doc FROM sync_held WHERE cpr = ?", (cpr,)).fetchone()
    return bool(r) and json.loads(r[0]).get("kind") == "removal"


def install_providers(store: Store, docs: Sequence[dict[str, Any]]) -> None:
    if docs:
        from ..domain.model import Provider, from_json

        store.upsert_providers(from_json(Provider, d) for d in docs)


# -- operations the server fails on (5xx) ------------------------------------------------------
SERVER_ERROR = "sync.server_error"  # the reason code of an operation held after repeated 5xx
_SERVER_ERROR_LIKE = f'%"code": "{SERVER_ERROR}"%'
_FAIL_KEY = "server_error:"  # sync_state key per operation: {"n": count in a row, "text": the answer}


def count_server_error(store: Store, op_id: str, text: str) -> int:
    """One more 5xx answer ``text`` to ``op_id`` alone; returns how many times in a row it
    failed the same way (another text starts the count again)."""
    with store.transaction():
        old = json.loads(get(store, _FAIL_KEY + op_id) or "{}")
        n = int(old.get("n", 0)) + 1 if old.get("text") == text else 1
        put(store, _FAIL_KEY + op_id, json.dumps({"n": n, "text": text}, ensure_ascii=False))
    return n


def hold_server_error(store: Store, op_id: str, text: str, server_state: dict[str, Any] | None) -> None:
    """Take ``op_id`` out of the queue as a server error: like a rejected operation (an inbox
    item with both versions, settled by redo or drop with a note; later operations on the
    person wait as conflicts), with the reason :data:`SERVER_ERROR` and the server's
    answer. ``server_state``: the person as the server has it now, when it could be read."""
    with store.transaction():
        row = store.conn.execute("SELECT seq, cpr, status FROM outbox WHERE op_id = ?", (op_id,)).fetchone()
        store.conn.execute("DELETE FROM sync_state WHERE key = ?", (_FAIL_KEY + op_id,))
        if row is None or row[2] != "pending":
            return
        answer: dict[str, Any] = {"op_id": op_id, "status": "rejected",
                                  "reasons": [{"code": SERVER_ERROR, "params": {"detail": text}}]}
        if server_state is not None:
            answer["state"] = server_state
        _refuse(store, op_id, row[0], row[1], "rejected", answer)
        release_held(store)


def is_server_error(item: ConflictItem) -> bool:
    return item.status == "rejected" and any(r.get("code") == SERVER_ERROR for r in item.reasons)


# -- answers to a push ----------------------------------------------------------------------
def record_answers(store: Store, answers: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Mark the outbox with the server's answers, in order, in one transaction.

    ``duplicate`` carries the stored first answer and counts as that answer. ``blocked``
    (not decided by the server) leaves the row for the cascade of the refused operation
    before it.
    """
    counts = {"applied": 0, "conflict": 0, "rejected": 0, "blocked": 0}
    with store.transaction():
        for ans in answers:
            real = ans["answer"] if ans.get("status") == "duplicate" else ans
            st = real.get("status")
            op_id = ans["op_id"]
            row = store.conn.execute("SELECT seq, cpr, status FROM outbox WHERE op_id = ?", (op_id,)).fetchone()
            if row is None or row[2] != "pending":
                continue  # answered before (a repeated push after a crash), or dropped
            seq, cpr = row[0], row[1]
            store.conn.execute("DELETE FROM sync_state WHERE key = ?", (_FAIL_KEY + op_id,))
            if st == "applied":
                store.conn.execute("UPDATE outbox SET status = 'applied', result = ? WHERE op_id = ?",
                                   (json.dumps(real), op_id))
                counts["applied"] += 1
            elif st in ("conflict", "rejected"):
                _refuse(store, op_id, seq, cpr, st, real)
                counts[st] += 1
            elif st == "blocked":
                counts["blocked"] += 1
        release_held(store)
    return counts


def _refuse(store: Store, op_id: str, seq: int, cpr: str, status: str, answer: dict[str, Any]) -> None:
    from ..domain.model import to_json

    local = store.load_person(cpr)
    local_doc = to_json(local) if local is not None else None
    server_doc = answer.get("state")
    result = {k: v for k, v in answer.items() if k != "state"}
    gone = status == "rejected" and [r.get("code") for r in result.get("reasons", [])] == ["not_found"]
    if gone and _held_removal(store, cpr):
        # The server no longer shows this person to the desk: it moved to another municipality.
        result["reasons"] = [{"code": "sync.moved_away", "params": {}}]
    store.conn.execute("UPDATE outbox SET status = ?, result = ? WHERE op_id = ?",
                       (status, json.dumps({"answer": result, "local": local_doc, "server": server_doc},
                                           ensure_ascii=False), op_id))
    later = store.conn.execute("SELECT op_id FROM outbox WHERE cpr = ? AND status = 'pending' AND seq > ? "
                               "ORDER BY seq", (cpr, seq)).fetchall()
    for (later_id,) in later:
        store.conn.execute(
            "UPDATE outbox SET status = 'conflict', result = ? WHERE op_id = ?",
            (json.dumps({"answer": {"op_id": later_id, "status": "blocked", "blocked_by": op_id},
                         "local": local_doc, "server": server_doc}, ensure_ascii=False), later_id))
    if gone:
        # The server no longer shows this person to the desk (moved to another municipality,
        # the removal maybe not pulled yet): every pending operation on the person is now
        # refused and the person leaves the desk now. (Waiting for the removal would not do:
        # the local version, raised by the refused operations, would make it look stale.)
        store.conn.execute("DELETE FROM sync_held WHERE cpr = ?", (cpr,))
        _remove(store, [cpr])
    elif server_doc is not None:
        # Every pending operation on this person is now refused: the server's state is the truth.
        store.conn.execute("DELETE FROM sync_held WHERE cpr = ? AND version <= ?",
                           (cpr, int(server_doc.get("version", 0))))
        _write_docs(store, [server_doc])


# -- conflicts for the inbox ----------------------------------------------------------------
@dataclass(frozen=True)
class ConflictItem:
    """A pushed operation the server did not apply, waiting for the caseworker."""

    op_id: str
    case_id: str | None
    workaround_id: str | None
    task_id: str | None
    cpr: str
    kind: str
    payload: dict[str, Any]
    status: str  # conflict | rejected
    reasons: list[dict[str, Any]]  # rejected: [{code, params}] (i18n keys)
    blocked_by: str | None  # a conflict caused by an earlier refused operation on the person
    local: PersonState | None  # the desk's version when the answer came
    server: PersonState | None  # the server's version sent with the answer
    created: str


def conflicts(store: Store, cpr: str | None = None) -> list[ConflictItem]:
    sql = ("SELECT o.op_id, o.case_id, c.workaround_id, c.task_id, o.cpr, o.kind, o.payload, o.status, "
           "o.result, o.created FROM outbox o LEFT JOIN cases c ON c.id = o.case_id "
           "WHERE o.status IN ('conflict', 'rejected')")
    args: tuple[Any, ...] = ()
    if cpr:
        sql += " AND o.cpr = ?"
        args = (cpr,)
    from ..domain.model import PersonState, from_json

    out = []
    for r in store.conn.execute(sql + " ORDER BY o.seq", args):
        res = json.loads(r[8]) if r[8] else {}
        ans = res.get("answer", {})
        out.append(ConflictItem(
            r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], list(ans.get("reasons", [])),
            ans.get("blocked_by"),
            from_json(PersonState, res["local"]) if res.get("local") else None,
            from_json(PersonState, res["server"]) if res.get("server") else None,
            r[9]))
    return out


def resolve(store: Store, op_id: str, action: str, note: str) -> ConflictItem:
    """Settle a conflict or rejection: ``redo`` (the UI reruns the wizard on the fresh data,
    ``item.workaround_id``/``item.task_id`` say which) or ``drop`` with a note. The
    operation is marked dropped; it is never pushed again."""
    if action not in ("redo", "drop"):
        raise ValueError("action must be redo or drop")
    if not note.strip() and action == "drop":
        raise ValueError("dropping an operation needs a note")
    item = next((c for c in conflicts(store) if c.op_id == op_id), None)
    if item is None:
        raise KeyError(op_id)
    with store.transaction():
        store.conn.execute("UPDATE outbox SET status = 'dropped' WHERE op_id = ? AND status IN ('conflict', 'rejected')",
                           (op_id,))
        store.conn.execute("INSERT INTO sync_resolutions(op_id, action, note, resolved) VALUES (?, ?, ?, ?)",
                           (op_id, action, note, _now()))
    return item


def resolution(store: Store, op_id: str) -> tuple[str, str] | None:
    r = store.conn.execute("SELECT action, note FROM sync_resolutions WHERE op_id = ?", (op_id,)).fetchone()
    return (r[0], r[1]) if r else None
