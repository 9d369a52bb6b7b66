"""The server's database, as the HTTP app and the ``sygesikring-server`` command use it.

One code path on SQLite and PostgreSQL (SQLAlchemy Core). The parts:

- :mod:`.schema` — the tables and their numbered migrations (the audit table append-only by
  database triggers);
- :mod:`.repository` — the SQL (bulk inserts by :meth:`~.repository.Repository.copy_rows` on
  PostgreSQL) and the per-process cache of decoded states;
- :mod:`.sync_service` — push, pull, person reads and CPR events;
- this module — :class:`Storage`, which opens the database and holds them together, plus
  desks (credentials), providers, bulk load and inspection for tests and admin.

The unit is the person: ``persons.doc`` holds the whole :class:`PersonState` (without its
tasks, byte for byte the desk's ``persons.doc``) with its ``version``; ``tasks`` the JSON list
of its tasks. ``departures`` records a person leaving a municipality, so that municipality's
desks pull a removal. Every write takes the next number from the single ``log_head`` row
inside its transaction, so a pull by cursor never skips a change that committed late — with
one server process or many on one PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..domain.model import PersonState, Provider
from ..domain.operations import RuleContext
from . import caseworkers as caseworkers_mod
from . import codec, notify
from . import schema as schema_mod
from .codec import decode_person, encode_person, from_json, to_json
from .repository import CACHE_SIZE, Repository, StateCache, make_engine, normalise_url
from .schema import SCHEMA_VERSION, SchemaTooNew, audit, changes, desks, ops, persons, providers
from .sync_service import (
    MAX_BATCH,
    MAX_PAGE,
    BodyMismatch,
    Desk,
    NotFound,
    OpIdInUse,
    SyncService,
    body_hash,
)

__all__ = ["audit", "changes", "ops", "persons", "providers", "CACHE_SIZE", "MAX_BATCH", "MAX_PAGE", "SCHEMA_VERSION", "BodyMismatch", "Desk", "NotFound",
           "OpIdInUse", "SchemaTooNew", "Storage", "body_hash", "drop_all", "hash_token", "make_engine",
           "normalise_url"]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Storage:
    """The server's database. Thread-safe: every call runs in its own transaction."""

    def __init__(self, url: str, today: Any = None) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._today = today or date.today
        self._providers: tuple[int, dict[str, Provider]] | None = None  # (highest provider seq, providers)
        self._providers_lock = threading.Lock()
        self.cache = StateCache(CACHE_SIZE)
        # Every committed write wakes the desks long-polling for changes (notify).
        self.repo = Repository(self.engine, self.cache, on_write=notify.in_transaction,
                               on_commit=lambda: notify.committed(self))
        self.sync = SyncService(self.repo, self.rule_context, self._today)
        schema_mod.migrate(self.engine)

    def close(self) -> None:
        notify.closed(self)
        self.engine.dispose()

    def head(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(schema_mod.log_head.c.seq)
                                    .where(schema_mod.log_head.c.id == 1)).scalar_one())

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
                name=name, municipality=municipality, role=role, token_hash=hash_token(token),
                created=schema_mod.now()))
            desk_id = int(res.inserted_primary_key[0])
        return Desk(desk_id, name, municipality, role), token

    def revoke_desk(self, desk_id: int) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(sa.update(desks).where(desks.c.id == desk_id, desks.c.revoked.is_(None))
                               .values(revoked=schema_mod.now()))
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

    # -- caseworkers (see :mod:`.caseworkers`) ------------------------------------------------
    def add_caseworker(self, municipality: int, initials: str, name: str, team_lead: bool = False,
                       secret: str | None = None) -> tuple[caseworkers_mod.Caseworker, str]:
        """A new caseworker and the personal secret (shown once, stored only as a hash)."""
        return caseworkers_mod.add(self.engine, municipality, initials, name, team_lead, secret)

    def revoke_caseworker(self, municipality: int, initials: str) -> bool:
        return caseworkers_mod.revoke(self.engine, municipality, initials)

    def list_caseworkers(self, municipality: int | None = None,
                         live_only: bool = False) -> list[caseworkers_mod.Caseworker]:
        return caseworkers_mod.listing(self.engine, municipality, live_only)

    def sign_in(self, desk: Desk, initials: str, secret: str) -> tuple[caseworkers_mod.Session, str]:
        """A caseworker of the desk's municipality signs in on it; raises SignInRefused."""
        if desk.role != "desk" or desk.municipality is None:
            raise caseworkers_mod.SignInRefused()
        return caseworkers_mod.sign_in(self.engine, desk.id, desk.municipality, initials, secret)

    def session_for(self, desk: Desk, token: str) -> caseworkers_mod.Session | None:
        return caseworkers_mod.session_for(self.engine, desk.id, token)

    def sign_out(self, desk: Desk, token: str) -> bool:
        return caseworkers_mod.sign_out(self.engine, desk.id, token)

    # -- providers ----------------------------------------------------------------------
    def providers(self) -> dict[str, Provider]:
        """Every provider. Kept decoded while the highest provider sequence number is
        unchanged: a load by another process (or server) is seen at the next call."""
        with self.engine.connect() as conn:
            top = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(providers.c.seq), 0))).scalar_one())
        with self._providers_lock:
            if self._providers is None or self._providers[0] != top:
                with self.engine.connect() as conn:
                    rows = conn.execute(sa.select(providers.c.doc)).scalars().all()
                self._providers = (top, {p.provider_number: p
                                         for p in (from_json(Provider, json.loads(d)) for d in rows)})
            return self._providers[1]

    def rule_context(self) -> RuleContext:
        provs = self.providers()
        return RuleContext(today=self._today(), provider=provs.get, providers=provs.values)

    # -- the sync service ---------------------------------------------------------------
    def person(self, desk: Desk | None, cpr: str, audit_action: str = "read",
               caseworker: str | None = None) -> PersonState:
        """One person visible to ``desk`` (None: the server itself); every attempt audited."""
        return self.sync.person(desk, cpr, audit_action, caseworker)

    def pull(self, desk: Desk, cursor: int, limit: int = 1000,
             caseworker: str | None = None) -> tuple[list[tuple[Any, ...]], int, bool]:
        """See :meth:`.sync_service.SyncService.pull`."""
        return self.sync.pull(desk, cursor, limit, caseworker)

    def push(self, desk: Desk, batch: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The answers of :meth:`push_batch`."""
        return self.push_batch(desk, batch)[0]

    def push_batch(self, desk: Desk, batch: Sequence[dict[str, Any]],
                   caseworker: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """See :meth:`.sync_service.SyncService.push_batch`."""
        return self.sync.push_batch(desk, batch, caseworker)

    def ingest_events(self, desk: Desk | None, events: Sequence[dict[str, Any]],
                      event_types: dict[str, Any], suggest: Any = None) -> list[dict[str, Any]]:
        """See :meth:`.sync_service.SyncService.ingest_events`."""
        return self.sync.ingest_events(desk, events, event_types, suggest)

    # -- bulk load ------------------------------------------------------------------------
    def load(self, records: Iterable[dict[str, Any]], chunk: int = 2000,
             on_caseworker: Any = None) -> dict[str, int]:
        """Upsert persons and providers (JSON records ``{"type": "person"|"provider", ...}``)
        and add caseworkers (``{"type": "caseworker", "municipality", "initials", "name",
        "team_lead", "secret"}``: a demo or training team whose secrets are known; one that
        exists already is left as it is; ``on_caseworker(caseworker, secret)`` is told each one
        added). A person's tasks carry their claims (``assignee``).

        A person already on the server gets the next version; each write gets a sequence
        number, so every desk pulls it. A person whose municipality changed leaves a
        departure, so the old municipality's desks remove it.
        """
        counts = {"person": 0, "provider": 0, "caseworker": 0}
        buf: list[dict[str, Any]] = []
        known = {(c.municipality, c.initials) for c in self.list_caseworkers()}
        for rec in records:
            if isinstance(rec, dict) and rec.get("type") == "caseworker":
                key = (int(rec["municipality"]), caseworkers_mod.clean_initials(str(rec["initials"])))
                if key not in known:
                    added, secret = self.add_caseworker(key[0], key[1], str(rec.get("name") or key[1]),
                                                        bool(rec.get("team_lead")), rec.get("secret") or None)
                    if on_caseworker is not None:
                        on_caseworker(added, secret)
                    known.add(key)
                    counts["caseworker"] += 1
                continue
            buf.append(rec)
            if len(buf) >= chunk:
                self._load_chunk(buf, counts)
                buf = []
        if buf:
            self._load_chunk(buf, counts)
        return counts

    def _load_chunk(self, recs: list[dict[str, Any]], counts: dict[str, int]) -> None:
        at = schema_mod.now()
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
        repo = self.repo
        with repo.write() as (conn, head):
            existing = repo.person_heads(conn, pstates)
            writes, chg, aud = [], [], []
            for cpr, st in pstates.items():
                before = existing.get(cpr)
                if before is not None:
                    st = replace(st, version=max(st.version, before[0] + 1))
                head[0] += 1
                writes.append((encode_person(st), head[0], before[1] if before else None))
                chg.append((head[0], "load", cpr, None, at))
                aud.append((None, at, cpr, "load", None, "allowed"))
            repo.save_persons(conn, writes)
            if provs:
                have = {r[0] for r in repo.select_in(conn, "providers", ("provider_number",), "provider_number",
                                                     provs)}
                pins, pupd = [], []
                for num, pv in provs.items():
                    head[0] += 1
                    (pupd if num in have else pins).append((head[0], codec.dumps(to_json(pv)), num))
                    chg.append((head[0], "provider", num, None, at))
                repo.insert_rows(conn, "providers", ("seq", "doc", "provider_number"), pins)
                repo.update_rows(conn, "providers", ("seq", "doc"), "provider_number", pupd)
            repo.add_changes(conn, chg)
            repo.add_audit(conn, aud)
        counts["person"] += len(pstates)
        counts["provider"] += len(provs)

    # -- the fault-cost report ------------------------------------------------------------
    def report(self, start: date, stop: date, municipality: int | None = None) -> Any:
        """The :class:`~sygesikring_tui.fault_report.Report` over every desk's work (of one
        municipality, or all)."""
        from ..catalogue import load_catalogue
        from ..fault_report import Facts, build, doc_facts

        facts = Facts()
        with self.engine.connect() as conn:
            for muni, tasks, doc in self.repo.report_persons(conn, municipality):
                facts.extend(doc_facts(tasks, doc, muni))
        jira = {w.id: w.jira for w in load_catalogue().workarounds.values()}
        return build(facts, start, stop, jira, municipality)

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
        """``(desk_id, at, cpr, action)`` in order; :mod:`.audit` reads the whole row."""
        q = sa.select(audit.c.desk_id, audit.c.at, audit.c.cpr, audit.c.action).order_by(audit.c.id)
        if cpr:
            q = q.where(audit.c.cpr == cpr)
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def drop_all(url: str) -> None:
    """Remove every server table (tests on a shared PostgreSQL)."""
    engine = make_engine(url)
    try:
        schema_mod.drop_all(engine)
    finally:
        engine.dispose()
