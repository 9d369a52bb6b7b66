"""A hypothesis state machine: two desks and one server, with caseworkers acting, desks going
offline, requests and responses dropped, 5xx answers, a desk killed mid-push and reopened,
and the server restarted on the same database.

Invariants: no operation is ever applied twice; the server applies only operations a desk
saved; no saved operation is lost (after a final sync each is applied, or a visible
conflict/rejection on its desk); every desk converges to the server's state.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from srvkit import TODAY, FaultyTransport, commit, desk_docs, load_records, make_person, server_docs

from sygesikring_tui import sync
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store
from sygesikring_tui.store.db import RuleViolation
from sygesikring_tui.sync import SyncClient, SyncError

N_DESKS = 2
N_PERSONS = 3
FAULTS = st.sampled_from([None, None, "drop_request", "drop_response", "error_5xx"])
EFFECTIVE = st.sampled_from(["2026-04-01", "2026-05-01", "2026-06-01"])


class Desk:
    def __init__(self, path: Path, token: str, inner) -> None:
        self.path = path
        self.token = token
        self.transport = FaultyTransport(inner)
        self.offline = False
        self.store = open_store(path)
        self.client = SyncClient("http://testserver", token, transport=self.transport)
        self.saved: set[str] = set()

    def reopen(self) -> None:
        self.store.close()
        self.store = open_store(self.path)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self.db = self.new_db()
        self.storage = Storage(self.db, today=lambda: TODAY)
        rng = random.Random(11)
        self.people = [make_person(rng, n_tasks=1) for _ in range(N_PERSONS)]
        self.storage.load(load_records(self.people))
        self._serve()
        self.desks = []
        for i in range(N_DESKS):
            token = self.storage.add_desk(f"desk {i}", 751)[1]
            d = Desk(self.dir / f"desk{i}.db", token, self.inner)
            sync.sync_once(d.store, d.client)
            self.desks.append(d)

    def new_db(self) -> str:
        return str(self.dir / "server.db")

    def drop_db(self) -> None:
        pass

    def _serve(self) -> None:
        self.tc = TestClient(create_app(self.storage), raise_server_exceptions=True)
        self.inner = self.tc._transport

    # -- actions ------------------------------------------------------------------------
    @rule(d=st.integers(0, N_DESKS - 1), p=st.integers(0, N_PERSONS - 1),
          kind=st.sampled_from(["note_add", "followup_add", "group_switch"]), eff=EFFECTIVE)
    def caseworker_acts(self, d: int, p: int, kind: str, eff: str) -> None:
        desk = self.desks[d]
        cpr = self.people[p].cpr
        if kind == "group_switch":
            state = desk.store.load_person(cpr)
            cur = state.current_group(TODAY.fromisoformat(eff))
            payload = {"group": 2 if cur is None or cur.group == 1 else 1, "effective": eff, "reason": "valgt"}
        else:
            payload = {"text": f"{kind} by desk {d}"}
        try:
            ops = commit(desk.store, cpr, kind, payload)
        except RuleViolation:
            return  # the wizard would not let the caseworker commit this
        desk.saved.update(o.op_id for o in ops)

    @rule(d=st.integers(0, N_DESKS - 1), offline=st.booleans())
    def desk_goes_offline_or_online(self, d: int, offline: bool) -> None:
        self.desks[d].offline = offline

    @rule(d=st.integers(0, N_DESKS - 1), fault=FAULTS)
    def sync_round(self, d: int, fault: str | None) -> None:
        desk = self.desks[d]
        desk.transport.mode = "offline" if desk.offline else fault
        try:
            sync.sync_once(desk.store, desk.client)
        except SyncError as exc:
            assert exc.kind in ("offline", "server"), exc
        finally:
            desk.transport.mode = None

    @precondition(lambda self: any(d.store.outbox("pending") for d in self.desks))
    @rule(d=st.integers(0, N_DESKS - 1))
    def desk_killed_mid_push_and_reopened(self, d: int) -> None:
        """The server applies the batch, the desk dies before it records the answers."""
        desk = self.desks[d]
        pending = desk.store.outbox("pending")
        if pending and not desk.offline:
            wire = [{k: r[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
                    for r in pending]
            desk.client.push(wire, training=False)
        desk.reopen()

    @rule()
    def server_restarted(self) -> None:
        self.tc.close()
        self.storage.close()
        self.storage = Storage(self.db, today=lambda: TODAY)
        self._serve()
        for desk in self.desks:
            desk.transport.inner = self.inner

    # -- invariants -----------------------------------------------------------------------
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

    def teardown(self) -> None:
        try:
            for desk in self.desks:
                desk.offline = False
                desk.transport.mode = None
            for _ in range(2):
                for desk in self.desks:
                    sync.sync_once(desk.store, desk.client)
            applied = set(self.storage.applied_op_ids())
            server = server_docs(self.storage)
            for desk in self.desks:
                rows = {r["op_id"]: r["status"] for r in desk.store.outbox()}
                # nothing saved is lost: applied on the server, or visibly refused on the desk
                assert "pending" not in rows.values()
                for op_id, status in rows.items():
                    assert (status == "applied") == (op_id in applied), (op_id, status)
                    assert status in ("applied", "conflict", "rejected")
                assert {c.op_id for c in sync.conflicts(desk.store)} == {
                    o for o, s in rows.items() if s in ("conflict", "rejected")}
                # convergence
                assert desk_docs(desk.store, server) == server
                assert sync.status(desk.store).waiting == 0
        finally:
            for desk in self.desks:
                desk.store.close()
            self.tc.close()
            self.storage.close()
            self.drop_db()
            shutil.rmtree(self.dir, ignore_errors=True)


SyncMachine.TestCase.settings = settings(max_examples=int(os.environ.get("SYNC_MACHINE_EXAMPLES", "25")), stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
test_sync_state_machine = SyncMachine.TestCase


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
    run_state_machine_as_test(PgSyncMachine, settings=settings(
        max_examples=int(os.environ.get("SYNC_MACHINE_PG_EXAMPLES", "8")), stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
