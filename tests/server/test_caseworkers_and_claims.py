"""Caseworkers sign in on a desk; every operation is in a signed-in caseworker's name; two
caseworkers on two desks claiming one task end with exactly one holding it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from srvkit import MUNI_A, MUNI_B, TODAY, Env, load_records, make_person

from sygesikring_tui import sync
from sygesikring_tui.server import caseworkers as cw_mod
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.audit import query as audit_query
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import claims, open_store, session
from sygesikring_tui.store.db import RuleViolation


@pytest.fixture
def team(db_url: str) -> Iterator[Env]:
    """One server (in process) on SQLite and on PostgreSQL."""
    storage = Storage(db_url, today=lambda: date(2026, 3, 2))
    try:
        yield Env(storage, create_app(storage), "inprocess", "http://testserver")
    finally:
        storage.close()


def _desk(env: Env, path: Path, initials: str, secret: str, municipality: int = MUNI_A):
    """A desk store synced once, with ``initials`` signed in on it."""
    store = open_store(path)
    client = env.client(env.desk(municipality, name=path.stem))
    got = client.sign_in(initials, secret)
    session.remember(store, session.SignedIn(got["initials"], got["name"], got["team_lead"], got["session"],
                                             got["expires"]))
    sync.sync_once(store, client)
    return store, client


def _one_task(env: Env) -> tuple[str, str]:
    p = make_person(random.Random(7))
    env.storage.load(load_records([p]))
    return p.cpr, p.tasks[0].id


def test_a_secret_is_stored_only_as_a_salted_hash_and_checked(sqlite_env: Env):
    cw, secret = sqlite_env.storage.add_caseworker(MUNI_A, "abc", "Anne Bech")
    assert cw.initials == "ABC" and len(secret.replace("-", "")) == 16
    with sqlite_env.storage.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_hash FROM caseworkers").scalar_one()
    assert secret not in stored and stored.startswith("scrypt$")
    assert cw_mod.verify_secret(secret.lower(), stored)  # typed in lower case, dashes optional
    assert not cw_mod.verify_secret("AAAA-BBBB-CCCC-DDDD", stored)
    assert cw_mod.hash_secret(secret) != cw_mod.hash_secret(secret)  # salted


def test_sign_in_needs_the_right_secret_and_the_desks_municipality(sqlite_env: Env):
    _cw, secret = sqlite_env.storage.add_caseworker(MUNI_A, "ABC", "Anne Bech", team_lead=True)
    http = sqlite_env.http(sqlite_env.desk(MUNI_A))
    assert http.post("/v1/sign-in", json={"initials": "ABC", "secret": "WRONG-WRONG"}).status_code == 403
    r = http.post("/v1/sign-in", json={"initials": "abc", "secret": secret})
    assert r.status_code == 200 and r.json()["team_lead"] is True
    token = r.json()["session"]
    other = sqlite_env.http(sqlite_env.desk(MUNI_B))
    assert other.post("/v1/sign-in", json={"initials": "ABC", "secret": secret}).status_code == 403
    # the session is this desk's: another desk cannot sign it out
    assert other.post("/v1/sign-out", headers={"X-Caseworker-Session": token}).json() == {"ended": False}
    assert http.get("/v1/caseworkers").json()["caseworkers"] == [
        {"initials": "ABC", "name": "Anne Bech", "team_lead": True}]
    assert http.post("/v1/sign-out", headers={"X-Caseworker-Session": token}).json() == {"ended": True}
    assert http.post("/v1/sign-out", headers={"X-Caseworker-Session": token}).json() == {"ended": False}


def test_revoking_a_caseworker_refuses_their_sign_in(sqlite_env: Env):
    _cw, secret = sqlite_env.storage.add_caseworker(MUNI_A, "ABC", "Anne Bech")
    assert sqlite_env.storage.revoke_caseworker(MUNI_A, "abc")
    http = sqlite_env.http(sqlite_env.desk(MUNI_A))
    assert http.post("/v1/sign-in", json={"initials": "ABC", "secret": secret}).status_code == 403


def test_both_claim_offline_then_sync_exactly_one_holds_the_task(team: Env, tmp_path: Path):
    cpr, task = _one_task(team)
    _a, sa = team.storage.add_caseworker(MUNI_A, "AB", "Anne Bech")
    _b, sb = team.storage.add_caseworker(MUNI_A, "CD", "Carl Dam")
    a, ca = _desk(team, tmp_path / "a.db", "AB", sa)
    b, cb = _desk(team, tmp_path / "b.db", "CD", sb)
    claims.claim(a, cpr, task, "AB", TODAY)  # both offline: each desk holds its own claim
    claims.claim(b, cpr, task, "CD", TODAY)
    assert a.task(task).assignee == "AB" and b.task(task).assignee == "CD"
    sync.sync_once(a, ca)
    sync.sync_once(b, cb)
    sync.sync_once(a, ca)
    holder = team.storage.all_persons()[cpr].task(task)
    assert holder.assignee == "AB" and holder.claimed_at
    assert a.task(task).assignee == "AB" and b.task(task).assignee == "AB"  # B's claim not kept silently
    lost = claims.lost_claims(b)
    assert [(x.task_id, x.holder, x.since) for x in lost] == [(task, "AB", holder.claimed_at)]
    assert claims.lost_claims(a) == []
    # B's conflict list says whose and since when
    from screens.sync_view import reason_texts
    from sygesikring_tui.i18n import t

    (item,) = sync.conflicts(b)
    assert reason_texts(item) == [t("rule.task_claimed", by="AB", since=holder.claimed_at[:10])]
    # Now B knows: a second try is refused at once, naming whose and since when.
    with pytest.raises(RuleViolation) as exc:
        claims.claim(b, cpr, task, "CD", TODAY)
    assert [(v.code, v.params["by"]) for v in exc.value.violations] == [("rule.task_claimed", "AB")]
    # Every push names its caseworker in the audit log.
    pushed = {(r.caseworker, r.action) for r in audit_query(team.storage.engine, cpr=cpr)
              if r.action.startswith("push:")}
    assert pushed == {("AB", "push:applied"), ("CD", "push:conflict")}
    pulled = {r.caseworker for r in audit_query(team.storage.engine, cpr=cpr) if r.action == "pull"}
    assert pulled == {"AB", "CD"}  # a pull names the caseworker of the session it came with


def test_the_claimant_releases_and_a_team_lead_reassigns(team: Env, tmp_path: Path):
    cpr, task = _one_task(team)
    _a, sa = team.storage.add_caseworker(MUNI_A, "AB", "Anne Bech")
    _b, sb = team.storage.add_caseworker(MUNI_A, "CD", "Carl Dam")
    _l, sl = team.storage.add_caseworker(MUNI_A, "TL", "Tove Leder", team_lead=True)
    a, ca = _desk(team, tmp_path / "a.db", "AB", sa)
    b, cb = _desk(team, tmp_path / "b.db", "CD", sb)
    lead, cl = _desk(team, tmp_path / "l.db", "TL", sl)
    claims.claim(a, cpr, task, "AB", TODAY)
    sync.sync_once(a, ca)
    sync.sync_once(b, cb)
    with pytest.raises(RuleViolation):  # not B's to release
        claims.release(b, cpr, task, "CD", TODAY)
    claims.release(a, cpr, task, "AB", TODAY)
    sync.sync_once(a, ca)
    assert team.storage.all_persons()[cpr].task(task).assignee is None
    claims.claim(a, cpr, task, "AB", TODAY)
    sync.sync_once(a, ca)
    sync.sync_once(lead, cl)
    claims.reassign(lead, cpr, task, "CD", "TL", TODAY)
    sync.sync_once(lead, cl)
    assert team.storage.all_persons()[cpr].task(task).assignee == "CD"


def test_a_desk_cannot_push_in_the_name_of_a_caseworker_not_signed_in_on_it(team: Env, tmp_path: Path):
    cpr, task = _one_task(team)
    _a, sa = team.storage.add_caseworker(MUNI_A, "AB", "Anne Bech")
    team.storage.add_caseworker(MUNI_A, "CD", "Carl Dam")  # never signs in on desk A
    _x, sx = team.storage.add_caseworker(MUNI_B, "XY", "Xenia Ypsilon")  # another municipality's
    a, ca = _desk(team, tmp_path / "a.db", "AB", sa)
    for who, reason in (("CD", "caseworker.not_signed_in"), ("XY", "caseworker.unknown")):
        op = claims.claim(a, cpr, task, who, TODAY)[0]  # the desk store is tricked; the server is not
        sync.sync_once(a, ca)
        row = next(r for r in a.outbox() if r["op_id"] == op.op_id)
        assert row["status"] == "rejected" and [x["code"] for x in row["result"]["answer"]["reasons"]] == [reason]
        sync.resolve(a, op.op_id, "drop", "forkert navn")
        # AB, signed in, holds the task and hands it to someone not of the municipality: refused too
        claims.claim(a, cpr, task, "AB", TODAY)
        sync.sync_once(a, ca)
        op = claims.reassign(a, cpr, task, "XY" if who == "XY" else "ZZ", "AB", TODAY)[0]
        sync.sync_once(a, ca)
        row = next(r for r in a.outbox() if r["op_id"] == op.op_id)
        assert [x["code"] for x in row["result"]["answer"]["reasons"]] == ["caseworker.unknown"]
        assert team.storage.all_persons()[cpr].task(task).assignee == "AB"
        assert [x.op_id for x in claims.lost_claims(a)] == [op.op_id]  # shown, not silently dropped
        sync.resolve(a, op.op_id, "drop", "forkert navn")
        claims.release(a, cpr, task, "AB", TODAY)
        sync.sync_once(a, ca)
    # an operation naming nobody, once the municipality has caseworkers
    r = team.http(team.desk(MUNI_A)).post("/v1/push", json={"training": False, "ops": [
        {"op_id": "o-none", "kind": "task_claim", "cpr": cpr, "base_version": team.storage.all_persons()[cpr].version,
         "payload": {"task_id": task, "claimant": "AB"}}]})
    assert r.json()["results"][0]["reasons"][0]["code"] == "caseworker.missing"
    # the session a desk got is for that desk only: signed in on A, pushing from desk B is refused
    other = team.desk(MUNI_A, name="b")
    r = team.http(other).post("/v1/push", json={"training": False, "ops": [
        {"op_id": "o-b", "kind": "task_claim", "cpr": cpr, "base_version": team.storage.all_persons()[cpr].version,
         "payload": {"task_id": task, "claimant": "AB", "author": "AB"}}]})
    assert r.json()["results"][0]["reasons"][0]["code"] == "caseworker.not_signed_in"


def test_an_operation_made_while_signed_in_still_goes_after_sign_out(sqlite_env: Env, tmp_path: Path):
    cpr, task = _one_task(sqlite_env)
    _a, sa = sqlite_env.storage.add_caseworker(MUNI_A, "AB", "Anne Bech")
    a, ca = _desk(sqlite_env, tmp_path / "a.db", "AB", sa)
    claims.claim(a, cpr, task, "AB", TODAY)
    assert ca.sign_out(session.current(a).session)
    session.forget(a)
    sync.sync_once(a, ca)
    assert sqlite_env.storage.all_persons()[cpr].task(task).assignee == "AB"


def test_a_demo_load_carries_the_team_and_its_claims_and_prints_each_secret_once(tmp_path: Path, capsys):
    from dataclasses import replace

    from sygesikring_tui.server import cli
    from sygesikring_tui.server.export import export_training
    from sygesikring_tui.training import TEAM

    train = open_store(tmp_path / "training.db", training=True)
    p = make_person(random.Random(3), n_tasks=2)
    p = replace(p, tasks=(replace(p.tasks[0], assignee="AB", claimed_at="2026-03-01T09:00:00+01:00"), p.tasks[1]))
    with train.transaction():
        train.save_person(p)
    train.close()
    out = tmp_path / "demo.jsonl"
    export_training(tmp_path / "training.db", MUNI_A, out)
    db = str(tmp_path / "s.db")
    assert cli.main(["--db", db, "load", str(out)]) == 0
    printed = capsys.readouterr().out
    secrets = dict(line.split(" of municipality 751: ") for line in printed.splitlines() if "municipality" in line)
    assert sorted(k.split()[-1] for k in secrets) == sorted(i for i, _n, _l in TEAM)
    assert cli.main(["--db", db, "load", str(out)]) == 0  # again: the team exists, no new secrets
    assert "municipality 751:" not in capsys.readouterr().out
    st = Storage(db)
    try:
        assert st.all_persons()[p.cpr].tasks[0].assignee == "AB"
        desk = st.add_desk("demo", MUNI_A)[0]
        session_, _tok = st.sign_in(desk, "AB", secrets["caseworker AB"])
        assert session_.caseworker.name == "Anne Bech"
    finally:
        st.close()


def test_the_cli_adds_a_caseworker_printing_the_secret_once_lists_without_it_and_revokes(tmp_path: Path, capsys):
    from sygesikring_tui.server import cli

    db = str(tmp_path / "s.db")
    assert cli.main(["--db", db, "add-caseworker", "--municipality", "101", "--initials", "abc", "--name", "Anne B",
                     "--team-lead"]) == 0
    out = capsys.readouterr()
    secret = out.out.strip()
    assert len(secret) == 19 and "team lead ABC" in out.err and secret not in out.err
    assert cli.main(["--db", db, "add-caseworker", "--municipality", "101", "--initials", "ABC", "--name", "x"]) == 1
    capsys.readouterr()
    assert cli.main(["--db", db, "list-caseworkers"]) == 0
    listed = capsys.readouterr().out
    assert "ABC" in listed and "lead" in listed and secret not in listed
    assert cli.main(["--db", db, "revoke-caseworker", "--municipality", "101", "--initials", "abc"]) == 0
    assert cli.main(["--db", db, "revoke-caseworker", "--municipality", "101", "--initials", "abc"]) == 1
    st = Storage(db)
    try:
        assert st.list_caseworkers(101)[0].revoked is not None
    finally:
        st.close()
