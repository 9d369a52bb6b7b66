"""What a real ``sygesikring-server serve`` prints and leaves on disk: no full CPR number in its
standard output, standard error or log file — access log on or off, a 500 included — the 500's
traceback in the log file, and the database with its -wal/-shm readable by the owner only."""

from __future__ import annotations

import random
import re
import sqlite3
import stat

import httpx
from srvkit import MUNI_A, ServerProcess, load_records, make_person

from sygesikring_tui.server.storage import Storage

ABSENT = "0101901234"
ANY_CPR = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")


def _setup(tmp_path):
    db = tmp_path / "server.db"
    storage = Storage(str(db))
    rng = random.Random(31)
    a, b = make_person(rng, MUNI_A), make_person(rng, MUNI_A)
    storage.load(load_records([a, b]))
    token = storage.add_desk("desk", MUNI_A)[1]
    storage.close()
    return db, a, b, token


def _traffic(srv: ServerProcess, token: str, a, cprs) -> None:
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}",
                                                 "X-Caseworker": "sagsbehandler-1"}, timeout=30) as http:
        for cpr in cprs:
            http.get(f"/v1/persons/{cpr}")
        op = {"op_id": "o-1", "kind": "note_add", "cpr": a.cpr, "base_version": a.version, "case_id": None,
              "payload": {"text": f"ringede om {a.cpr}", "at": "2026-03-02T10:00:00+01:00"}}
        assert http.post("/v1/push", json={"training": False, "ops": [op]}).status_code == 200
        assert http.get("/v1/changes").status_code == 200
        http.get(f"/v1/changes?cursor=x{a.cpr}")  # a 422, the CPR in the logged query string


def test_a_real_run_prints_and_logs_no_full_cpr_number_and_logs_its_500_with_traceback(tmp_path):
    db, a, b, token = _setup(tmp_path)
    srv = ServerProcess(str(db), tmp_path / "home", "--access-log").start()
    try:
        _traffic(srv, token, a, [a.cpr, b.cpr, ABSENT])
        with sqlite3.connect(db) as conn:  # the database breaks under the running server
            conn.execute("DROP TABLE persons")
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            r = http.get(f"/v1/persons/{b.cpr}")
        assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
    finally:
        srv.stop()
    out = srv.output()
    assert f"GET /v1/persons/{a.cpr[:6]}-XXXX" in out  # the access log is on, and masked
    log = srv.log_file.read_text()
    assert "Traceback" in log and f"unhandled error in GET /v1/persons/{b.cpr[:6]}-XXXX" in log
    assert "no such table: persons" in log
    for cpr in (a.cpr, b.cpr, ABSENT):
        assert cpr not in out
    assert not ANY_CPR.findall(out.replace("-XXXX", "")), ANY_CPR.findall(out)[:5]
    assert stat.S_IMODE(srv.log_file.stat().st_mode) == 0o600


def test_the_access_log_is_off_unless_asked_for_and_the_database_files_are_private(tmp_path):
    db, a, b, token = _setup(tmp_path)
    srv = ServerProcess(str(db), tmp_path / "home").start()
    try:
        _traffic(srv, token, a, [a.cpr])
        files = [db, db.with_name("server.db-wal"), db.with_name("server.db-shm")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    finally:
        srv.stop()
    assert modes == {"server.db": 0o600, "server.db-wal": 0o600, "server.db-shm": 0o600}
    out = srv.output()
    assert "GET /v1/persons" not in out and a.cpr not in out


def test_an_existing_database_readable_by_others_is_made_private_at_start(tmp_path):
    db = tmp_path / "old.db"
    Storage(str(db)).close()
    db.chmod(0o644)
    Storage(str(db)).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
