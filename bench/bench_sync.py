"""Sync benchmark: ``python -m bench.bench_sync [--quick] [--pg DSN]``.

Against a real uvicorn on 127.0.0.1, in its own process (``--server thread``: in this one):
* push of N operations in batches of 500 vs one request per operation (ops/s and the ratio),
  on SQLite and on PostgreSQL (``--pg``, ``$SYGESIKRING_TEST_PG_DSN``, or a private cluster
  made with initdb when the binaries exist);
* initial pull of 100k tasks to a new desk (wall time), against the same rows bulk-written
  into a new desk store locally (the floor of any pull), and the server's bulk load alone;
* push by 6 desks at once through 1 and through 3 separate server processes on one PostgreSQL
  (how a large deployment scales out), ops/s and the ratio;
* the time for a change committed on desk A to appear on desk B (A's worker pushes at once,
  B's worker polls every 0.2 s), and the same at default settings where B is woken by the
  server's change notification (p95, target <= 1 s);
* the time from the server's return to an offline desk's queue drained (target <= 5 s).
Targets: >= 3,000 ops/s batched on SQLite; initial pull of 100k tasks <= 10 s.
Results go to stdout and ``bench/results/sync.json``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from sygesikring_tui import sync
from sygesikring_tui.domain import cpr
from sygesikring_tui.domain.model import (
    Address,
    GroupRegistration,
    Person,
    PersonState,
    Provider,
    Sex,
    Task,
    to_json,
)
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store

MUNI = 751
PROVIDER = Provider("012345", "Lægerne Vestergade", True, MUNI, 56.16, 10.2, "Vestergade 3")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_MODE = "process"  # --server: "process" (as deployed) or "thread" (in this process)


class Server:
    """A real uvicorn on 127.0.0.1 serving ``storage``'s database.

    ``process`` (default): a separate Python process, as ``sygesikring-server serve`` runs,
    so the desk's and the server's work do not share one GIL. ``thread``: in this process.
    """

    def __init__(self, storage: Storage, mode: str | None = None, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = mode or SERVER_MODE
        self.proc = None
        if self.mode == "process":
            code = ("import sys, uvicorn; from sygesikring_tui.server.app import create_app; "
                    "from sygesikring_tui.server.storage import Storage; "
                    "uvicorn.run(create_app(Storage(sys.argv[1])), host='127.0.0.1', port=int(sys.argv[2]), "
                    "log_level='warning', lifespan='off')")
            root = str(Path(__file__).resolve().parent.parent)
            env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
            self.proc = subprocess.Popen([sys.executable, "-c", code, storage.url.replace("+psycopg", ""),
                                          str(self.port)], env=env)
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(self.url + "/health", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.05)
            return
        self.srv = uvicorn.Server(uvicorn.Config(create_app(storage), host="127.0.0.1", port=self.port,
                                                 log_level="warning", lifespan="off"))
        self.t = threading.Thread(target=self.srv.run, daemon=True)
        self.t.start()
        while not self.srv.started:
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            return
        self.srv.should_exit = True
        self.t.join(10)


def people(n: int, tasks_each: int, seed: int = 1) -> list[PersonState]:
    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        born = date(rng.randrange(1940, 2005), rng.randrange(1, 13), rng.randrange(2, 29))
        male = rng.random() < 0.5
        number = cpr.synthetic(born, male, rng)
        if number in seen:
            continue
        seen.add(number)
        addr = Address("Vestergade 12", "8000", "Aarhus C", MUNI, 56.157, 10.205)
        person = Person(number, f"Person {len(out)}", born, Sex.MALE if male else Sex.FEMALE, addr)
        tasks = tuple(Task(f"t{len(out)}-{i}", number, "038", None, date(2026, 1, 5), date(2026, 1, 10))
                      for i in range(tasks_each))
        out.append(PersonState(person, 1, groups=(GroupRegistration("g" + number, 1, date(2010, 1, 2)),),
                               tasks=tasks))
    return out


def load(storage: Storage, states: list[PersonState]) -> None:
    storage.load([{"type": "provider", "provider": to_json(PROVIDER)}]
                 + [{"type": "person", "state": to_json(s)} for s in states])


def note_ops(states: list[PersonState], per_person: int) -> list[dict[str, Any]]:
    """Wire operations: ``per_person`` notes on each person, base versions in order."""
    ops = []
    for s in states:
        for k in range(per_person):
            ops.append({"op_id": str(uuid.uuid4()), "kind": "note_add", "cpr": s.cpr, "base_version": s.version + k,
                        "case_id": None, "payload": {"text": f"note {k}", "at": "2026-03-02T10:00:00+01:00"}})
    return ops


def bench_push(url_db: str, n_ops: int, single_ops: int) -> dict[str, Any]:
    storage = Storage(url_db)
    per_person = 5
    batched_states = people(n_ops // per_person, 0, seed=2)
    single_states = people(single_ops // per_person, 0, seed=3)
    load(storage, batched_states + single_states)
    token = storage.add_desk("bench", MUNI)[1]
    srv = Server(storage)
    try:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
            ops = note_ops(batched_states, per_person)
            t0 = time.perf_counter()
            for i in range(0, len(ops), 500):
                r = http.post("/v1/push", json={"training": False, "ops": ops[i:i + 500]})
                r.raise_for_status()
                assert all(a["status"] == "applied" for a in r.json()["results"])
            batched = time.perf_counter() - t0
            ops1 = note_ops(single_states, per_person)
            t0 = time.perf_counter()
            for op in ops1:
                r = http.post("/v1/push", json={"training": False, "ops": [op]})
                r.raise_for_status()
                assert r.json()["results"][0]["status"] == "applied"
            single = time.perf_counter() - t0
    finally:
        srv.stop()
        storage.close()
    b_rate = len(ops) / batched
    s_rate = len(ops1) / single
    return {"ops_batched": len(ops), "batched_s": round(batched, 3), "batched_ops_per_s": round(b_rate),
            "ops_single": len(ops1), "single_s": round(single, 3), "single_ops_per_s": round(s_rate),
            "ratio_batched_over_single": round(b_rate / s_rate, 1)}


def serve_processes(url_db: str, n: int) -> list[tuple[subprocess.Popen, str]]:
    """``n`` separate ``sygesikring-server serve`` processes on one database, as a scaled-out
    deployment runs them behind a reverse proxy."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "SYGESIKRING_HOME": tempfile.mkdtemp(prefix="bench-serve-")}
    out = []
    for _ in range(n):
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "sygesikring_tui.server.cli", "--db",
                                 url_db.replace("+psycopg", ""), "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((proc, f"http://127.0.0.1:{port}"))
    for proc, url in out:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.05)
    return out


def bench_push_processes(url_db: str, n_servers: int, n_ops: int, desks: int = 6, batch: int = 50) -> dict[str, Any]:
    """``desks`` desks, each on its own persons, push at once in batches of ``batch``; desk i
    talks to server process i mod ``n_servers`` (all on one PostgreSQL)."""
    storage = Storage(url_db)
    per_person = 5
    states = people(n_ops // per_person, 0, seed=4)
    load(storage, states)
    tokens = [storage.add_desk(f"bench {i}", MUNI)[1] for i in range(desks)]
    shares = [states[i::desks] for i in range(desks)]
    servers = serve_processes(url_db, n_servers)
    try:
        def desk(i: int) -> int:
            ops = note_ops(shares[i], per_person)
            with httpx.Client(base_url=servers[i % n_servers][1], timeout=120,
                              headers={"Authorization": f"Bearer {tokens[i]}"}) as http:
                for k in range(0, len(ops), batch):
                    r = http.post("/v1/push", json={"training": False, "ops": ops[k:k + batch]})
                    r.raise_for_status()
                    assert all(a["status"] == "applied" for a in r.json()["results"])
            return len(ops)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=desk, args=(i,)) for i in range(desks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
        assert storage.change_seqs()[-1] == storage.head() == len(storage.change_seqs())
    finally:
        for proc, _url in servers:
            proc.terminate()
            proc.wait(30)
        storage.close()
    done = len(states) * per_person
    return {"server_processes": n_servers, "desks": desks, "batch": batch, "ops": done, "s": round(took, 3),
            "ops_per_s": round(done / took)}


def push_local_floor(url_db: str, n_ops: int) -> dict[str, Any]:
    """The floor of a batched push: the rows a push of ``n_ops`` notes writes (op log, change
    feed, person states, audit) written on the server's own database in ONE transaction, no
    HTTP, no rule check, no JSON decoding (same schema, same engine, same run)."""
    import sqlalchemy as sa

    from sygesikring_tui.server import storage as st

    storage = Storage(url_db)
    per_person = 5
    states = people(n_ops // per_person, 0, seed=6)
    load(storage, states)
    ops = note_ops(states, per_person)
    at = "2026-03-02T10:00:00+01:00"
    with storage.engine.connect() as conn:
        seq0 = conn.execute(sa.select(sa.func.coalesce(sa.func.max(st.changes.c.seq), 0))).scalar_one()
        docs = dict(conn.execute(sa.select(st.persons.c.cpr, st.persons.c.doc)).all())
    op_rows = [{"op_id": o["op_id"], "cpr": o["cpr"], "desk_id": 1, "body_hash": uuid.uuid4().hex * 2,
                "status": "applied", "seq": seq0 + i + 1, "answer": json.dumps({"status": "applied"}), "at": at}
               for i, o in enumerate(ops)]
    change_rows = [{"seq": seq0 + i + 1, "kind": "op", "key": o["cpr"], "op_id": o["op_id"], "at": at}
                   for i, o in enumerate(ops)]
    audit_rows = [{"desk_id": 1, "at": at, "cpr": o["cpr"], "action": "note_add"} for o in ops]
    person_rows = [{"k": s.cpr, "version": s.version + per_person, "seq": seq0 + n_ops, "doc": docs[s.cpr]}
                   for s in states]
    upd = (st.persons.update().where(st.persons.c.cpr == sa.bindparam("k"))
           .values(version=sa.bindparam("version"), seq=sa.bindparam("seq"), doc=sa.bindparam("doc")))
    t0 = time.perf_counter()
    with storage.engine.begin() as conn:
        conn.execute(st.ops.insert(), op_rows)
        conn.execute(st.changes.insert(), change_rows)
        conn.execute(st.audit.insert(), audit_rows)
        conn.execute(upd, person_rows)
    took = time.perf_counter() - t0
    storage.close()
    return {"floor_local_txn_s": round(took, 3), "floor_ops": len(ops)}


def push_vs_floor(push: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """The push figure: batched push time over the local one-transaction floor."""
    return {**floor, "ratio_push_over_local_txn": round(push["batched_s"] / floor["floor_local_txn_s"], 2),
            "target_ratio_max": 3.0}


def local_write_baseline(states: list[PersonState], path: Path) -> float:
    """The floor of a pull: the same persons and tasks rows bulk-written into a new desk
    store in one transaction (executemany, nothing decoded, no network)."""
    from sygesikring_tui.store.db import task_row

    store = open_store(path)
    prow = [(s.cpr, s.person.name, s.person.address.municipality_code, s.version,
             json.dumps(to_json(replace(s, tasks=())), ensure_ascii=False)) for s in states]
    trow = [task_row(t, s.person.name) for s in states for t in s.tasks]
    t0 = time.perf_counter()
    with store.transaction():
        store.conn.executemany("INSERT INTO persons(cpr, name, municipality_code, version, doc) "
                               "VALUES (?, ?, ?, ?, ?)", prow)
        store.conn.executemany("INSERT INTO tasks(id, cpr, name, search, event_code, event_id, received, due, "
                               "status, assignee, closed_reason, workaround_id) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", trow)
    took = time.perf_counter() - t0
    store.close()
    return took


def bench_pull(url_db: str, tmp: Path, n_tasks: int) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    storage = Storage(url_db)
    tasks_each = 2
    states = people(n_tasks // tasks_each, tasks_each, seed=4)
    records = ([{"type": "provider", "provider": to_json(PROVIDER)}]
               + [{"type": "person", "state": to_json(s)} for s in states])
    t0 = time.perf_counter()
    storage.load(records)  # the server's bulk load alone (records built beforehand)
    loaded = time.perf_counter() - t0
    token = storage.add_desk("new desk", MUNI)[1]
    srv = Server(storage)
    try:
        store = open_store(tmp / "new-desk.db")
        client = sync.SyncClient(srv.url, token, timeout=120)
        t0 = time.perf_counter()
        report = sync.pull(store, client)
        pulled = time.perf_counter() - t0
        n = store.conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
        store.close()
        client.close()
    finally:
        srv.stop()
        storage.close()
    assert n == n_tasks, n
    base = local_write_baseline(states, tmp / "baseline-desk.db")
    return {"tasks": n, "persons": report.pulled, "pull_s": round(pulled, 2),
            "baseline_local_write_s": round(base, 2), "ratio_pull_over_local_write": round(pulled / base, 1),
            "server_load_s": round(loaded, 2), "server_load_persons_per_s": round(len(states) / loaded)}


def _desk_a_to_desk_b(url_db: str, tmp: Path, trials: int, seed: int, interval_b: float | None,
                      notify_b: bool) -> tuple[list[float], sync.SyncWorker]:
    """Seconds from a commit on desk A until desk B shows it, per trial (A's worker is woken
    after the commit, as the UI does; B's worker polls every ``interval_b`` (None: its
    default) and, with ``notify_b``, keeps the server's long-poll open)."""
    storage = Storage(url_db)
    states = people(20, 1, seed=seed)
    load(storage, states)
    srv = Server(storage)
    workers = []
    try:
        paths = [tmp / f"lat{seed}-a.db", tmp / f"lat{seed}-b.db"]
        for p in paths:
            open_store(p).close()
        tokens = [storage.add_desk(f"desk {i}", MUNI)[1] for i in range(2)]
        wa = sync.SyncWorker(paths[0], srv.url, tokens[0], interval=5.0)
        wb = sync.SyncWorker(paths[1], srv.url, tokens[1], notify=notify_b,
                             **({} if interval_b is None else {"interval": interval_b}))
        for w in (wa, wb):
            t = threading.Thread(target=w.run, daemon=True)
            t.start()
            workers.append((w, t))
        a = open_store(paths[0])
        b = open_store(paths[1])
        while b.conn.execute("SELECT count(*) FROM persons").fetchone()[0] < len(states) or (
                notify_b and not wb.notify_offered):
            time.sleep(0.05)
        if notify_b:
            time.sleep(0.5)  # B's long-poll is open
        times = []
        for i in range(trials):
            p = states[i % len(states)].cpr
            while a.load_person(p) is None:
                time.sleep(0.05)
            text = f"latency {i}"
            case = a.create_case("2.1", p, None)
            t0 = time.perf_counter()
            a.commit_case(case.id, [PlannedOp(p, "note_add", {"text": text})], date(2026, 3, 2))
            wa.wake()  # the UI wakes the worker after a commit
            while not any(n.text == text for n in b.load_person(p).notes):
                time.sleep(0.005)
            times.append(time.perf_counter() - t0)
        a.close()
        b.close()
    finally:
        for w, t in workers:
            w.stop()
            t.join(10)
        srv.stop()
        storage.close()
    return times, wb


def bench_latency(url_db: str, tmp: Path, trials: int) -> dict[str, Any]:
    times, _wb = _desk_a_to_desk_b(url_db, tmp, trials, seed=5, interval_b=0.2, notify_b=False)
    return {"trials": trials, "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "poll_interval_b_s": 0.2}


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, -(-95 * len(xs) // 100) - 1))]


def bench_notify_latency(url_db: str, tmp: Path, trials: int) -> dict[str, Any]:
    """A change committed on desk A visible on desk B, both workers at their DEFAULT settings
    (B polls every 5 s; the server's change notification wakes it). Target: p95 <= 1 s."""
    times, wb = _desk_a_to_desk_b(url_db, tmp, trials, seed=7, interval_b=None, notify_b=True)
    return {"trials": trials, "median_s": round(statistics.median(times), 3), "p95_s": round(_p95(times), 3),
            "max_s": round(max(times), 3), "poll_interval_b_s": wb.interval, "notified": bool(wb.notify_offered)}


def bench_recovery(url_db: str, tmp: Path, trials: int, cases: int = 20) -> dict[str, Any]:
    """The server goes away, an offline desk commits ``cases`` cases, the server comes back
    on the same address: the time from its return (its first /health answer) until the
    desk's queue is drained (the worker at default settings). Target: <= 5 s."""
    storage = Storage(url_db)
    states = people(cases, 1, seed=9)
    load(storage, states)
    port = _free_port()
    path = tmp / "rec-desk.db"
    open_store(path).close()
    token = storage.add_desk("desk", MUNI)[1]
    srv = Server(storage, port=port)
    worker = sync.SyncWorker(path, srv.url, token)
    t = threading.Thread(target=worker.run, daemon=True)
    t.start()
    desk = open_store(path)
    times = []
    try:
        while desk.conn.execute("SELECT count(*) FROM persons").fetchone()[0] < len(states):
            time.sleep(0.05)
        for trial in range(trials):
            srv.stop()
            for i, st in enumerate(states):
                case = desk.create_case("2.1", st.cpr, None)
                desk.commit_case(case.id, [PlannedOp(st.cpr, "note_add", {"text": f"offline {trial}.{i}"})],
                                 date(2026, 3, 2))
                worker.wake()
            while sync.status(desk).online is not False:
                time.sleep(0.05)
            time.sleep(8)  # long enough offline that a 60 s-capped backoff would have grown
            srv = Server(storage, port=port)
            t0 = time.perf_counter()  # the server answered /health (Server waits for it)
            while desk.conn.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]:
                time.sleep(0.01)
            times.append(time.perf_counter() - t0)
    finally:
        desk.close()
        worker.stop()
        t.join(10)
        srv.stop()
        storage.close()
    return {"trials": trials, "cases_while_offline": cases, "median_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3), "probe_cap_s": sync.engine.OFFLINE_PROBE_CAP}


def private_pg() -> tuple[str, Any] | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        return None
    bindir = Path(found[-1]).parent
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(tmp / "data"), "-A", "trust", "-U", "postgres",
                              "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(tmp / "data"), "-l", str(tmp / "log"), "-w", "-o",
                              f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp}", "start"],
                   check=True, capture_output=True)

    def stop() -> None:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(tmp / "data"), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def fresh_db(admin: str) -> str:
    import psycopg

    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return admin.rsplit("/", 1)[0] + "/" + name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_sync")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--pg", help="PostgreSQL admin DSN (default: $SYGESIKRING_TEST_PG_DSN or a private cluster)")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--server", choices=("process", "thread"), default="process",
                    help="uvicorn in its own process (default, as deployed) or in a thread of this one")
    ap.add_argument("--only", choices=("push", "pull", "latency", "notify", "recovery"), action="append",
                    help="run only these parts (repeatable)")
    args = ap.parse_args(argv)
    global SERVER_MODE
    SERVER_MODE = args.server
    parts = set(args.only or ("push", "pull", "latency", "notify", "recovery"))
    n_ops, single, tasks, trials = (1000, 200, 5000, 5) if args.quick else (10_000, 1000, 100_000, 20)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    out: dict[str, Any] = {"sizes": {"ops": n_ops, "single_ops": single, "pull_tasks": tasks},
                           "server": args.server, "cpus": os.cpu_count(), "loadavg_start": os.getloadavg()}
    stop = None
    try:
        if "push" in parts:
            out["push_sqlite"] = bench_push(str(tmp / "push.db"), n_ops, single)
            out["push_sqlite"].update(push_vs_floor(out["push_sqlite"], push_local_floor(str(tmp / "floor.db"), n_ops)))
            print("push, SQLite:", out["push_sqlite"], flush=True)
        if "pull" in parts:
            out["pull_sqlite"] = bench_pull(str(tmp / "pull.db"), tmp / "sqlite", tasks)
            print("initial pull, SQLite:", out["pull_sqlite"], flush=True)
        if "latency" in parts:
            out["latency_sqlite"] = bench_latency(str(tmp / "lat.db"), tmp, trials)
            print("desk A -> desk B, SQLite:", out["latency_sqlite"], flush=True)
        if "notify" in parts:
            out["notify_latency_sqlite"] = bench_notify_latency(str(tmp / "ntf.db"), tmp, trials)
            print("desk A -> desk B, default settings (notified), SQLite:", out["notify_latency_sqlite"], flush=True)
        if "recovery" in parts:
            out["recovery_sqlite"] = bench_recovery(str(tmp / "rec.db"), tmp, 2 if args.quick else 3)
            print("server back -> offline desk's queue drained, SQLite:", out["recovery_sqlite"], flush=True)
        if not args.no_pg:
            admin = args.pg or os.environ.get("SYGESIKRING_TEST_PG_DSN")
            if not admin:
                made = private_pg()
                if made:
                    admin, stop = made
            if admin:
                if "push" in parts:
                    out["push_postgresql"] = bench_push(fresh_db(admin), n_ops, single)
                    out["push_postgresql"].update(push_vs_floor(out["push_postgresql"],
                                                                push_local_floor(fresh_db(admin), n_ops)))
                    print("push, PostgreSQL:", out["push_postgresql"], flush=True)
                if "push" in parts:
                    for n in (1, 3):
                        key = f"push_postgresql_{n}_processes"
                        out[key] = bench_push_processes(fresh_db(admin), n, n_ops // 2)
                        print(f"push, PostgreSQL, {n} server process(es), 6 desks at once:", out[key], flush=True)
                    one, three = out["push_postgresql_1_processes"], out["push_postgresql_3_processes"]
                    out["ratio_3_over_1_processes"] = round(three["ops_per_s"] / one["ops_per_s"], 2)
                    print("ratio 3 over 1 server processes:", out["ratio_3_over_1_processes"], flush=True)
                if "pull" in parts:
                    out["pull_postgresql"] = bench_pull(fresh_db(admin), tmp / "pg", tasks)
                    print("initial pull, PostgreSQL:", out["pull_postgresql"], flush=True)
            else:
                print("PostgreSQL: skipped (no DSN and no initdb)")
    finally:
        if stop:
            stop()
        shutil.rmtree(tmp, ignore_errors=True)
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    out["loadavg_end"] = os.getloadavg()
    (res / "sync.json").write_text(json.dumps(out, indent=2))
    if "push_sqlite" in out:
        ok_push = out["push_sqlite"]["batched_ops_per_s"] >= 3000
        print(f"target: batched SQLite >= 3000 ops/s: {'met' if ok_push else 'MISSED'}")
    if "notify_latency_sqlite" in out:
        ok = out["notify_latency_sqlite"]["p95_s"] <= 1.0
        print(f"target: change on desk A visible on desk B, p95 <= 1 s: {'met' if ok else 'MISSED'}")
    if "recovery_sqlite" in out:
        ok = out["recovery_sqlite"]["max_s"] <= 5.0
        print(f"target: queue drained <= 5 s after the server's return: {'met' if ok else 'MISSED'}")
    for db in ("sqlite", "postgresql"):
        if f"push_{db}" in out:
            r = out[f"push_{db}"]["ratio_push_over_local_txn"]
            print(f"target: push {n_ops} ops batched vs the same rows in one local transaction, {db}: "
                  f"{r}x (<= 3x): {'met' if r <= 3 else 'MISSED'}")
        if f"pull_{db}" in out:
            r = out[f"pull_{db}"]["ratio_pull_over_local_write"]
            print(f"target: initial pull vs the local bulk-write floor, {db}: {r}x (<= 1.2x): "
                  f"{'met' if r <= 1.2 else 'MISSED'}")
    if "pull_sqlite" in out:
        ok_pull = out["pull_sqlite"]["pull_s"] <= 10
        print(f"target: pull of {tasks} tasks <= 10 s: {'met' if ok_pull else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
