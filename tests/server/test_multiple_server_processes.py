"""Several ``sygesikring-server serve`` processes on one PostgreSQL (how a large deployment scales
out), desks spread over them: the sequence stays contiguous, nothing is applied twice or lost,
a conflict between desks on different processes is detected, no process decides on a stale
cached state, and ``serve --workers N`` keeps the same guarantees."""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from srvkit import MUNI_A, MUNI_B, ServerProcess, fresh_pg_db, load_records, make_person

from sygesikring_tui.server.storage import Storage


@pytest.fixture
def pg_db(pg_server):
    if pg_server is None:
        pytest.skip("no PostgreSQL: no $SYGESIKRING_TEST_PG_DSN and no /usr/lib/postgresql/*/bin/initdb")
    return fresh_pg_db(pg_server)


def _note(cpr: str, base: int, text: str) -> dict:
    return {"op_id": str(uuid.uuid4()), "kind": "note_add", "cpr": cpr, "base_version": base, "case_id": None,
            "payload": {"text": text, "at": "2026-03-02T10:00:00+01:00"}}


def _client(srv: ServerProcess, token: str) -> httpx.Client:
    return httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _push(http: httpx.Client, ops: list[dict]) -> list[dict]:
    r = http.post("/v1/push", json={"training": False, "ops": ops})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _setup(db: str, per_desk: int, desks_a: int, desks_b: int):
    storage = Storage(db)
    rng = random.Random(41)
    owned: list[tuple[str, list]] = []
    people = []
    for muni, n in ((MUNI_A, desks_a), (MUNI_B, desks_b)):
        for i in range(n):
            mine = [make_person(rng, muni) for _ in range(per_desk)]
            people += mine
            owned.append((storage.add_desk(f"desk {muni}-{i}", muni)[1], mine))
    shared = [make_person(rng, MUNI_A) for _ in range(4)]
    storage.load(load_records(people + shared))
    return storage, owned, shared


def _work(srv: ServerProcess, token: str, persons: list, rounds: int) -> tuple[list[str], list[dict]]:
    """A desk writes ``rounds`` notes on each of its persons, two persons per batch; returns
    the op_ids it sent and its last batch."""
    versions = {p.cpr: p.version for p in persons}
    sent: list[str] = []
    last: list[dict] = []
    with _client(srv, token) as http:
        for r in range(rounds):
            for i in range(0, len(persons), 2):
                batch = [_note(p.cpr, versions[p.cpr], f"runde {r}") for p in persons[i:i + 2]]
                for op, ans in zip(batch, _push(http, batch)):
                    assert ans["status"] == "applied", ans
                    versions[op["cpr"]] = ans["version"]
                sent += [op["op_id"] for op in batch]
                last = batch
    return sent, last


def test_three_processes_keep_one_contiguous_log_and_detect_conflicts_across_processes(pg_db, tmp_path):
    storage, owned, shared = _setup(pg_db, per_desk=4, desks_a=4, desks_b=2)
    servers = [ServerProcess(pg_db, tmp_path / f"home{i}").start() for i in range(3)]
    try:
        # Desks spread over the processes, all writing at once.
        with ThreadPoolExecutor(len(owned)) as pool:
            done = list(pool.map(lambda i: _work(servers[i % 3], owned[i][0], owned[i][1], rounds=3),
                                 range(len(owned))))
        sent = [op_id for ids, _last in done for op_id in ids]
        # A retry through another process gets the stored answers: nothing applied twice.
        for i, (_ids, last) in enumerate(done):
            with _client(servers[(i + 1) % 3], owned[i][0]) as http:
                assert {a["status"] for a in _push(http, last)} == {"duplicate"}

        # Two desks of one municipality, on two processes, change the same person at the same
        # version at the same moment: one is applied, the other is a conflict.
        token_1, token_2 = owned[0][0], owned[1][0]
        outcomes = []
        for p in shared:
            gate = threading.Barrier(2)

            def race(srv: ServerProcess, token: str, person=p, gate=gate) -> str:
                with _client(srv, token) as http:
                    op = _note(person.cpr, person.version, "samtidig")
                    gate.wait()
                    return _push(http, [op])[0]["status"]

            with ThreadPoolExecutor(2) as pool:
                outcomes.append(sorted(pool.map(race, (servers[0], servers[1]), (token_1, token_2))))
        assert outcomes == [["applied", "conflict"]] * len(shared)

        head = storage.head()
        assert storage.change_seqs() == list(range(1, head + 1))  # contiguous, no duplicate
        applied = storage.applied_op_ids()
        assert len(applied) == len(set(applied))  # nothing applied twice
        assert set(sent) <= set(applied)  # nothing lost
        assert len(applied) == len(sent) + len(shared)
        state = storage.all_persons()
        for _token, persons in owned:
            for p in persons:
                assert state[p.cpr].version == p.version + 3 and len(state[p.cpr].notes) == len(p.notes) + 3
    finally:
        for s in servers:
            s.stop()
        storage.close()


def test_no_process_serves_or_decides_on_a_stale_cached_state(pg_db, tmp_path):
    storage, owned, shared = _setup(pg_db, per_desk=1, desks_a=2, desks_b=0)
    p = shared[0]
    one, two = (ServerProcess(pg_db, tmp_path / f"home{i}").start() for i in range(2))
    try:
        with _client(one, owned[0][0]) as a, _client(two, owned[1][0]) as b:
            assert a.get(f"/v1/persons/{p.cpr}").json()["version"] == p.version  # process one caches it
            assert _push(b, [_note(p.cpr, p.version, "via to")])[0]["status"] == "applied"
            assert a.get(f"/v1/persons/{p.cpr}").json()["version"] == p.version + 1
            # Process one decides on the new version, not on the one it had cached.
            assert _push(a, [_note(p.cpr, p.version, "forældet")])[0]["status"] == "conflict"
            assert _push(a, [_note(p.cpr, p.version + 1, "via en")])[0]["status"] == "applied"
            notes = [n["text"] for n in b.get(f"/v1/persons/{p.cpr}").json()["notes"]]
        assert notes[-2:] == ["via to", "via en"]
    finally:
        one.stop()
        two.stop()
        storage.close()


def test_serve_with_several_workers_keeps_the_sequence_contiguous(pg_db, tmp_path):
    storage, owned, _shared = _setup(pg_db, per_desk=4, desks_a=3, desks_b=0)
    srv = ServerProcess(pg_db, tmp_path / "home", "--workers", "3").start()
    try:
        with ThreadPoolExecutor(len(owned)) as pool:
            done = list(pool.map(lambda t: _work(srv, t[0], t[1], rounds=2), owned))
        head = storage.head()
        assert storage.change_seqs() == list(range(1, head + 1))
        applied = storage.applied_op_ids()
        assert sorted(applied) == sorted(op for ids, _ in done for op in ids)
    finally:
        srv.stop()
        storage.close()


def test_processes_started_at_once_on_an_empty_database_migrate_it_once(pg_db, tmp_path):
    servers = [ServerProcess(pg_db, tmp_path / f"home{i}") for i in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(ServerProcess.start, servers))  # each raises if its process died
        storage = Storage(pg_db)
        try:
            token = storage.add_desk("desk", MUNI_A)[1]
        finally:
            storage.close()
        for srv in servers:
            with _client(srv, token) as http:
                assert http.get("/v1/changes").json()["changes"] == []
    finally:
        for srv in servers:
            srv.stop()
