"""The sync service: what a desk's push and pull, a person read and the CPR feed do.

Every decision runs in ONE write transaction holding the log head (see
:meth:`.repository.Repository.write`), so sequence numbers are contiguous and committed in
order across every server process on the database.

``ops`` keeps the answer to every decided operation under its ``op_id`` forever, for the desk
that sent it: a retry by that desk gets the stored answer (duplicate) and nothing is applied
twice; any other desk presenting that ``op_id`` is refused (:class:`OpIdInUse`) and learns
nothing about it.

Every access attempt to a person is one audit row — allowed, refused (another municipality's
person) or not_found (no such CPR) — in the same transaction as the access.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ..domain import cpr_event_tasks
from ..domain import operations as ops_mod
from ..domain.cpr import mask
from ..domain.model import Address, AddressEntry, CprEvent, HistoryEntry, Operation, PersonState, Task
from ..domain.operations import RuleContext
from . import codec
from .caseworkers import Identities
from .codec import encode_person, from_json, to_json
from .repository import Repository
from .schema import now

log = logging.getLogger(__name__)

MAX_BATCH = 2000
MAX_PAGE = 10000
MAX_JSON_DEPTH = 32

ALLOWED, REFUSED, NOT_FOUND = "allowed", "refused", "not_found"


class NotFound(Exception):
    """A person the caller may not see (absent or of another municipality)."""


class BodyMismatch(Exception):
    """An op_id seen before, from this desk, arrived with a different body (HTTP 422)."""

    def __init__(self, op_id: str) -> None:
        self.op_id = op_id
        super().__init__(f"op_id {op_id} was used before with a different body")


class OpIdInUse(Exception):
    """An op_id another desk already used (HTTP 409): nothing about it is told."""

    def __init__(self, op_id: str) -> None:
        self.op_id = op_id
        super().__init__("op_id in use")


@dataclass(frozen=True)
class Desk:
    id: int
    name: str
    municipality: int | None
    role: str
    revoked: str | None = None


def _c_encoder(sort_keys: bool, allow_nan: bool) -> Any:
    """``json.JSONEncoder(sort_keys=sort_keys, allow_nan=allow_nan, ensure_ascii=False,
    separators=(",", ":")).encode`` without making the C encoder again on every call (its
    ``encode`` does, a third of its cost on an operation). The same text for any value
    without cycles (JSON decoded from a request never has one)."""
    from json import encoder

    enc = json.JSONEncoder(sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"), allow_nan=allow_nan,
                           check_circular=False)
    if encoder.c_make_encoder is None:
        return enc.encode
    once = encoder.c_make_encoder(None, enc.default, encoder.encode_basestring, None, ":", ",", sort_keys, False,
                                  allow_nan)
    return lambda value: "".join(once(value, 0))


_strict_text = _c_encoder(sort_keys=False, allow_nan=False)
_hash_text = _c_encoder(sort_keys=True, allow_nan=True)


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a decoded JSON value cannot be stored and sent on (None: it can): a lone
    surrogate (not Unicode, so no UTF-8 for the database), a non-finite number (not JSON),
    nesting deeper than MAX_JSON_DEPTH.

    The common case is answered by the C encoder (~3 us instead of ~10 us a payload): a value
    it encodes with finite numbers into text that is valid UTF-8 and holds no more brackets
    than the depth allowed is fine; anything else is judged field by field."""
    try:
        text = _strict_text(value)
        text.encode("utf-8")
    except (ValueError, TypeError, RecursionError):  # (UnicodeEncodeError is a ValueError)
        return _json_problem(value, depth)
    if depth + text.count("{") + text.count("[") <= MAX_JSON_DEPTH:  # (brackets in text only overcount)
        return None
    return _json_problem(value, depth)


def _json_problem(value: Any, depth: int = 0) -> str | None:
    if depth > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text is not valid Unicode (a lone surrogate)"
        return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "a number that is not finite"
    if isinstance(value, dict):
        for k, v in value.items():
            why = _json_problem(k, depth + 1) or _json_problem(v, depth + 1)
            if why:
                return why
        return None
    if isinstance(value, (list, tuple)):
        for v in value:
            why = _json_problem(v, depth + 1)
            if why:
                return why
        return None
    return None  # dates and the like: made by the validation itself


def body_hash(op: dict[str, Any]) -> str:
    """The identity of an operation's body: everything the desk sent about it."""
    body = {k: op.get(k) for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
    # The same text as json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    # without building an encoder per operation; stored hashes must never change.
    # (surrogatepass: a hostile body with an unpaired surrogate still gets a hash; the rules
    # then reject it instead of the server failing)
    return hashlib.sha256(_hash_text(body).encode("utf-8", "surrogatepass")).hexdigest()


class SyncService:
    """Push, pull, person reads and CPR events over one :class:`Repository`."""

    def __init__(self, repo: Repository, rule_context: Callable[[], RuleContext], today: Callable[[], date]) -> None:
        self.repo = repo
        self.rule_context = rule_context
        self.today = today

    # -- reading ------------------------------------------------------------------------
    def person(self, desk: Desk | None, cpr: str, action: str = "read", caseworker: str | None = None) -> PersonState:
        """One person visible to ``desk`` (None: the server itself). Every attempt is audited,
        the refused ones too; a refused one raises :class:`NotFound`."""
        repo = self.repo
        with repo.engine.begin() as conn:
            found = repo.load_persons(conn, [cpr]).get(cpr)
            if found is None:
                result = NOT_FOUND
            elif desk is not None and found[1] != desk.municipality:
                result = REFUSED
            else:
                result = ALLOWED
            repo.add_audit(conn, [(desk.id if desk else None, now(), cpr, action, caseworker, result)])
        if found is None or result != ALLOWED:
            raise NotFound(cpr)
        repo.cache.put([(cpr, found[0], found[2])])
        return found[2].state

    def pull(self, desk: Desk, cursor: int, limit: int = 1000,
             caseworker: str | None = None) -> tuple[list[tuple[Any, ...]], int, bool]:
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
        repo = self.repo
        with repo.engine.begin() as conn:
            merged: list[tuple[Any, ...]] = [(r[0], "person", r[1], r[2], r[3], r[4], r[5], m)
                                             for r in repo.changed_persons(conn, m, cursor, limit + 1)]
            merged += [(r[0], "removal", r[1], r[2]) for r in repo.departures_after(conn, m, cursor, limit + 1)]
            merged += [(r[0], "provider", r[1], r[2]) for r in repo.providers_after(conn, cursor, limit + 1)]
            merged.sort(key=lambda e: e[0])
            more = len(merged) > limit
            page = merged[:limit]
            at = now()
            repo.add_audit(conn, [(desk.id, at, e[2], "pull" if e[1] == "person" else "pull:removal", caseworker,
                                   ALLOWED) for e in page if e[1] != "provider"])
        next_cursor = page[-1][0] if page else cursor
        return page, next_cursor, more

    # -- push ---------------------------------------------------------------------------
    def push_batch(self, desk: Desk, batch: Sequence[dict[str, Any]],
                   caseworker: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """Decide every operation of ``batch`` (in order) in ONE transaction; the answers and
        the log head after it.

        Answers: ``applied`` (new version and sequence), ``duplicate`` (the stored answer
        of an op_id this desk had decided before), ``conflict`` (base version is not the
        current version: nothing applied, current state returned), ``rejected`` (a rule or the
        payload said no, or the person is not this desk's to change; reasons returned),
        ``blocked`` (an earlier operation on the same person in this batch was not applied:
        not decided, not stored). Raises :class:`OpIdInUse` for an op_id another desk used and
        :class:`BodyMismatch` for one this desk reused with another body (nothing is written).

        An operation in the name of a caseworker (``payload.author``) who was not signed in on
        this desk when it was made, or of another municipality, is rejected with the reason
        ``caseworker.*`` (see :mod:`.caseworkers`); its audit row names the caseworker.
        """
        if len(batch) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} operations per request")
        repo = self.repo
        ctx = self.rule_context()
        at = now()
        answers: list[dict[str, Any]] = []
        hashes = [body_hash(o) for o in batch]
        dumps = codec.dumps
        with repo.write() as (conn, head):
            stored = repo.stored_ops(conn, dict.fromkeys(o["op_id"] for o in batch))
            for op_id, (owner, _h, _a) in stored.items():
                if owner != desk.id:
                    raise OpIdInUse(op_id)
            loaded = repo.load_persons(conn, {o["cpr"] for o in batch if o["op_id"] not in stored})
            # cpr -> current state, for persons this desk may change (absent: None)
            states: dict[str, PersonState | None] = {c: (v[2].state if v[1] == desk.municipality else None)
                                                     for c, v in loaded.items()}

            def person(c: str) -> PersonState | None:
                """Another person's state for a rule (the cohabitant, the old number, a parent)."""
                if states.get(c) is not None:
                    return states[c]
                got = repo.load_persons(conn, [c]).get(c) if isinstance(c, str) else None
                return got[2].state if got else None

            who = Identities(conn, desk.id, desk.municipality)
            ctx = replace(ctx, person=person, team_lead=who.team_lead)
            dirty: dict[str, int] = {}  # cpr -> seq of its last change
            blocked: set[str] = set()
            new_ops: list[tuple[Any, ...]] = []
            new_changes: list[tuple[Any, ...]] = []
            audits: list[tuple[Any, ...]] = []
            for o, h in zip(batch, hashes):
                op_id = o["op_id"]
                cpr = o["cpr"]
                if op_id in stored:
                    if stored[op_id][1] != h:
                        raise BodyMismatch(op_id)
                    first = json.loads(stored[op_id][2])
                    if first["status"] in ("conflict", "rejected"):
                        # Later operations of the desk on this person were made on top of the
                        # refused one: their base version must not match by coincidence.
                        blocked.add(cpr)
                    answers.append({"op_id": op_id, "status": "duplicate", "answer": first})
                    audits.append((desk.id, at, cpr, "push:duplicate", caseworker, ALLOWED))  # (may hold a state)
                    continue
                state = states.get(cpr)  # None: absent or another municipality's
                result = ALLOWED
                payload = o["payload"]
                author = payload.get("author") if isinstance(payload, dict) else None
                named = author[:64] if isinstance(author, str) and author else caseworker
                not_theirs = who.problem(payload)
                if state is None:
                    result = REFUSED if cpr in loaded else NOT_FOUND
                    ans = {"op_id": op_id, "status": "rejected", "reasons": [{"code": "not_found", "params": {}}]}
                elif cpr in blocked:
                    answers.append({"op_id": op_id, "status": "blocked", "version": state.version})
                    continue
                elif not_theirs is not None:
                    result = REFUSED
                    named_in = payload.get("claimant") if not_theirs == "caseworker.unknown" and \
                        author in who.by_initials else author
                    ans = {"op_id": op_id, "status": "rejected", "reasons": [{"code": not_theirs,
                                                                              "params": {"by": str(named_in or "")[:64]}}],
                           "version": state.version, "state": to_json(state)}
                    blocked.add(cpr)
                elif o["base_version"] != state.version:
                    ans = {"op_id": op_id, "status": "conflict", "version": state.version,
                           "state": to_json(state)}
                    blocked.add(cpr)
                else:
                    op = Operation(op_id, o["kind"], cpr, o["payload"], o["base_version"], o.get("case_id"))
                    new = None
                    why = json_problem(o["payload"])
                    try:
                        if why:  # text the database cannot hold (a lone surrogate), no JSON number
                            raise ops_mod.PayloadError(why)
                        violations = [{"code": v.code, "params": to_json(v.params)}
                                      for v in ops_mod.check(state, op, ctx)]
                        if not violations:
                            new = ops_mod.apply(state, op, ctx)
                    except ops_mod.PayloadError as exc:
                        violations = [{"code": "rule.payload", "params": {"detail": str(exc)}}]
                    except Exception:
                        # A rule-book fault on one operation: refuse that one (logged with its
                        # traceback), never fail the whole batch with a 500 the desk retries forever.
                        log.exception("operation %s (%s on %s) failed in the rule book", op_id, o["kind"], mask(cpr))
                        violations = [{"code": "server.error", "params": {
                            "detail": "the server could not decide this operation"}}]
                    if violations or new is None:
                        ans = {"op_id": op_id, "status": "rejected", "reasons": violations,
                               "version": state.version, "state": to_json(state)}
                        blocked.add(cpr)
                    else:
                        states[cpr] = new
                        head[0] += 1
                        dirty[cpr] = head[0]
                        ans = {"op_id": op_id, "status": "applied", "version": new.version, "seq": head[0]}
                        new_changes.append((head[0], "op", cpr, op_id, at))
                text = dumps(ans)
                stored[op_id] = (desk.id, h, text)
                new_ops.append((op_id, cpr, desk.id, h, ans["status"], ans.get("seq"), text, at))
                audits.append((desk.id, at, cpr, "push:" + ans["status"], named, result))
                answers.append(ans)
            done = repo.save_persons(conn, [
                (encode_person(states[c], loaded[c][2]), s, loaded[c][1])  # type: ignore[arg-type]
                for c, s in dirty.items()])
            repo.add_ops(conn, new_ops)
            repo.add_changes(conn, new_changes)
            repo.add_audit(conn, audits)
            final_head = head[0]
        repo.cache.put([(c, v[0], v[2]) for c, v in loaded.items() if c not in dirty] + done)
        return answers, final_head

    # -- CPR events ---------------------------------------------------------------------
    def ingest_events(self, desk: Desk | None, events: Sequence[dict[str, Any]], event_types: dict[str, Any],
                      suggest: Callable[[str, PersonState, date], str | None] | None = None) -> list[dict[str, Any]]:
        """CPR events in: record each on its person and create the manual task the rule says
        (:mod:`sygesikring_tui.domain.cpr_event_tasks`).

        ``event_types``: code -> the catalogue's event type. ``suggest(code, state, today)``
        names the suggested workaround for a new task (None: no suggestion). An event id seen
        before is answered ``duplicate``. An event whose ``data`` carries ``address`` (the
        domain codec's Address) moves the person there from the event date; a move to another
        municipality makes the old municipality's desks remove the person.
        """
        repo = self.repo
        at = now()
        today = self.today()
        answers: list[dict[str, Any]] = []
        with repo.write() as (conn, head):
            dirty: dict[str, int] = {}
            new_events, chg, aud = [], [], []
            seen: dict[str, str] = {r[0]: r[1] for r in repo.select_in(
                conn, "cpr_events", ("event_id", "answer"), "event_id", [e["id"] for e in events])}
            loaded = repo.load_persons(conn, {e["cpr"] for e in events if e["id"] not in seen})
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
                    aud.append((desk.id if desk else None, at, cpr, "event", None, NOT_FOUND))
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
                    except (KeyError, TypeError, ValueError, AttributeError):
                        answers.append({"id": eid, "status": "rejected", "reason": "bad_address"})
                        continue
                ev = CprEvent(eid, e["code"], ev_date, received, data)
                st = replace(st, events=st.events + (ev,))
                if address is not None and address != st.person.address:
                    st = replace(st, person=replace(st.person, address=address),
                                 addresses=st.addresses + (AddressEntry(ev_date, address),))
                task_id = None
                if cpr_event_tasks.creates_task(etype):
                    task_id = cpr_event_tasks.task_id_for_event(eid)
                    wid = suggest(e["code"], st, today) if suggest is not None else None
                    task = Task(task_id, cpr, e["code"], eid, received, cpr_event_tasks.due_date(etype, received),
                                workaround_id=wid)
                    st = replace(st, tasks=st.tasks + (task,))
                st = replace(st, version=st.version + 1,
                             history=st.history + (HistoryEntry(at, "cpr_event", e["code"]),))
                states[cpr] = st
                head[0] += 1
                dirty[cpr] = head[0]
                ans = {"id": eid, "status": "applied", "cpr": cpr, "task_id": task_id, "version": st.version,
                       "seq": head[0]}
                new_events.append((eid, cpr, e["code"], json.dumps(ans), at))
                seen[eid] = new_events[-1][3]
                chg.append((head[0], "event", cpr, None, at))
                aud.append((desk.id if desk else None, at, cpr, "event", None, ALLOWED))
                answers.append(ans)
            done = repo.save_persons(conn, [(encode_person(states[c], loaded[c][2]), s, loaded[c][1])
                                            for c, s in dirty.items()])
            repo.insert_rows(conn, "cpr_events", ("event_id", "cpr", "code", "answer", "at"), new_events)
            repo.add_changes(conn, chg)
            repo.add_audit(conn, aud)
        repo.cache.put(done)
        log.info("ingested %d CPR events (%s)", len(events),
                 ", ".join(sorted({mask(e["cpr"]) for e in events}))[:200])
        return answers
