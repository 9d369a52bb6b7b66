"""Change notification (long-poll on ``GET /v1/changes?wait=``): a waiting desk is answered
by the writing transaction's commit, with the pull's own cursor semantics, so a wake-up never
skips or repeats a change — under concurrent writers, on SQLite (one server process) and on
PostgreSQL with two server processes (LISTEN/NOTIFY). A desk whose server does not offer it
polls instead."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from srvkit import TODAY, FaultyTransport, UvicornThread, _free_port, fresh_pg_db, load_records, make_person

from sygesikring_tui import sync
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store

N_PERSONS = 6
N_WRITERS = 3
OPS_EACH = 12


def _until(cond, what: str, limit: float = 60.0) -> None:
    """Wait for ``cond`` (a guard against a hang, not a timing assertion)."""
    end = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < end, f"never happened: {what}"
        time.sleep(0.02)


def _pg(pg_server):
    if pg_server is None:
        pytest.skip("no PostgreSQL: no $SYGESIKRING_TEST_PG_DSN and no /usr/lib/postgresql/*/bin/initdb")
    return fresh_pg_db(pg_server)


def _writers(url: str, tokens: list[str], people, ops_each: int) -> list[threading.Thread]:
    """Threads each pushing ``ops_each`` notes, one per request, on persons in turn (every
    writer retries a conflict on the fresh version, so every note lands)."""

    def run(token: str, w: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for i in range(ops_each):
                cpr = people[(w + i) % len(people)].cpr
                while True:
                    version = http.get(f"/v1/persons/{cpr}").json()["version"]
                    op = {"op_id": f"w{w}-{i}-{version}", "kind": "note_add", "cpr": cpr,
                          "payload": {"text": f"writer {w} note {i}"}, "base_version": version}
                    [ans] = http.post("/v1/push", json={"training": False, "ops": [op]}).json()["results"]
                    if ans["status"] == "applied":
                        break
                    assert ans["status"] == "conflict", ans

    return [threading.Thread(target=run, args=(t, w)) for w, t in enumerate(tokens)]


def _follow(url: str, token: str, stop: threading.Event, limit: int = 3) -> dict:
    """A desk's watcher: long-polls with its cursor until ``stop`` and the log is drained."""
    seen: list[int] = []
    versions: dict[str, int] = {}
    polls = {"n": 0, "empty": 0}
    cursor = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while True:
            done = stop.is_set()
            r = http.get("/v1/changes", params={"cursor": cursor, "limit": limit, "wait": 0 if done else 5})
            r.raise_for_status()
            page = r.json()
            polls["n"] += 1
            for c in page["changes"]:
                seen.append(c["seq"])
                if c["kind"] == "person":
                    versions[c["cpr"]] = c["version"]
            polls["empty"] += not page["changes"]
            assert page["cursor"] >= cursor
            cursor = page["cursor"]
            if done and not page["more"]:
                return {"seqs": seen, "versions": versions, "cursor": cursor, "polls": polls}


def _check(result: dict, storage: Storage) -> None:
    seqs = result["seqs"]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), "a change was repeated or came out of order"
    server = {c: s.version for c, s in storage.all_persons().items()}
    assert result["versions"] == server, "a change was skipped"
    assert result["cursor"] == storage.head()


def _run(url: str, storage: Storage, people) -> dict:
    tokens = [storage.add_desk(f"writer {i}", 751)[1] for i in range(N_WRITERS)]
    reader = storage.add_desk("reader", 751)[1]
    stop = threading.Event()
    out: dict = {}
    follower = threading.Thread(target=lambda: out.update(_follow(url, reader, stop)))
    follower.start()
    ws = _writers(url, tokens, people, OPS_EACH)
    for w in ws:
        w.start()
    for w in ws:
        w.join(120)
    stop.set()
    follower.join(120)
    assert not follower.is_alive()
    return out


def test_a_waiting_desk_never_skips_or_repeats_a_change_under_concurrent_writers_on_sqlite(tmp_path):
    storage = Storage(str(tmp_path / "server.db"), today=lambda: TODAY)
    people = [make_person(random.Random(70 + i)) for i in range(N_PERSONS)]
    storage.load(load_records(people))
    srv = UvicornThread(create_app(storage)).start()
    try:
        result = _run(srv.url, storage, people)
        _check(result, storage)
        assert storage.notifier.wakeups >= N_WRITERS * OPS_EACH  # every commit woke the waiters
    finally:
        srv.stop()
        storage.close()


def test_a_long_poll_with_nothing_new_answers_an_empty_page_at_its_cursor(sqlite_env):
    people = [make_person(random.Random(1))]
    sqlite_env.storage.load(load_records(people))
    with sqlite_env.http(sqlite_env.desk()) as http:
        head = http.get("/v1/changes").json()["cursor"]
        page = http.get("/v1/changes", params={"cursor": head, "wait": 0.2}).json()
    assert page == {"changes": [], "cursor": head, "more": False}


def test_a_long_poll_is_answered_by_a_commit_in_another_municipality_only_with_its_own_changes(sqlite_env):
    """A commit the desk may not see wakes the wait, but the page stays the desk's own."""
    a, b = make_person(random.Random(1)), make_person(random.Random(2), municipality=101)
    sqlite_env.storage.load(load_records([a, b]))
    desk_a = sqlite_env.desk(751)
    desk_b = sqlite_env.desk(101)
    with sqlite_env.http(desk_a) as http:
        head = http.get("/v1/changes").json()["cursor"]
    srv = UvicornThread(sqlite_env.app).start()
    try:
        got: dict = {}

        def wait() -> None:
            with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {desk_a}"}, timeout=60) as h:
                got.update(h.get("/v1/changes", params={"cursor": head, "wait": 30}).json())

        t = threading.Thread(target=wait)
        t.start()
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {desk_b}"}, timeout=60) as h:
            v = h.get(f"/v1/persons/{b.cpr}").json()["version"]
            op = {"op_id": "other-muni", "kind": "note_add", "cpr": b.cpr, "payload": {"text": "B"},
                  "base_version": v}
            assert h.post("/v1/push", json={"training": False, "ops": [op]}).json()["results"][0]["status"] == "applied"
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {desk_a}"}, timeout=60) as h:
            v = h.get(f"/v1/persons/{a.cpr}").json()["version"]
            op = {"op_id": "own-muni", "kind": "note_add", "cpr": a.cpr, "payload": {"text": "A"}, "base_version": v}
            assert h.post("/v1/push", json={"training": False, "ops": [op]}).json()["results"][0]["status"] == "applied"
        t.join(60)
        assert [c["cpr"] for c in got["changes"]] == [a.cpr]
    finally:
        srv.stop()


# -- PostgreSQL: two server processes --------------------------------------------------------
class ServerProcess:
    """``uvicorn --factory sygesikring_tui.server.app:app_from_env`` on its own port."""

    def __init__(self, db: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, SYGESIKRING_SERVER_DB=db)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "sygesikring_tui.server.app:app_from_env",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server process did not start: " + (self.proc.stderr.read() or b"").decode()[-2000:])
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def test_a_desk_waiting_on_one_postgresql_server_process_sees_every_write_of_another_once(pg_server):
    db = _pg(pg_server)
    storage = Storage(db, today=lambda: TODAY)
    people = [make_person(random.Random(80 + i)) for i in range(N_PERSONS)]
    storage.load(load_records(people))
    writer_srv = ServerProcess(db)
    reader_srv = ServerProcess(db)
    try:
        tokens = [storage.add_desk(f"writer {i}", 751)[1] for i in range(N_WRITERS)]
        reader = storage.add_desk("reader", 751)[1]
        stop = threading.Event()
        out: dict = {}
        follower = threading.Thread(target=lambda: out.update(_follow(reader_srv.url, reader, stop)))
        follower.start()
        ws = _writers(writer_srv.url, tokens, people, OPS_EACH)
        for w in ws:
            w.start()
        for w in ws:
            w.join(120)
        stop.set()
        follower.join(120)
        assert not follower.is_alive()
        _check(out, storage)
    finally:
        writer_srv.stop()
        reader_srv.stop()
        storage.close()


def test_postgresql_notifications_wake_the_waiters_of_another_server(pg_server):
    """Two servers on one database, each with its own notifier: a commit through one wakes
    the other's waiter (LISTEN/NOTIFY), and the waiter reads the change."""
    db = _pg(pg_server)
    one = Storage(db, today=lambda: TODAY)
    two = Storage(db, today=lambda: TODAY)
    person = make_person(random.Random(5))
    one.load(load_records([person]))
    srv_one = UvicornThread(create_app(one)).start()
    srv_two = UvicornThread(create_app(two)).start()
    try:
        token = one.add_desk("desk", 751)[1]
        hdr = {"Authorization": f"Bearer {token}"}
        head = httpx.get(srv_two.url + "/v1/changes", headers=hdr).json()["cursor"]
        got: dict = {}
        t = threading.Thread(target=lambda: got.update(httpx.get(
            srv_two.url + "/v1/changes", params={"cursor": head, "wait": 30}, headers=hdr, timeout=60).json()))
        t.start()
        _until(lambda: two.notifier.wakeups > 0, "the listener is listening")  # its first wake-up
        before = two.notifier.wakeups
        op = {"op_id": "via-one", "kind": "note_add", "cpr": person.cpr, "payload": {"text": "x"},
              "base_version": one.all_persons()[person.cpr].version}
        r = httpx.post(srv_one.url + "/v1/push", json={"training": False, "ops": [op]}, headers=hdr).json()
        assert r["results"][0]["status"] == "applied"
        t.join(60)
        assert [c["cpr"] for c in got["changes"]] == [person.cpr]
        assert two.notifier.wakeups > before  # woken by NOTIFY from the other server, not the clock
    finally:
        srv_one.stop()
        srv_two.stop()
        one.close()
        two.close()


# -- the desk: uses it when offered, polls otherwise ------------------------------------------
class HealthWithout(FaultyTransport):
    """Passes requests on, recording their URLs; with ``hide`` the /health answer does not
    offer notification (an older server)."""

    def __init__(self, inner, hide: bool) -> None:
        super().__init__(inner)
        self.hide = hide
        self.urls: list[str] = []

    def handle_request(self, request):
        self.urls.append(str(request.url))
        resp = super().handle_request(request)
        if self.hide and request.url.path == "/health":
            body = json.loads(resp.read())
            body.pop("notify", None)
            return httpx.Response(resp.status_code, json=body, request=request)
        return resp


def _worker_pair(env, tmp_path: Path, hide: bool, interval: float):
    people = [make_person(random.Random(9))]
    env.storage.load(load_records(people))
    path_a, path_b = tmp_path / "a.db", tmp_path / "b.db"
    open_store(path_a).close()
    open_store(path_b).close()
    transport = HealthWithout(httpx.HTTPTransport(), hide)
    client_b = sync.SyncClient(env.url, env.desk(), transport=transport)
    client_a = sync.SyncClient(env.url, env.desk())
    return people[0].cpr, path_a, path_b, client_a, client_b, transport


@pytest.mark.parametrize("offered", [True, False], ids=["notified", "polling"])
def test_a_desk_gets_another_desks_change_notified_when_offered_and_by_polling_when_not(sqlite_env, tmp_path,
                                                                                       offered):
    srv = UvicornThread(sqlite_env.app).start()
    sqlite_env.url = srv.url
    try:
        cpr, path_a, path_b, client_a, client_b, transport = _worker_pair(sqlite_env, tmp_path, not offered,
                                                                         0.3)
        # notified: B's loop polls only every 600 s, so only the notification can bring A's note
        wb = sync.SyncWorker(path_b, srv.url, "-", client=client_b, interval=600 if offered else 0.3,
                             notify_wait=5)
        tb = threading.Thread(target=wb.run)
        tb.start()
        a = open_store(path_a)
        sync.sync_once(a, client_a)
        b_view = open_store(path_b)
        try:
            _until(lambda: b_view.load_person(cpr) is not None, "B has the person")
            from srvkit import note

            note(a, cpr, "fra A")
            sync.sync_once(a, client_a)
            _until(lambda: [n.text for n in b_view.load_person(cpr).notes] == ["fra A"], "B has A's note")
        finally:
            wb.stop()
            tb.join(30)
            a.close()
            b_view.close()
        waits = [u for u in transport.urls if "wait=" in u]
        assert bool(waits) == offered
        assert wb.notify_offered is offered
    finally:
        srv.stop()
