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
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..domain import operations as ops_mod
from ..domain.cpr import mask
from ..domain.model import (
    CprEvent,
    HistoryEntry,
    Operation,
    PersonState,
    Provider,
    Task,
)
from ..domain.operations import RuleContext
from .codec import from_json, to_json

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_BATCH = 2000
MAX_PAGE = 5000

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
    sa.Column("doc", sa.Text, nullable=False),
    sa.Index("persons_municipality_seq", "municipality", "seq"),
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
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


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
        self.migrate()

    def close(self) -> None:
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
                metadata.create_all(conn)
                conn.execute(sa.insert(log_head).values(id=1, seq=0))
                conn.execute(sa.insert(server_meta).values(key="schema", value="1"))
                conn.execute(sa.insert(server_meta).values(key="created", value=_now()))
            # Later migrations: ``if current < 2: ...`` here, never editing the ones above.

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
        return RuleContext(today=self._today(), provider=provs.get)

    # -- reading ------------------------------------------------------------------------
    def person(self, desk: Desk | None, cpr: str, audit_action: str = "read") -> PersonState:
        """One person visible to ``desk`` (None: the server itself); audited."""
        with self.engine.begin() as conn:
            r = conn.execute(sa.select(persons.c.doc, persons.c.municipality).where(persons.c.cpr == cpr)).first()
            if r is None or (desk is not None and r[1] != desk.municipality):
                raise NotFound(cpr)
            conn.execute(sa.insert(audit).values(desk_id=desk.id if desk else None, at=_now(), cpr=cpr,
                                                 action=audit_action))
        return from_json(PersonState, json.loads(r[0]))

    def pull(self, desk: Desk, cursor: int, limit: int = 1000) -> tuple[list[tuple[int, str, str]], int, bool]:
        """Changes after ``cursor`` visible to ``desk``, in sequence order.

        Returns ``([(seq, kind, doc_json)], next_cursor, more)``. A person appears once per
        page, in its latest state; every person delivered is audited as read.
        """
        limit = max(1, min(int(limit), MAX_PAGE))
        with self.engine.begin() as conn:
            prow = conn.execute(
                sa.select(persons.c.seq, persons.c.cpr, persons.c.doc)
                .where(persons.c.municipality == desk.municipality, persons.c.seq > cursor)
                .order_by(persons.c.seq).limit(limit + 1)).all()
            vrow = conn.execute(
                sa.select(providers.c.seq, providers.c.provider_number, providers.c.doc)
                .where(providers.c.seq > cursor).order_by(providers.c.seq).limit(limit + 1)).all()
            merged = sorted([(r[0], "person", r[1], r[2]) for r in prow] +
                            [(r[0], "provider", r[1], r[2]) for r in vrow])
            more = len(merged) > limit
            page = merged[:limit]
            at = _now()
            reads = [{"desk_id": desk.id, "at": at, "cpr": key, "action": "pull"}
                     for _s, kind, key, _d in page if kind == "person"]
            if reads:
                conn.execute(sa.insert(audit), reads)
        next_cursor = page[-1][0] if page else cursor
        return [(s, kind, doc) for s, kind, _k, doc in page], next_cursor, more

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
        if len(batch) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} operations per request")
        ctx = self.rule_context()
        at = _now()
        answers: list[dict[str, Any]] = []
        hashes = [body_hash(o) for o in batch]
        ids = [o["op_id"] for o in batch]
        with self._write() as (conn, head):
            stored: dict[str, tuple[str, str]] = {}
            for chunk in _chunks(list(dict.fromkeys(ids)), 500):
                for r in conn.execute(sa.select(ops.c.op_id, ops.c.body_hash, ops.c.answer)
                                      .where(ops.c.op_id.in_(chunk))):
                    stored[r[0]] = (r[1], r[2])
            states: dict[str, PersonState | None] = dict.fromkeys({o["cpr"] for o in batch})
            for chunk in _chunks(list(states), 500):
                for r in conn.execute(sa.select(persons.c.cpr, persons.c.doc, persons.c.municipality)
                                      .where(persons.c.cpr.in_(chunk))):
                    if r[2] == desk.municipality:
                        states[r[0]] = from_json(PersonState, json.loads(r[1]))
            dirty: dict[str, int] = {}  # cpr -> seq of its last change
            blocked: set[str] = set()
            new_ops: list[dict[str, Any]] = []
            new_changes: list[dict[str, Any]] = []
            audits: list[dict[str, Any]] = []
            for o, h in zip(batch, hashes):
                op_id = o["op_id"]
                if op_id in stored:
                    if stored[op_id][0] != h:
                        raise BodyMismatch(op_id)
                    first = json.loads(stored[op_id][1])
                    if first["status"] in ("conflict", "rejected"):
                        # Later operations of the desk on this person were made on top of the
                        # refused one: their base version must not match by coincidence.
                        blocked.add(o["cpr"])
                    answers.append({"op_id": op_id, "status": "duplicate", "answer": first})
                    continue
                cpr = o["cpr"]
                state = states[cpr]  # None: absent or another municipality's
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
                        new_changes.append({"seq": head[0], "kind": "op", "key": cpr, "op_id": op_id, "at": at})
                stored[op_id] = (h, json.dumps(ans, ensure_ascii=False))
                new_ops.append({"op_id": op_id, "cpr": cpr, "desk_id": desk.id, "body_hash": h,
                                "status": ans["status"], "seq": ans.get("seq"), "answer": stored[op_id][1], "at": at})
                audits.append({"desk_id": desk.id, "at": at, "cpr": cpr, "action": "push:" + ans["status"]})
                answers.append(ans)
            self._save_states(conn, {c: (states[c], s) for c, s in dirty.items()})  # type: ignore[misc]
            if new_ops:
                conn.execute(sa.insert(ops), new_ops)
            if new_changes:
                conn.execute(sa.insert(changes), new_changes)
            if audits:
                conn.execute(sa.insert(audit), audits)
        return answers

    def _save_states(self, conn: Connection, states: dict[str, tuple[PersonState, int]]) -> None:
        rows = [{"k": cpr, "municipality": st.person.address.municipality_code, "version": st.version,
                 "seq": seq, "doc": json.dumps(to_json(st), ensure_ascii=False)} for cpr, (st, seq) in states.items()]
        if rows:
            conn.execute(sa.update(persons).where(persons.c.cpr == sa.bindparam("k")), rows)

    # -- bulk load and CPR events --------------------------------------------------------
    def load(self, records: Iterable[dict[str, Any]], chunk: int = 2000) -> dict[str, int]:
        """Upsert persons and providers (JSON records ``{"type": "person"|"provider", ...}``).

        A person already on the server gets the next version; each write gets a sequence
        number, so every desk pulls it.
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
        with self._write() as (conn, head):
            pstates = {}
            provs = {}
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
            existing: dict[str, int] = {}
            for ch in _chunks(list(pstates), 500):
                for r in conn.execute(sa.select(persons.c.cpr, persons.c.version).where(persons.c.cpr.in_(ch))):
                    existing[r[0]] = int(r[1])
            ins, upd, chg, aud = [], [], [], []
            for cpr, st in pstates.items():
                if cpr in existing:
                    st = replace(st, version=max(st.version, existing[cpr] + 1))
                head[0] += 1
                row = {"municipality": st.person.address.municipality_code, "version": st.version,
                       "seq": head[0], "doc": json.dumps(to_json(st), ensure_ascii=False)}
                (upd if cpr in existing else ins).append({**row, ("k" if cpr in existing else "cpr"): cpr})
                chg.append({"seq": head[0], "kind": "load", "key": cpr, "op_id": None, "at": at})
                aud.append({"desk_id": None, "at": at, "cpr": cpr, "action": "load"})
            if ins:
                conn.execute(sa.insert(persons), ins)
            if upd:
                conn.execute(sa.update(persons).where(persons.c.cpr == sa.bindparam("k")), upd)
            if provs:
                have = set()
                for ch in _chunks(list(provs), 500):
                    have |= set(conn.execute(sa.select(providers.c.provider_number)
                                             .where(providers.c.provider_number.in_(ch))).scalars())
                pins, pupd = [], []
                for num, pv in provs.items():
                    head[0] += 1
                    row = {"seq": head[0], "doc": json.dumps(to_json(pv), ensure_ascii=False)}
                    (pupd if num in have else pins).append({**row, ("k" if num in have else "provider_number"): num})
                    chg.append({"seq": head[0], "kind": "provider", "key": num, "op_id": None, "at": at})
                if pins:
                    conn.execute(sa.insert(providers), pins)
                if pupd:
                    conn.execute(sa.update(providers).where(providers.c.provider_number == sa.bindparam("k")), pupd)
            if chg:
                conn.execute(sa.insert(changes), chg)
            if aud:
                conn.execute(sa.insert(audit), aud)
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
        """
        at = _now()
        today = self._today()
        answers: list[dict[str, Any]] = []
        with self._write() as (conn, head):
            states: dict[str, PersonState] = {}
            dirty: dict[str, int] = {}
            new_events, chg, aud = [], [], []
            seen: dict[str, str] = {}
            ids = [e["id"] for e in events]
            for ch in _chunks(ids, 500):
                for r in conn.execute(sa.select(cpr_events.c.event_id, cpr_events.c.answer)
                                      .where(cpr_events.c.event_id.in_(ch))):
                    seen[r[0]] = r[1]
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
                if cpr not in states:
                    r = conn.execute(sa.select(persons.c.doc).where(persons.c.cpr == cpr)).first()
                    if r is not None:
                        states[cpr] = from_json(PersonState, json.loads(r[0]))
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
                ev = CprEvent(eid, e["code"], ev_date, received, dict(e.get("data") or {}))
                st = replace(st, events=st.events + (ev,))
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
                chg.append({"seq": head[0], "kind": "event", "key": cpr, "op_id": None, "at": at})
                aud.append({"desk_id": desk.id if desk else None, "at": at, "cpr": cpr, "action": "event"})
                answers.append(ans)
            self._save_states(conn, {c: (states[c], s) for c, s in dirty.items()})
            if new_events:
                conn.execute(sa.insert(cpr_events), new_events)
            if chg:
                conn.execute(sa.insert(changes), chg)
            if aud:
                conn.execute(sa.insert(audit), aud)
        log.info("ingested %d CPR events (%s)", len(events),
                 ", ".join(sorted({mask(e["cpr"]) for e in events}))[:200])
        return answers

    # -- inspection (tests, bench, admin) ------------------------------------------------
    def all_persons(self) -> dict[str, PersonState]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(persons.c.doc)).scalars().all()
        return {s.cpr: s for s in (from_json(PersonState, json.loads(d)) for d in rows)}

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
