"""A hypothesis state machine: two desks and one server. Caseworkers commit cases of one to
three operations of every kind; a CPR feed writes events on the server meanwhile (new
tasks, a person moving to another municipality and back); desks go offline, requests and
answers are lost, the server answers 5xx; desks pull in pages smaller than the data, also
while operations are pending (a commit racing a round); a desk is killed before its push
reaches the server, after the server applied it, and between two pages of a pull; the
server is restarted on the same database; refused operations are redone or dropped.

Invariants, after every step:
* no operation is applied twice; the server applies only operations a desk saved;
* every saved operation stays in its desk's outbox;
* an applied operation made the person's version exactly its base version + 1;
* each desk's local view of a person = the server's state the desk last had (the base of
  its first pending operation) + its pending operations, applied in outbox order.
After a final sync: nothing is lost (each operation applied, or a visible conflict /
rejection / resolution on its desk) and every desk converges to the server's state.

Runs on SQLite (in-process and against a real uvicorn) and PostgreSQL, with bounded
examples (``SYNC_MACHINE_EXAMPLES`` / ``SYNC_MACHINE_PG_EXAMPLES`` raise them).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from srvkit import MUNI_A, MUNI_B, OPEN, TODAY, FaultyTransport, _norm, load_records, make_person

from sygesikring_tui import sync
from sygesikring_tui.domain import operations as ops_mod
from sygesikring_tui.domain.model import Address, Operation, to_json
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store
from sygesikring_tui.store.db import RuleViolation
from sygesikring_tui.sync import SyncClient, SyncError

N_DESKS = 2
N_PERSONS = 3
FAULTS = st.sampled_from([None, None, "drop_request", "drop_response", "error_5xx"])
PAGES = st.sampled_from([1, 2, 5000])  # 1 and 2: fewer changes a page than the desk has to pull
EFFECTIVE = st.sampled_from(["2026-04-01", "2026-05-01", "2026-06-01"])
KINDS = st.sampled_from(ops_mod.KINDS)
FREE = {"paid": False, "amount": 0, "reason": ""}
HOME = Address("Vestergade 12", "8000", "Aarhus C", MUNI_A, 56.157, 10.205)
AWAY = Address("Nørregade 1", "1165", "København K", MUNI_B, 55.679, 12.572)


def payload_for(kind: str, state, eff: str, n: int) -> dict | None:
    """What a wizard would plan for ``kind`` on the desk's current ``state`` (None: nothing
    to act on, e.g. no open task to close)."""
    if kind == "group_switch":
        cur = state.current_group(TODAY.fromisoformat(eff))
        return {"group": 2 if cur is None or cur.group == 1 else 1, "effective": eff, "reason": "valgt"}
    if kind == "doctor_choice":
        return {"provider_number": OPEN.provider_number, "effective": eff, "reason": "selvvalgt", "fee": FREE}
    if kind == "doctor_choice_end":
        ch = next((d for d in state.doctors if d.end is None), None)
        return None if ch is None else {"choice_id": ch.id, "end": eff}
    if kind == "remove_future":
        return {"as_of": TODAY.isoformat()}
    if kind == "card_order":
        return {"ordered_on": TODAY.isoformat(), "fee": FREE, "reason": "bortkommet"}
    if kind == "card_cancel":
        card = next((c for c in state.cards if c.status.value == "ordered"), None)
        return None if card is None else {"card_id": card.id}
    if kind == "task_close":
        task = next((t for t in state.open_tasks()), None)
        return None if task is None else {"task_id": task.id, "reason": "løst"}
    if kind == "followup_done":
        f = next((f for f in state.followups if not f.done), None)
        return None if f is None else {"followup_id": f.id}
    if kind == "followup_add":
        return {"text": f"opfølgning {n}", "due": eff}
    if kind == "case_time":
        return {"workaround_id": "2.4.1", "seconds": 60 + n, "sessions": 1}
    return {"text": f"notat {n}"}


class Desk:
    def __init__(self, path: Path, token: str, inner, url: str) -> None:
        self.path = path
        self.token = token
        self.transport = FaultyTransport(inner)
        self.offline = False
        self.store = open_store(path)
        self.client = SyncClient(url, token, transport=self.transport)
        self.saved: set[str] = set()

    def reopen(self) -> None:
        self.store.close()
        self.store = open_store(self.path)


class KillAfterFirstPage(FaultyTransport):
    """Lets one page of changes through, then the desk is gone (the next request fails)."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.pages = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/changes":
            self.pages += 1
            if self.pages > 1:
                raise httpx.ConnectError("injected: desk killed mid-pull", request=request)
        return super().handle_request(request)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self.db = self.new_db()
        self.storage = Storage(self.db, today=lambda: TODAY)
        rng = random.Random(11)
        self.people = [make_person(rng, n_tasks=1) for _ in range(N_PERSONS)]
        self.storage.load(load_records(self.people))
        self.n = 0
        self.history: dict[tuple[str, int], dict] = {}  # every server state seen: (cpr, version) -> doc
        self._serve()
        self.feed = self.storage.add_desk("CPR", None, role="feed")[1]
        self.desks: list[Desk] = []
        for i in range(N_DESKS):
            token = self.storage.add_desk(f"desk {i}", MUNI_A)[1]
            d = Desk(self.dir / f"desk{i}.db", token, self.inner, self.url)
            sync.sync_once(d.store, d.client, page=2)
            self.desks.append(d)
        self._record_server()

    # -- the server (overridden by the variants) ---------------------------------------------
    url = "http://testserver"

    def new_db(self) -> str:
        return str(self.dir / "server.db")

    def drop_db(self) -> None:
        pass

    def _serve(self) -> None:
        self.tc = TestClient(create_app(self.storage), raise_server_exceptions=True)
        self.inner = self.tc._transport

    def _unserve(self) -> None:
        self.tc.close()

    def _record_server(self) -> None:
        for c, s in self.storage.all_persons().items():
            self.history[(c, s.version)] = _norm(s)

    # -- caseworkers ------------------------------------------------------------------------
    def _act(self, desk: Desk, planned: list[tuple[int, str, str]]) -> None:
        ops = []
        states: dict[str, object] = {}
        for p, kind, eff in planned:
            cpr = self.people[p].cpr
            state = states.get(cpr) or desk.store.load_person(cpr)
            if state is None:
                return  # the person left this desk's municipality
            self.n += 1
            payload = payload_for(kind, state, eff, self.n)
            if payload is None:
                return
            ops.append(PlannedOp(cpr, kind, payload))
        case = desk.store.create_case("2.1", ops[0].cpr, None)
        try:
            done = desk.store.commit_case(case.id, ops, TODAY, author="sagsbehandler")
        except RuleViolation:
            desk.store.discard_case(case.id)
            return  # the wizard would not let the caseworker commit this
        desk.saved.update(o.op_id for o in done)

    @rule(d=st.integers(0, N_DESKS - 1),
          planned=st.lists(st.tuples(st.integers(0, N_PERSONS - 1), KINDS, EFFECTIVE), min_size=1, max_size=3))
    def caseworker_commits_a_case(self, d: int, planned: list[tuple[int, str, str]]) -> None:
        self._act(self.desks[d], planned)

    @precondition(lambda self: any(sync.conflicts(d.store) for d in self.desks))
    @rule(d=st.integers(0, N_DESKS - 1), redo=st.booleans(), eff=EFFECTIVE)
    def caseworker_settles_a_refused_operation(self, d: int, redo: bool, eff: str) -> None:
        desk = self.desks[d]
        items = sync.conflicts(desk.store)
        if not items:
            return
        item = items[0]
        if redo:  # the wizard again, on the fresh data
            sync.resolve(desk.store, item.op_id, "redo", "gentaget")
            p = next(i for i, x in enumerate(self.people) if x.cpr == item.cpr)
            self._act(desk, [(p, item.kind, eff)])
        else:
            sync.resolve(desk.store, item.op_id, "drop", "ikke længere aktuel")

    # -- the CPR feed on the server ----------------------------------------------------------
    @rule(p=st.integers(0, N_PERSONS - 1), what=st.sampled_from(["task", "task", "move_away", "move_home"]))
    def cpr_event_arrives_on_the_server(self, p: int, what: str) -> None:
        self.n += 1
        ev = {"id": f"ev-{self.n}", "code": "038", "cpr": self.people[p].cpr, "date": "2026-03-01",
              "received": "2026-03-02", "data": {}}
        if what != "task":
            ev["code"] = "034"
            ev["data"] = {"address": to_json(AWAY if what == "move_away" else HOME)}
        with httpx.Client(base_url=self.url, transport=self.inner,
                          headers={"Authorization": f"Bearer {self.feed}"}) as http:
            r = http.post("/v1/cpr-events", json={"events": [ev]})
        assert r.status_code == 200, r.text
        self._record_server()

    # -- the network, the desks and the server -------------------------------------------------
    @rule(d=st.integers(0, N_DESKS - 1), offline=st.booleans())
    def desk_goes_offline_or_online(self, d: int, offline: bool) -> None:
        self.desks[d].offline = offline

    @rule(d=st.integers(0, N_DESKS - 1), fault=FAULTS, page=PAGES)
    def sync_round(self, d: int, fault: str | None, page: int) -> None:
        desk = self.desks[d]
        desk.transport.mode = "offline" if desk.offline else fault
        try:
            sync.sync_once(desk.store, desk.client, page=page)
        except SyncError as exc:
            assert exc.kind in ("offline", "server"), exc
        finally:
            desk.transport.mode = None
        self._record_server()

    @precondition(lambda self: any(not d.offline and d.store.outbox("pending") for d in self.desks))
    @rule(d=st.integers(0, N_DESKS - 1), page=PAGES)
    def desk_pulls_while_operations_wait(self, d: int, page: int) -> None:
        """A round's pull racing a commit made after its push: pending operations are there."""
        waiting = [x for x in self.desks if not x.offline and x.store.outbox("pending")]
        sync.pull(waiting[d % len(waiting)].store, waiting[d % len(waiting)].client, page=page)

    @precondition(lambda self: any(d.store.outbox("pending") for d in self.desks))
    @rule(d=st.integers(0, N_DESKS - 1), applied=st.booleans())
    def desk_killed_mid_push_and_reopened(self, d: int, applied: bool) -> None:
        """The desk dies with operations pending: before its push reached the server, or after
        the server applied the batch but before the desk recorded the answers."""
        desk = self.desks[d]
        pending = desk.store.outbox("pending")
        if applied and pending and not desk.offline:
            wire = [{k: r[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
                    for r in pending]
            desk.client.push(wire, training=False)
        desk.reopen()
        self._record_server()

    @precondition(lambda self: any(not d.offline for d in self.desks))
    @rule(d=st.integers(0, N_DESKS - 1))
    def desk_killed_between_two_pages_of_a_pull(self, d: int) -> None:
        desk = self.desks[d]
        if desk.offline:
            return
        killer = KillAfterFirstPage(self.inner)
        with SyncClient(self.url, desk.token, transport=killer) as client:
            try:
                sync.pull(desk.store, client, page=1)
            except SyncError as exc:
                assert exc.kind == "offline"
        desk.reopen()

    @rule()
    def server_restarted(self) -> None:
        self._unserve()
        self.storage.close()
        self.storage = Storage(self.db, today=lambda: TODAY)
        self._serve()
        for desk in self.desks:
            desk.transport.inner = self.inner

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def no_operation_applied_twice_and_none_invented(self) -> None:
        applied = self.storage.applied_op_ids()
        assert len(applied) == len(set(applied))
        saved = set().union(*(d.saved for d in self.desks))
        assert set(applied) <= saved

    @invariant()
    def every_saved_operation_is_in_its_outbox(self) -> None:
        for desk in self.desks:
            assert desk.saved == {r["op_id"] for r in desk.store.outbox()}

    @invariant()
    def an_applied_operation_made_the_version_its_base_plus_one(self) -> None:
        base = {r["op_id"]: r["base_version"] for desk in self.desks for r in desk.store.outbox()}
        with self.storage.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT op_id, answer FROM ops WHERE status = 'applied'")).fetchall()
        for op_id, answer in rows:
            assert json.loads(answer)["version"] == base[op_id] + 1, op_id

    @invariant()
    def each_desk_shows_the_server_state_it_had_plus_its_pending_operations(self) -> None:
        for desk in self.desks:
            pending: dict[str, list[dict]] = {}
            for r in desk.store.outbox("pending"):
                pending.setdefault(r["cpr"], []).append(r)
            ctx = desk.store.rule_context(TODAY)
            for person in self.people:
                local = desk.store.load_person(person.cpr)
                if local is None:
                    continue  # moved away (the removal installed) or never pulled
                ops = pending.get(person.cpr, [])
                base_version = ops[0]["base_version"] if ops else local.version
                base = self.history.get((person.cpr, base_version))
                assert base is not None, ("the desk shows a version the server never had", base_version)
                if not ops:
                    assert _norm(local) == base
                    continue
                from sygesikring_tui.domain.model import PersonState, from_json

                state = from_json(PersonState, base)
                for r in ops:
                    op = Operation(r["op_id"], r["kind"], r["cpr"], r["payload"], r["base_version"], r["case_id"])
                    state = ops_mod.apply(state, op, ctx)
                assert _norm(local) == _norm(state)

    def teardown(self) -> None:
        try:
            for desk in self.desks:
                desk.offline = False
                desk.transport.mode = None
            for _ in range(2):
                for desk in self.desks:
                    sync.sync_once(desk.store, desk.client, page=2)
            applied = set(self.storage.applied_op_ids())
            server = {c: _norm(s) for c, s in self.storage.all_persons().items()}
            mine = {c for c, s in self.storage.all_persons().items()
                    if s.person.address.municipality_code == MUNI_A}
            for desk in self.desks:
                rows = {r["op_id"]: r["status"] for r in desk.store.outbox()}
                # nothing saved is lost: applied on the server, or visibly refused or settled on the desk
                assert "pending" not in rows.values()
                for op_id, status in rows.items():
                    assert (status == "applied") == (op_id in applied), (op_id, status)
                    assert status in ("applied", "conflict", "rejected", "dropped")
                assert {c.op_id for c in sync.conflicts(desk.store)} == {
                    o for o, s in rows.items() if s in ("conflict", "rejected")}
                # convergence: the desk holds exactly its municipality's persons, as the server has them
                held = {r[0] for r in desk.store.conn.execute("SELECT cpr FROM persons")}
                assert held == mine
                for c in mine:
                    assert _norm(desk.store.load_person(c)) == server[c]
                assert sync.status(desk.store).waiting == 0
        finally:
            for desk in self.desks:
                desk.store.close()
            self._unserve()
            self.storage.close()
            self.drop_db()
            shutil.rmtree(self.dir, ignore_errors=True)


def _settings(env: str, default: int, steps: int = 30) -> settings:
    return settings(max_examples=int(os.environ.get(env, str(default))), stateful_step_count=steps, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


SyncMachine.TestCase.settings = _settings("SYNC_MACHINE_EXAMPLES", 25)
test_sync_state_machine = SyncMachine.TestCase


class UvicornSyncMachine(SyncMachine):
    """The same machine with the server a real uvicorn on 127.0.0.1 (restarted on its port)."""

    def _serve(self) -> None:
        if not hasattr(self, "port"):
            from srvkit import _free_port

            self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.uv = uvicorn.Server(uvicorn.Config(create_app(self.storage), host="127.0.0.1", port=self.port,
                                                log_level="warning", lifespan="off"))
        self.uv_thread = threading.Thread(target=self.uv.run, daemon=True)
        self.uv_thread.start()
        end = time.monotonic() + 15
        while not self.uv.started:
            assert time.monotonic() < end and self.uv_thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        self.inner = httpx.HTTPTransport()

    def _unserve(self) -> None:
        self.uv.should_exit = True
        self.uv_thread.join(10)


def test_sync_state_machine_against_real_uvicorn():
    run_state_machine_as_test(UvicornSyncMachine, settings=_settings("SYNC_MACHINE_UVICORN_EXAMPLES", 4, 20))


class PgSyncMachine(SyncMachine):
    """The same machine with the server on PostgreSQL (a fresh database per example)."""

    admin_dsn: str = ""

    def new_db(self) -> str:
        from srvkit import fresh_pg_db

        return fresh_pg_db(self.admin_dsn)

    def drop_db(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.db.rsplit('/', 1)[1]} WITH (FORCE)")


def test_sync_state_machine_on_postgresql(pg_server):
    if pg_server is None:
        pytest.skip("no PostgreSQL: no $SYGESIKRING_TEST_PG_DSN and no /usr/lib/postgresql/*/bin/initdb")
    PgSyncMachine.admin_dsn = pg_server
    run_state_machine_as_test(PgSyncMachine, settings=_settings("SYNC_MACHINE_PG_EXAMPLES", 8))
