"""The desk's side of sync: held pulls, the fast state writer, status, backoff, the worker."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta

import httpx
import pytest
from srvkit import Env, FaultyTransport, load_records, make_person, note

from sygesikring_tui import sync
from sygesikring_tui.domain.model import to_json
from sygesikring_tui.store import open_store
from sygesikring_tui.store import sync_state


def test_fast_state_writer_stores_what_save_person_stores(tmp_path):
    s1 = open_store(tmp_path / "a.db")
    s2 = open_store(tmp_path / "b.db")
    people = [make_person(random.Random(i), n_tasks=3) for i in range(5)]
    with s1.transaction():
        for p in people:
            s1.save_person(p)
    with s2.transaction():
        sync_state.install_states(s2, [to_json(p) for p in people])
    for p in people:
        assert s2.load_person(p.cpr) == s1.load_person(p.cpr)
    q = "SELECT id, cpr, name, search, status, due FROM tasks ORDER BY id"
    assert s1.conn.execute(q).fetchall() == s2.conn.execute(q).fetchall()


def test_a_pulled_state_is_held_while_the_person_has_pending_operations(sqlite_env: Env, tmp_path):
    people = [make_person(random.Random(i)) for i in range(2)]
    sqlite_env.storage.load(load_records(people))
    a = open_store(tmp_path / "a.db")
    b = open_store(tmp_path / "b.db")
    ca, cb = sqlite_env.client(sqlite_env.desk()), sqlite_env.client(sqlite_env.desk())
    sync.sync_once(a, ca)
    sync.sync_once(b, cb)
    p = people[0].cpr
    note(a, p, "fra A")
    sync.sync_once(a, ca)
    mine = note(b, p, "fra B")
    sync.pull(b, cb)  # B has a pending note on p: A's change is held, B's note still shows
    assert [n.text for n in b.load_person(p).notes] == ["fra B"]
    assert b.conn.execute("SELECT count(*) FROM sync_held").fetchone()[0] == 1
    sync.push(b, cb)  # B's note conflicts: the server's state (with A's note) replaces it
    assert [n.text for n in b.load_person(p).notes] == ["fra A"]
    assert [c.op_id for c in sync.conflicts(b)] == [mine]
    assert b.conn.execute("SELECT count(*) FROM sync_held").fetchone()[0] == 0


def test_a_held_state_is_installed_when_the_pending_operation_is_applied(sqlite_env: Env, tmp_path):
    people = [make_person(random.Random(i)) for i in range(2)]
    sqlite_env.storage.load(load_records(people))
    a = open_store(tmp_path / "a.db")
    b = open_store(tmp_path / "b.db")
    ca, cb = sqlite_env.client(sqlite_env.desk()), sqlite_env.client(sqlite_env.desk())
    sync.sync_once(a, ca)
    sync.sync_once(b, cb)
    p, q = people[0].cpr, people[1].cpr
    note(b, p, "fra B")
    note(a, q, "fra A")
    sync.sync_once(a, ca)
    sync.pull(b, cb)
    assert [n.text for n in b.load_person(q).notes] == ["fra A"]  # no pending op on q: installed now
    sync.sync_once(b, cb)
    assert b.load_person(p) == sqlite_env.storage.all_persons()[p]


def test_status_counts_waiting_operations_and_the_age_of_the_oldest(sqlite_env: Env, tmp_path):
    people = [make_person(random.Random(1))]
    sqlite_env.storage.load(load_records(people))
    store = open_store(tmp_path / "d.db")
    inner = sqlite_env.transport()
    ft = FaultyTransport(inner)
    client = sync.SyncClient("http://testserver", sqlite_env.desk(), transport=ft)
    assert sync.status(store).online is None
    sync.sync_once(store, client)
    note(store, people[0].cpr)
    note(store, people[0].cpr)
    ft.mode = "offline"
    with pytest.raises(sync.SyncError):
        sync.sync_once(store, client)
    st = sync.status(store, now=datetime.now().astimezone() + timedelta(minutes=10))
    assert (st.online, st.waiting) == (False, 2)
    assert 590 < st.oldest_waiting_age < 700
    ft.mode = None
    sync.sync_once(store, client)
    st = sync.status(store)
    assert (st.online, st.waiting, st.oldest_waiting_age) == (True, 0, None) and st.last_sync


def test_backoff_grows_with_failures_within_its_cap_and_is_jittered():
    rng = random.Random(1)
    for n in range(1, 12):
        delays = [sync.backoff_delay(n, rng, base=1, cap=60) for _ in range(50)]
        assert all(0 <= d <= min(60, 2 ** n) for d in delays)
        assert len(set(delays)) > 1


def test_worker_syncs_in_a_thread_until_stopped(sqlite_env: Env, tmp_path):
    people = [make_person(random.Random(1))]
    sqlite_env.storage.load(load_records(people))
    path = tmp_path / "d.db"
    open_store(path).close()
    seen: list[sync.SyncStatus] = []
    done = threading.Event()

    def on_status(st: sync.SyncStatus) -> None:
        seen.append(st)
        if st.online:
            done.set()

    client = sqlite_env.client(sqlite_env.desk())
    worker = sync.SyncWorker(path, "http://testserver", "unused", interval=0.05, on_status=on_status, client=client)
    t = threading.Thread(target=worker.run)
    t.start()
    assert done.wait(20)
    worker.stop()
    t.join(20)
    assert not t.is_alive()
    store = open_store(path)
    assert store.load_person(people[0].cpr) == sqlite_env.storage.all_persons()[people[0].cpr]


def test_worker_never_syncs_a_training_store(sqlite_env: Env, tmp_path):
    path = tmp_path / "t.db"
    open_store(path, training=True).close()
    calls = []

    class Spy(FaultyTransport):
        def handle_request(self, request):
            calls.append(request.url.path)
            return super().handle_request(request)

    client = sync.SyncClient("http://testserver", sqlite_env.desk(), transport=Spy(sqlite_env.transport()))
    sync.SyncWorker(path, "x", "y", client=client).run()  # returns at once
    assert calls == []
    assert "training" in (sync.status(open_store(path)).last_error or "")


# -- an operation the server fails on never jams the outbox ---------------------------------
class PoisonTransport(FaultyTransport):
    """Answers 500 to any push that carries one of ``poison`` (op_ids); ``down`` makes every
    request, /health included, a 503 (the server is down, not the operation)."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.poison: set[str] = set()
        self.down = False
        self.paths: list[str] = []

    def handle_request(self, request):
        self.paths.append(str(request.url))
        if self.down:
            return httpx.Response(503, text="Service Unavailable", request=request)
        if request.url.path == "/v1/push" and any(p.encode() in request.content for p in self.poison):
            return httpx.Response(500, text="Internal Server Error", request=request)
        return super().handle_request(request)


def _poisoned_desk(env: Env, tmp_path, n_people: int = 3):
    people = [make_person(random.Random(40 + i)) for i in range(n_people)]
    env.storage.load(load_records(people))
    store = open_store(tmp_path / "d.db")
    pt = PoisonTransport(env.transport())
    client = sync.SyncClient("http://testserver", env.desk(), transport=pt)
    sync.sync_once(store, client)
    return people, store, pt, client


def test_an_operation_answered_5xx_again_and_again_is_held_and_other_persons_go_on(sqlite_env: Env, tmp_path):
    people, store, pt, client = _poisoned_desk(sqlite_env, tmp_path)
    p, q, r = (x.cpr for x in people)
    bad = note(store, p, "giver serverfejl")
    after_bad = note(store, p, "lavet oven på den")  # waits for the bad one, never sent around it
    good = [note(store, q, "fint"), note(store, r, "også fint")]
    pt.poison = {bad}
    for round_ in range(1, sync.engine.SERVER_ERROR_LIMIT + 1):
        report = sync.sync_once(store, client)
        rows = {o["op_id"]: o["status"] for o in store.outbox()}
        assert all(rows[g] == "applied" for g in good)  # the others synced in the first round
        if round_ < sync.engine.SERVER_ERROR_LIMIT:
            assert (rows[bad], rows[after_bad], report.retry_soon) == ("pending", "pending", True)
    assert (rows[bad], rows[after_bad]) == ("rejected", "conflict")
    applied = set(sqlite_env.storage.applied_op_ids())
    assert bad not in applied and after_bad not in applied and set(good) <= applied
    st = sync.status(store)
    assert (st.server_errors, st.rejected, st.conflicts, st.waiting) == (1, 1, 1, 0)
    item = next(c for c in sync.conflicts(store) if c.op_id == bad)
    assert sync_state.is_server_error(item)
    assert item.reasons[0]["params"]["detail"] == "HTTP 500: Internal Server Error"
    # the desk shows the server's version of the person again (both held notes are gone)
    assert store.load_person(p) == sqlite_env.storage.all_persons()[p]
    sync.resolve(store, bad, "drop", "serveren kan ikke tage den")
    assert sync.status(store).server_errors == 0


def test_a_5xx_answered_differently_each_time_starts_the_count_again(sqlite_env: Env, tmp_path):
    people, store, pt, client = _poisoned_desk(sqlite_env, tmp_path, 1)
    bad = note(store, people[0].cpr)
    assert sync_state.count_server_error(store, bad, "HTTP 500: a") == 1
    assert sync_state.count_server_error(store, bad, "HTTP 500: a") == 2
    assert sync_state.count_server_error(store, bad, "HTTP 502: b") == 1


def test_a_server_that_is_down_never_holds_an_operation(sqlite_env: Env, tmp_path):
    people, store, pt, client = _poisoned_desk(sqlite_env, tmp_path, 1)
    op = note(store, people[0].cpr)
    pt.down = True
    for _ in range(sync.engine.SERVER_ERROR_LIMIT + 2):
        with pytest.raises(sync.SyncError):
            sync.sync_once(store, client)
    assert [o["status"] for o in store.outbox()] == ["pending"]
    assert sync_state.get(store, "server_error:" + op) is None
    assert sum("/v1/push" in u for u in pt.paths) == sync.engine.SERVER_ERROR_LIMIT + 2  # never split
    pt.down = False
    sync.sync_once(store, client)
    assert [o["status"] for o in store.outbox()] == ["applied"]


def test_while_offline_the_worker_probes_health_within_a_few_seconds(sqlite_env: Env, tmp_path):
    people, store, pt, client = _poisoned_desk(sqlite_env, tmp_path, 1)
    note(store, people[0].cpr)
    worker = sync.SyncWorker(store.path, "http://testserver", "unused", client=client, rng=random.Random(3))
    pt.down = True
    delays = [worker.run_round(store) for _ in range(20)]
    assert all(0 <= d <= sync.engine.OFFLINE_PROBE_CAP for d in delays)
    # after the first failure a round only asks /health until the server answers again
    pt.paths.clear()
    worker.run_round(store)
    assert [u.rsplit("/", 1)[1] for u in pt.paths] == ["health"]
    pt.down = False
    assert worker.run_round(store) == worker.interval
    assert sync.status(store).waiting == 0


def test_a_real_desk_run_logs_and_prints_no_full_cpr_number(sqlite_env: Env, tmp_path, capsys):
    """A desk syncing through faults (offline, a held server error, conflicts) with the app's
    log set-up: its log file and its stdout/stderr never hold a full CPR number."""
    import logging

    from sygesikring_tui import logs

    log_file = tmp_path / "desk.log"
    handler_count = len(logging.getLogger().handlers)
    logs.setup(logging.DEBUG, path=log_file)
    try:
        people, store, pt, client = _poisoned_desk(sqlite_env, tmp_path, 3)
        worker = sync.SyncWorker(store.path, "http://testserver", "unused", client=client, rng=random.Random(1))
        bad = note(store, people[0].cpr, "giver serverfejl")
        note(store, people[1].cpr)
        pt.poison = {bad}
        for _ in range(sync.engine.SERVER_ERROR_LIMIT + 1):
            worker.run_round(store)
        pt.down = True
        worker.run_round(store)
        pt.down = False
        worker.run_round(store)
        assert sync.status(store).server_errors == 1
    finally:
        root = logging.getLogger()
        for h in root.handlers[handler_count:]:
            root.removeHandler(h)
            h.close()
    out = capsys.readouterr()
    text = log_file.read_text(encoding="utf-8") + out.out + out.err
    assert "server error 3/3" in text  # the run did log
    assert "/v1/persons/" in text and "-XXXX" in text  # the person read for a held error, masked
    for p in people:
        assert p.cpr not in text and f"{p.cpr[:6]}-{p.cpr[6:]}" not in text


def test_held_rows_written_before_typed_records_are_still_installed(tmp_path):
    """A desk upgraded while it held pulled states: a held whole state (the oldest form) and a
    held record as JSON values with its page's seq are both installed once free."""
    from dataclasses import replace

    from sygesikring_tui.domain.model import dumps

    whole, record = (make_person(random.Random(i), n_tasks=2) for i in (1, 2))
    old_record = {"seq": 7, "kind": "person", "cpr": record.cpr, "version": record.version,
                  "municipality": record.person.address.municipality_code, "name": record.person.name,
                  "doc": dumps(replace(record, tasks=())), "tasks": to_json(record.tasks)}
    desk = open_store(tmp_path / "desk.db")
    with desk.transaction():
        for st, doc in ((whole, to_json(whole)), (record, old_record)):
            desk.conn.execute("INSERT INTO sync_held(cpr, version, doc) VALUES (?, ?, ?)",
                              (st.cpr, st.version, json.dumps(doc, ensure_ascii=False)))
        assert sync_state.release_held(desk) == 2
    assert desk.load_person(whole.cpr) == whole
    assert desk.load_person(record.cpr) == record
