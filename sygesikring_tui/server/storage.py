"""Server storage: one code path on SQLite and PostgreSQL (SQLAlchemy Core).

The unit is the person: ``persons.doc`` holds the whole :class:`PersonState` as JSON (the
domain codec) with its ``version``. Every write takes the next number from the single
``log_head`` row *inside* its transaction (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite:
``BEGIN IMMEDIATE``), so writers are serialised on that row and the sequence is committed in
order: a reader that sees sequence N has already seen every change below N, and a pull by
cursor never skips a change that committed late.

``ops`` keeps the answer to every decided operation under its ``op_id`` forever, so a retry
after any fault gets the stored answer (duplicate) and never applies an operation twice.
``audit`` is append-only: who (desk), when, which person, what.

A person is stored as ``doc`` (the state without its tasks, byte for byte the desk's
``persons.doc``) and ``tasks`` (the JSON list of its tasks), so a pull hands both texts to
the desk without decoding them. ``departures`` records a person leaving a municipality (a
load or CPR event that changed the address): that municipality's desks pull a removal.

Decoded states are kept in a bounded in-process cache keyed by ``(cpr, version)``; every
write bumps the version, and the version is read inside the writing transaction, so a
cached state is used only when it is exactly the stored one.
"""

from __future__ import annotations

import hashlib
import json
import re
import logging
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from . import notify
from ..domain import operations as ops_mod
from ..domain.cpr import mask
from ..domain.model import (
    Address,
    AddressEntry,
    CprEvent,
    HistoryEntry,
    Operation,
    PersonState,
    Provider,
    Task,
)
from ..domain.operations import RuleContext
from . import codec
from .codec import Encoded, decode_person, encode_person, from_json, to_json

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MAX_BATCH = 2000
MAX_PAGE = 10000
CACHE_SIZE = 2048  # decoded person states kept per server process (LRU)

metadata = sa.MetaData()

server_meta = sa.Table(
    "server_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
log_head = sa.Table(
    "log_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
)
desks = sa.Table(
    "desks", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("municipality", sa.Integer, nullable=True),  # NULL for a feed credential
    sa.Column("role", sa.String(16), nullable=False),  # desk | feed
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("revoked", sa.Text, nullable=True),
)
persons = sa.Table(
    "persons", metadata,
    sa.Column("cpr", sa.String(10), primary_key=True),
    sa.Column("municipality", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("doc", sa.Text, nullable=False),  # the state without tasks (schema 2; before: with them)
    sa.Column("name", sa.Text, nullable=False, server_default=""),  # schema 2
    sa.Column("tasks", sa.Text, nullable=False, server_default="[]"),  # schema 2
    sa.Index("persons_municipality_seq", "municipality", "seq"),
)
# A person left ``municipality`` at ``seq`` (its new version): that municipality's desks
# pull a removal. Schema 2.
departures = sa.Table(
    "departures", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("municipality", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("departures_municipality_seq", "municipality", "seq"),
)
providers = sa.Table(
    "providers", metadata,
    sa.Column("provider_number", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("doc", sa.Text, nullable=False),
)
# Every write, one row per sequence number: the proof that the sequence is contiguous.
changes = sa.Table(
    "changes", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),  # op | event | load | provider
    sa.Column("key", sa.String(64), nullable=False),  # cpr or provider number
    sa.Column("op_id", sa.String(64), nullable=True),
    sa.Column("at", sa.Text, nullable=False),
)
ops = sa.Table(
    "ops", metadata,
    sa.Column("op_id", sa.String(64), primary_key=True),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("desk_id", sa.Integer, nullable=False),
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
)
cpr_events = sa.Table(
    "cpr_events", metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
)
audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("desk_id", sa.Integer, nullable=True),  # NULL: the server itself (load, replay)
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("cpr", sa.String(10), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
)


class NotFound(Exception):
    """A person the caller may not see (absent or of another municipality)."""


class BodyMismatch(Exception):
    """An op_id seen before arrived with a different body (HTTP 422)."""

    def __init__(self, op_id: str) -> None:
        self.op_id = op_id
        super().__init__(f"op_id {op_id} was used before with a different body")


class SchemaTooNew(Exception):
    pass


@dataclass(frozen=True)
class Desk:
    id: int
    name: str
    municipality: int | None
    role: str
    revoked: str | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def body_hash(op: dict[str, Any]) -> str:
    """The identity of an operation's body: everything the desk sent about it."""
    body = {k: op.get(k) for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
    # The same text as json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    # without building an encoder per operation; stored hashes must never change.
    # (surrogatepass: a hostile body with an unpaired surrogate still gets a hash; the rules
    # then reject it instead of the server failing)
    return hashlib.sha256(_HASH_ENC.encode(body).encode("utf-8", "surrogatepass")).hexdigest()


_HASH_ENC = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3; a bare path means an SQLite file."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers take the database lock at BEGIN: the sequence is assigned in order.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


class Storage:
    """The server's database. Thread-safe: every call runs in its own transaction."""

    def __init__(self, url: str, today: Any = None) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._today = today or date.today
        self._providers: dict[str, Provider] | None = None
        self._providers_lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[int, Encoded]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_size = CACHE_SIZE
        self.cache_hits = 0
        self.cache_misses = 0
        self.migrate()

    def _q(self, sql: str) -> str:
        """Driver SQL written with ``?`` placeholders, in this driver's style."""
        return sql if self.is_sqlite else sql.replace("?", "%s")

    def _many(self, conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """executemany straight on the driver: the bulk rows of a write skip SQLAlchemy's
        per-row parameter processing (a third of the push time). On PostgreSQL an INSERT
        goes by COPY (psycopg's pipelined executemany costs ~50 us of Python per row)."""
        if not rows:
            return
        if not self.is_sqlite:
            m = _INSERT.match(sql)
            if m:
                cur = conn.connection.driver_connection.cursor()  # the same transaction
                try:
                    with cur.copy(f"COPY {m.group(1)} ({m.group(2)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                finally:
                    cur.close()
                return
        conn.exec_driver_sql(self._q(sql), rows)

    # -- person cache ---------------------------------------------------------------------
    def _cache_get(self, cpr: str, version: int) -> Encoded | None:
        with self._cache_lock:
            hit = self._cache.get(cpr)
            if hit is not None and hit[0] == version:
                self._cache.move_to_end(cpr)
                self.cache_hits += 1
                return hit[1]
            self.cache_misses += 1
            return None

    def _cache_put(self, items: Iterable[tuple[str, int, Encoded]]) -> None:
        """Call only after the transaction that read or wrote these versions committed."""
        with self._cache_lock:
            for cpr, version, enc in items:
                self._cache[cpr] = (version, enc)
                self._cache.move_to_end(cpr)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _load_persons(self, conn: Connection, cprs: Iterable[str]) -> dict[str, tuple[int, int, Encoded]]:
        """``cpr -> (version, municipality, Encoded)`` of the stored persons among ``cprs``;
        the cache answers for versions it holds, the rest is read and decoded."""
        out: dict[str, tuple[int, int, Encoded]] = {}
        missing: dict[str, tuple[int, int]] = {}
        for chunk in _chunks(list(cprs), 500):
            sql = "SELECT cpr, version, municipality FROM persons WHERE cpr IN (%s)" % ",".join("?" * len(chunk))
            for cpr, version, muni in conn.exec_driver_sql(self._q(sql), tuple(chunk)):
                enc = self._cache_get(cpr, int(version))
                if enc is None:
                    missing[cpr] = (int(version), int(muni))
                else:
                    out[cpr] = (int(version), int(muni), enc)
        for chunk in _chunks(list(missing), 500):
            sql = "SELECT cpr, doc, tasks FROM persons WHERE cpr IN (%s)" % ",".join("?" * len(chunk))
            for cpr, doc, tasks in conn.exec_driver_sql(self._q(sql), tuple(chunk)):
                version, muni = missing[cpr]
                out[cpr] = (version, muni, decode_person(doc, tasks))
        return out

    def _save_persons(self, conn: Connection, writes: list[tuple[Encoded, int, int | None]]) -> list[tuple[str, int, Encoded]]:
        """Write person states: ``(encoded new state, seq, municipality before or None if new)``.

        A person whose municipality changed leaves a departure at the same sequence number.
        Returns the cache entries to put once the transaction committed.
        """
        ins, upd, gone, done = [], [], [], []
        for enc, seq, before in writes:
            st = enc.state
            muni = st.person.address.municipality_code
            row = (muni, st.version, seq, st.person.name, codec.core_text(enc), codec.tasks_text(enc), st.cpr)
            if before is None:
                ins.append(row)
            else:
                upd.append(row)
                if before != muni:
                    gone.append((seq, st.cpr, before, st.version))
            done.append((st.cpr, st.version, enc))
        self._many(conn, "INSERT INTO persons (municipality, version, seq, name, doc, tasks, cpr) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", ins)
        self._many(conn, "UPDATE persons SET municipality = ?, version = ?, seq = ?, name = ?, doc = ?, tasks = ? "
                         "WHERE cpr = ?", upd)
        self._many(conn, "INSERT INTO departures (seq, cpr, municipality, version) VALUES (?, ?, ?, ?)", gone)
        return done

    def close(self) -> None:
        notify.closed(self)
        self.engine.dispose()

    # -- schema -------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create the schema if new, refuse a newer one; numbered like the desk store."""
        with self.engine.begin() as conn:
            insp = sa.inspect(conn)
            if insp.has_table("server_meta"):
                row = conn.execute(sa.select(server_meta.c.value).where(server_meta.c.key == "schema")).first()
                current = int(row[0]) if row else 0
            else:
                current = 0
            if current > SCHEMA_VERSION:
                raise SchemaTooNew(f"database schema {current} is newer than this server ({SCHEMA_VERSION})")
            if current < 1:
                metadata.create_all(conn)  # the latest schema at once
                conn.execute(sa.insert(log_head).values(id=1, seq=0))
                conn.execute(sa.insert(server_meta).values(key="schema", value=str(SCHEMA_VERSION)))
                conn.execute(sa.insert(server_meta).values(key="created", value=_now()))
                return
            if current < 2:
                self._migrate_2(conn)
            # Later migrations: ``if current < 3: ...`` here, never editing the ones above.
            conn.execute(sa.update(server_meta).where(server_meta.c.key == "schema")
                         .values(value=str(SCHEMA_VERSION)))

    def _migrate_2(self, conn: Connection) -> None:
        """Persons split into doc-without-tasks, name and tasks; the departures table."""
        conn.exec_driver_sql("ALTER TABLE persons ADD COLUMN name TEXT NOT NULL DEFAULT ''")
        conn.exec_driver_sql("ALTER TABLE persons ADD COLUMN tasks TEXT NOT NULL DEFAULT '[]'")
        departures.create(conn)
        rows = conn.exec_driver_sql("SELECT cpr, doc FROM persons").all()
        upd = []
        for cpr, doc in rows:
            raw = json.loads(doc)
            st = from_json(PersonState, raw)
            enc = Encoded(st, codec._raw_of(st, raw))
            upd.append((enc.state.person.name, codec.core_text(enc), codec.tasks_text(enc), cpr))
        if upd:
            conn.exec_driver_sql(self._q("UPDATE persons SET name = ?, doc = ?, tasks = ? WHERE cpr = ?"), upd)

    @contextmanager
    def _write(self) -> Iterator[tuple[Connection, list[int]]]:
        """A write transaction holding the log head; yields (conn, [head])."""
        with self.engine.begin() as conn:
            head = conn.execute(
                sa.select(log_head.c.seq).where(log_head.c.id == 1).with_for_update()
            ).scalar_one()
            box = [int(head)]
            yield conn, box
            if box[0] != head:
                conn.execute(sa.update(log_head).where(log_head.c.id == 1).values(seq=box[0]))
                notify.in_transaction(conn, box[0])
        if box[0] != head:
            notify.committed(self)

    def head(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(log_head.c.seq).where(log_head.c.id == 1)).scalar_one())

    # -- desks --------------------------------------------------------------------------
    def add_desk(self, name: str, municipality: int | None, role: str = "desk") -> tuple[Desk, str]:
        """A new credential; returns the token (shown once, stored only as a hash)."""
        if role not in ("desk", "feed"):
            raise ValueError("role must be desk or feed")
        if role == "desk" and municipality is None:
            raise ValueError("a desk needs a municipality")
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            res = conn.execute(sa.insert(desks).values(
                name=name, municipality=municipality, role=role, token_hash=hash_token(token), created=_now()))
            desk_id = int(res.inserted_primary_key[0])
        return Desk(desk_id, name, municipality, role), token

    def revoke_desk(self, desk_id: int) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(sa.update(desks).where(desks.c.id == desk_id, desks.c.revoked.is_(None))
                               .values(revoked=_now()))
            return res.rowcount == 1

    def list_desks(self) -> list[Desk]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(desks.c.id, desks.c.name, desks.c.municipality, desks.c.role,
                                          desks.c.revoked).order_by(desks.c.id)).all()
        return [Desk(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def desk_for_token(self, token: str) -> Desk | None:
        """The live credential with this token; None when unknown or revoked."""
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(desks.c.id, desks.c.name, desks.c.municipality, desks.c.role,
                                       desks.c.revoked).where(desks.c.token_hash == hash_token(token))).first()
        if r is None or r[4] is not None:
            return None
        return Desk(r[0], r[1], r[2], r[3], None)

    # -- providers ----------------------------------------------------------------------
    def providers(self) -> dict[str, Provider]:
        with self._providers_lock:
            if self._providers is None:
                with self.engine.connect() as conn:
                    rows = conn.execute(sa.select(providers.c.doc)).scalars().all()
                self._providers = {p.provider_number: p for p in (from_json(Provider, json.loads(d)) for d in rows)}
            return self._providers

    def rule_context(self) -> RuleContext:
        provs = self.providers()
        return RuleContext(today=self._today(), provider=provs.get, providers=provs.values)

    # -- reading ------------------------------------------------------------------------
    def person(self, desk: Desk | None, cpr: str, audit_action: str = "read") -> PersonState:
        """One person visible to ``desk`` (None: the server itself); audited."""
        with self.engine.begin() as conn:
            found = self._load_persons(conn, [cpr]).get(cpr)
            if found is None or (desk is not None and found[1] != desk.municipality):
                raise NotFound(cpr)
            conn.execute(sa.insert(audit).values(desk_id=desk.id if desk else None, at=_now(), cpr=cpr,
                                                 action=audit_action))
        self._cache_put([(cpr, found[0], found[2])])
        return found[2].state

    def pull(self, desk: Desk, cursor: int, limit: int = 1000) -> tuple[list[tuple[Any, ...]], int, bool]:
        """Changes after ``cursor`` visible to ``desk``, in sequence order.

        Returns ``(page, next_cursor, more)``; a page entry is one of
        ``(seq, "person", cpr, version, name, doc, tasks, municipality)`` (``doc``: the
        state without tasks and ``tasks``: the list of tasks, both JSON texts as stored),
        ``(seq, "removal", cpr, version)`` (the person left the desk's municipality) and
        ``(seq, "provider", number, doc)``. A person appears once, in its latest state;
        every person delivered is audited as read.
        """
        limit = max(1, min(int(limit), MAX_PAGE))
        m = desk.municipality
        with self.engine.begin() as conn:
            q = self._q
            merged: list[tuple[Any, ...]] = [
                (r[0], "person", r[1], r[2], r[3], r[4], r[5], m) for r in conn.exec_driver_sql(q(
                    "SELECT seq, cpr, version, name, doc, tasks FROM persons WHERE municipality = ? AND seq > ? "
                    "ORDER BY seq LIMIT ?"), (m, cursor, limit + 1))]
            merged += [(r[0], "removal", r[1], r[2]) for r in conn.exec_driver_sql(q(
                "SELECT seq, cpr, version FROM departures WHERE municipality = ? AND seq > ? ORDER BY seq LIMIT ?"),
                (m, cursor, limit + 1))]
            merged += [(r[0], "provider", r[1], r[2]) for r in conn.exec_driver_sql(q(
                "SELECT seq, provider_number, doc FROM providers WHERE seq > ? ORDER BY seq LIMIT ?"),
                (cursor, limit + 1))]
            merged.sort(key=lambda e: e[0])
            more = len(merged) > limit
            page = merged[:limit]
            at = _now()
            self._many(conn, "INSERT INTO audit (desk_id, at, cpr, action) VALUES (?, ?, ?, ?)",
                       [(desk.id, at, e[2], "pull" if e[1] == "person" else "pull:removal")
                        for e in page if e[1] != "provider"])
        next_cursor = page[-1][0] if page else cursor
        return page, next_cursor, more

    # -- push ---------------------------------------------------------------------------
    def push(self, desk: Desk, batch: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Decide every operation of ``batch`` (in order) in ONE transaction.

        Answers: ``applied`` (new version and sequence), ``duplicate`` (the stored answer
        of an op_id decided before), ``conflict`` (base version is not the current version:
        nothing applied, current state returned), ``rejected`` (a rule or the payload said
        no; reasons and current state returned), ``blocked`` (an earlier operation on the same
        person in this batch was not applied: not decided, not stored). Raises
        :class:`BodyMismatch` for an op_id reused with another body (nothing is written).
        """
        return self.push_batch(desk, batch)[0]

    def push_batch(self, desk: Desk, batch: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """:meth:`push`, and the log head after it."""
        if len(batch) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} operations per request")
        ctx = self.rule_context()
        at = _now()
        answers: list[dict[str, Any]] = []
        hashes = [body_hash(o) for o in batch]
        ids = [o["op_id"] for o in batch]
        dumps = codec.dumps
        with self._write() as (conn, head):
            stored: dict[str, tuple[str, str]] = {}
            for chunk in _chunks(list(dict.fromkeys(ids)), 500):
                sql = "SELECT op_id, body_hash, answer FROM ops WHERE op_id IN (%s)" % ",".join("?" * len(chunk))
                for r in conn.exec_driver_sql(self._q(sql), tuple(chunk)):
                    stored[r[0]] = (r[1], r[2])
            loaded = self._load_persons(conn, {o["cpr"] for o in batch if o["op_id"] not in stored})
            # cpr -> current state, for persons this desk may change (absent: None)
            states: dict[str, PersonState | None] = {c: (v[2].state if v[1] == desk.municipality else None)
                                                     for c, v in loaded.items()}

            def person(c: str) -> PersonState | None:
                """Another person's state for a rule (the cohabitant, the old number, a parent)."""
                if states.get(c) is not None:
                    return states[c]
                got = self._load_persons(conn, [c]).get(c) if isinstance(c, str) else None
                return got[2].state if got else None

            ctx = replace(ctx, person=person)
            dirty: dict[str, int] = {}  # cpr -> seq of its last change
            blocked: set[str] = set()
            new_ops: list[tuple[Any, ...]] = []
            new_changes: list[tuple[Any, ...]] = []
            audits: list[tuple[Any, ...]] = []
            for o, h in zip(batch, hashes):
                op_id = o["op_id"]
                cpr = o["cpr"]
                if op_id in stored:
                    if stored[op_id][0] != h:
                        raise BodyMismatch(op_id)
                    first = json.loads(stored[op_id][1])
                    if first["status"] in ("conflict", "rejected"):
                        # Later operations of the desk on this person were made on top of the
                        # refused one: their base version must not match by coincidence.
                        blocked.add(cpr)
                    answers.append({"op_id": op_id, "status": "duplicate", "answer": first})
                    continue
                state = states.get(cpr)  # None: absent or another municipality's
                if state is None:
                    ans = {"op_id": op_id, "status": "rejected", "reasons": [{"code": "not_found", "params": {}}]}
                elif cpr in blocked:
                    answers.append({"op_id": op_id, "status": "blocked", "version": state.version})
                    continue
                elif o["base_version"] != state.version:
                    ans = {"op_id": op_id, "status": "conflict", "version": state.version,
                           "state": to_json(state)}
                    blocked.add(cpr)
                else:
                    op = Operation(op_id, o["kind"], cpr, o["payload"], o["base_version"], o.get("case_id"))
                    try:
                        violations = [{"code": v.code, "params": to_json(v.params)}
                                      for v in ops_mod.check(state, op, ctx)]
                    except ops_mod.PayloadError as exc:
                        violations = [{"code": "rule.payload", "params": {"detail": str(exc)}}]
                    if violations:
                        ans = {"op_id": op_id, "status": "rejected", "reasons": violations,
                               "version": state.version, "state": to_json(state)}
                        blocked.add(cpr)
                    else:
                        new = ops_mod.apply(state, op, ctx)
                        states[cpr] = new
                        head[0] += 1
                        dirty[cpr] = head[0]
                        ans = {"op_id": op_id, "status": "applied", "version": new.version, "seq": head[0]}
                        new_changes.append((head[0], "op", cpr, op_id, at))
                text = dumps(ans)
                stored[op_id] = (h, text)
                new_ops.append((op_id, cpr, desk.id, h, ans["status"], ans.get("seq"), text, at))
                audits.append((desk.id, at, cpr, "push:" + ans["status"]))
                answers.append(ans)
            done = self._save_persons(conn, [
                (encode_person(states[c], loaded[c][2]), s, loaded[c][1])  # type: ignore[arg-type]
                for c, s in dirty.items()])
            self._many(conn, "INSERT INTO ops (op_id, cpr, desk_id, body_hash, status, seq, answer, at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", new_ops)
            self._many(conn, "INSERT INTO changes (seq, kind, key, op_id, at) VALUES (?, ?, ?, ?, ?)", new_changes)
            self._many(conn, "INSERT INTO audit (desk_id, at, cpr, action) VALUES (?, ?, ?, ?)", audits)
            final_head = head[0]
        self._cache_put([(c, v[0], v[2]) for c, v in loaded.items() if c not in dirty] + done)
        return answers, final_head

    # -- bulk load and CPR events --------------------------------------------------------
    def load(self, records: Iterable[dict[str, Any]], chunk: int = 2000) -> dict[str, int]:
        """Upsert persons and providers (JSON records ``{"type": "person"|"provider", ...}``).

        A person already on the server gets the next version; each write gets a sequence
        number, so every desk pulls it. A person whose municipality changed leaves a
        departure, so the old municipality's desks remove it.
        """
        counts = {"person": 0, "provider": 0}
        buf: list[dict[str, Any]] = []
        for rec in records:
            buf.append(rec)
            if len(buf) >= chunk:
                self._load_chunk(buf, counts)
                buf = []
        if buf:
            self._load_chunk(buf, counts)
        return counts

    def _load_chunk(self, recs: list[dict[str, Any]], counts: dict[str, int]) -> None:
        at = _now()
        pstates: dict[str, PersonState] = {}
        provs: dict[str, Provider] = {}
        for rec in recs:
            kind = rec.get("type")
            if kind == "person":
                st = from_json(PersonState, rec["state"])
                pstates[st.cpr] = st
            elif kind == "provider":
                pv = from_json(Provider, rec["provider"])
                provs[pv.provider_number] = pv
            else:
                raise ValueError(f"unknown record type {kind!r}")
        with self._write() as (conn, head):
            existing: dict[str, tuple[int, int]] = {}
            for ch in _chunks(list(pstates), 500):
                sql = "SELECT cpr, version, municipality FROM persons WHERE cpr IN (%s)" % ",".join("?" * len(ch))
                for r in conn.exec_driver_sql(self._q(sql), tuple(ch)):
                    existing[r[0]] = (int(r[1]), int(r[2]))
            writes, chg, aud = [], [], []
            for cpr, st in pstates.items():
                before = existing.get(cpr)
                if before is not None:
                    st = replace(st, version=max(st.version, before[0] + 1))
                head[0] += 1
                writes.append((encode_person(st), head[0], before[1] if before else None))
                chg.append((head[0], "load", cpr, None, at))
                aud.append((None, at, cpr, "load"))
            self._save_persons(conn, writes)
            if provs:
                have: set[str] = set()
                for ch in _chunks(list(provs), 500):
                    have |= set(conn.execute(sa.select(providers.c.provider_number)
                                             .where(providers.c.provider_number.in_(ch))).scalars())
                pins, pupd = [], []
                for num, pv in provs.items():
                    head[0] += 1
                    (pupd if num in have else pins).append((head[0], codec.dumps(to_json(pv)), num))
                    chg.append((head[0], "provider", num, None, at))
                self._many(conn, "INSERT INTO providers (seq, doc, provider_number) VALUES (?, ?, ?)", pins)
                self._many(conn, "UPDATE providers SET seq = ?, doc = ? WHERE provider_number = ?", pupd)
            self._many(conn, "INSERT INTO changes (seq, kind, key, op_id, at) VALUES (?, ?, ?, ?, ?)", chg)
            self._many(conn, "INSERT INTO audit (desk_id, at, cpr, action) VALUES (?, ?, ?, ?)", aud)
        counts["person"] += len(pstates)
        counts["provider"] += len(provs)
        if provs:
            with self._providers_lock:
                self._providers = None

    def ingest_events(self, desk: Desk | None, events: Sequence[dict[str, Any]],
                      event_types: dict[str, Any], suggest: Any = None) -> list[dict[str, Any]]:
        """CPR events in: record each on its person and create the manual task the table says.

        ``event_types``: code -> object with ``creates_task`` and ``due_days`` (the catalogue's
        events, from ``data/cpr_events.json``). ``suggest(code, state, today)`` names the
        suggested workaround for a new task. An event id seen before is answered ``duplicate``.
        An event whose ``data`` carries ``address`` (the domain codec's Address) moves the
        person there from the event date; a move to another municipality makes the old
        municipality's desks remove the person.
        """
        at = _now()
        today = self._today()
        answers: list[dict[str, Any]] = []
        with self._write() as (conn, head):
            dirty: dict[str, int] = {}
            new_events, chg, aud = [], [], []
            seen: dict[str, str] = {}
            ids = [e["id"] for e in events]
            for ch in _chunks(ids, 500):
                for r in conn.execute(sa.select(cpr_events.c.event_id, cpr_events.c.answer)
                                      .where(cpr_events.c.event_id.in_(ch))):
                    seen[r[0]] = r[1]
            loaded = self._load_persons(conn, {e["cpr"] for e in events if e["id"] not in seen})
            states: dict[str, PersonState] = {c: v[2].state for c, v in loaded.items()}
            for e in events:
                eid = e["id"]
                if eid in seen:
                    answers.append({"id": eid, "status": "duplicate", "answer": json.loads(seen[eid])})
                    continue
                etype = event_types.get(e["code"])
                cpr = e["cpr"]
                if etype is None:
                    answers.append({"id": eid, "status": "rejected", "reason": "unknown_event_code"})
                    continue
                st = states.get(cpr)
                if st is None:
                    answers.append({"id": eid, "status": "rejected", "reason": "unknown_person"})
                    continue
                try:
                    ev_date = date.fromisoformat(str(e["date"]))
                    received = date.fromisoformat(str(e["received"])) if e.get("received") else today
                except (KeyError, ValueError):
                    answers.append({"id": eid, "status": "rejected", "reason": "bad_date"})
                    continue
                data = dict(e.get("data") or {})
                address = None
                if data.get("address") is not None:
                    try:
                        address = from_json(Address, data["address"])
                        int(address.municipality_code), float(address.lat), float(address.lon)
                    except (KeyError, TypeError, ValueError):
                        answers.append({"id": eid, "status": "rejected", "reason": "bad_address"})
                        continue
                ev = CprEvent(eid, e["code"], ev_date, received, data)
                st = replace(st, events=st.events + (ev,))
                if address is not None and address != st.person.address:
                    st = replace(st, person=replace(st.person, address=address),
                                 addresses=st.addresses + (AddressEntry(ev_date, address),))
                task_id = None
                if etype.creates_task:
                    task_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "sygesikring-task:" + eid))
                    wid = None
                    if suggest is not None:
                        wid = suggest(e["code"], st, today)
                    st = replace(st, tasks=st.tasks + (Task(task_id, cpr, e["code"], eid, received,
                                                            received + timedelta(days=int(etype.due_days)),
                                                            workaround_id=wid),))
                st = replace(st, version=st.version + 1,
                             history=st.history + (HistoryEntry(at, "cpr_event", e["code"]),))
                states[cpr] = st
                head[0] += 1
                dirty[cpr] = head[0]
                ans = {"id": eid, "status": "applied", "cpr": cpr, "task_id": task_id, "version": st.version,
                       "seq": head[0]}
                new_events.append({"event_id": eid, "cpr": cpr, "code": e["code"],
                                   "answer": json.dumps(ans), "at": at})
                seen[eid] = new_events[-1]["answer"]
                chg.append((head[0], "event", cpr, None, at))
                aud.append((desk.id if desk else None, at, cpr, "event"))
                answers.append(ans)
            done = self._save_persons(conn, [(encode_person(states[c], loaded[c][2]), s, loaded[c][1])
                                             for c, s in dirty.items()])
            if new_events:
                conn.execute(sa.insert(cpr_events), new_events)
            self._many(conn, "INSERT INTO changes (seq, kind, key, op_id, at) VALUES (?, ?, ?, ?, ?)", chg)
            self._many(conn, "INSERT INTO audit (desk_id, at, cpr, action) VALUES (?, ?, ?, ?)", aud)
        self._cache_put(done)
        log.info("ingested %d CPR events (%s)", len(events),
                 ", ".join(sorted({mask(e["cpr"]) for e in events}))[:200])
        return answers

    # -- inspection (tests, bench, admin) ------------------------------------------------
    def all_persons(self) -> dict[str, PersonState]:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT doc, tasks FROM persons").all()
        return {s.cpr: s for s in (decode_person(d, t).state for d, t in rows)}

    def change_seqs(self) -> list[int]:
        with self.engine.connect() as conn:
            return [int(s) for s in conn.execute(sa.select(changes.c.seq).order_by(changes.c.seq)).scalars()]

    def applied_op_ids(self) -> list[str]:
        """Every op_id applied, once per application (the log of changes)."""
        with self.engine.connect() as conn:
            return [r for r in conn.execute(sa.select(changes.c.op_id).where(changes.c.op_id.is_not(None))
                                            .order_by(changes.c.seq)).scalars()]

    def audit_rows(self, cpr: str | None = None) -> list[tuple[int | None, str, str, str]]:
        q = sa.select(audit.c.desk_id, audit.c.at, audit.c.cpr, audit.c.action).order_by(audit.c.id)
        if cpr:
            q = q.where(audit.c.cpr == cpr)
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


_INSERT = re.compile(r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \([?, ]+\)$")


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def drop_all(url: str) -> None:
    """Remove every server table (tests on a shared PostgreSQL)."""
    engine = make_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
