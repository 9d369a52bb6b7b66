"""Every access attempt to a person is one audit row — allowed, refused (another municipality's
person) or not_found (no such CPR) — the database refuses to change or delete one, and
``sygesikring-server audit`` prints them with CPR numbers masked unless written to a private
file on request."""

from __future__ import annotations

import random
import stat

import pytest
import sqlalchemy as sa
from srvkit import MUNI_A, MUNI_B, Env, load_records, make_person

from sygesikring_tui.server import audit as audit_mod
from sygesikring_tui.server import cli as server_cli
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage

ABSENT = "0101901234"


def _load_two(env: Env):
    rng = random.Random(11)
    a, b = make_person(rng, MUNI_A), make_person(rng, MUNI_B)
    env.storage.load(load_records([a, b]))
    return a, b


@pytest.fixture
def people(env: Env):
    return _load_two(env)


@pytest.fixture
def cli_env(db_url: str):
    """The audit command reads the database: one in-process server per database is enough."""
    storage = Storage(db_url)
    yield Env(storage, create_app(storage), "inprocess", "http://testserver")
    storage.close()


def _note(cpr: str, base: int, op_id: str) -> dict:
    return {"op_id": op_id, "kind": "note_add", "cpr": cpr, "base_version": base, "case_id": None,
            "payload": {"text": "hej", "at": "2026-03-02T10:00:00+01:00"}}


def test_allowed_refused_and_absent_reads_and_writes_each_leave_one_row(env: Env, people):
    a, b = people
    token = env.desk(MUNI_A)
    desk_id = env.storage.desk_for_token(token).id
    with env.http(token) as http:
        assert http.get(f"/v1/persons/{a.cpr}", headers={"X-Caseworker": "kbh-sagsbeh-7"}).status_code == 200
        assert http.get(f"/v1/persons/{b.cpr}").status_code == 404
        assert http.get(f"/v1/persons/{ABSENT}").status_code == 404
        r = http.post("/v1/push", json={"training": False, "ops": [_note(b.cpr, b.version, "w1"),
                                                                   _note(ABSENT, 1, "w2")]})
        assert [x["status"] for x in r.json()["results"]] == ["rejected", "rejected"]
    rows = [(r.desk_id, r.cpr, r.action, r.result, r.caseworker)
            for r in audit_mod.query(env.storage.engine, desk=desk_id)]
    assert rows == [(desk_id, a.cpr, "read", "allowed", "kbh-sagsbeh-7"),
                    (desk_id, b.cpr, "read", "refused", None),
                    (desk_id, ABSENT, "read", "not_found", None),
                    (desk_id, b.cpr, "push:rejected", "refused", None),
                    (desk_id, ABSENT, "push:rejected", "not_found", None)]


def test_the_database_refuses_to_change_or_delete_an_audit_row(env: Env, people):
    a, _ = people
    with env.storage.engine.connect() as conn:
        for stmt in ("UPDATE audit SET action = 'nothing'", "DELETE FROM audit"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with conn.begin():
                    conn.exec_driver_sql(stmt)
    assert [r[3] for r in env.storage.audit_rows(a.cpr)] == ["load"]


def test_the_audit_command_masks_cpr_numbers_and_filters_by_cpr_desk_and_time(cli_env: Env, capsys):
    env = cli_env
    a, b = _load_two(env)
    token = env.desk(MUNI_A)
    desk_id = env.storage.desk_for_token(token).id
    with env.http(token) as http:
        http.get(f"/v1/persons/{a.cpr}")
        http.get(f"/v1/persons/{b.cpr}")
    db = env.storage.url.replace("postgresql+psycopg://", "postgresql://").replace("sqlite:///", "")
    assert server_cli.main(["--db", db, "audit", "--desk", str(desk_id)]) == 0
    table = capsys.readouterr().out
    assert a.cpr not in table and b.cpr not in table
    assert f"{a.cpr[:6]}-XXXX" in table and "refused" in table and "allowed" in table
    assert server_cli.main(["--db", db, "audit", "--cpr", b.cpr, "--csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0].startswith("id,at,desk") and len(csv_lines) == 3  # header, load, refused read
    assert all(b.cpr not in line for line in csv_lines)
    assert server_cli.main(["--db", db, "audit", "--since", "2999-01-01"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # the header only


def test_full_cpr_numbers_only_into_a_private_file(cli_env: Env, tmp_path, capsys):
    env = cli_env
    a, _ = _load_two(env)
    db = env.storage.url.replace("postgresql+psycopg://", "postgresql://").replace("sqlite:///", "")
    assert server_cli.main(["--db", db, "audit", "--unmasked"]) == 2
    assert a.cpr not in capsys.readouterr().out
    out = tmp_path / "audit.csv"
    assert server_cli.main(["--db", db, "audit", "--csv", "--unmasked", "--out", str(out)]) == 0
    assert a.cpr in out.read_text() and a.cpr not in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_since_takes_a_date_or_a_moment_with_its_offset_in_utc():
    assert audit_mod.parse_since("2026-03-01") == "2026-03-01"
    assert audit_mod.parse_since("2026-03-01T10:00:00+01:00") == "2026-03-01T09:00:00.000+00:00"
    assert audit_mod.parse_since("2026-03-01T10:00") == "2026-03-01T10:00:00.000+00:00"
