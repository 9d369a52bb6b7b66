"""Tokens and municipalities: missing, wrong and revoked tokens are refused; a desk neither
reads nor writes another municipality's persons; every read and write is audited."""

from __future__ import annotations

import random

import pytest
from srvkit import MUNI_A, MUNI_B, Env, load_records, make_person

ENDPOINTS = [("GET", "/v1/changes"), ("POST", "/v1/push"), ("GET", "/v1/whoami"), ("POST", "/v1/cpr-events")]


@pytest.fixture
def people(env: Env):
    rng = random.Random(3)
    a = make_person(rng, MUNI_A)
    b = make_person(rng, MUNI_B)
    env.storage.load(load_records([a, b]))
    return a, b


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_missing_wrong_and_revoked_tokens_are_401(env: Env, method, path):
    token = env.desk()
    desk_id = env.storage.desk_for_token(token).id
    env.storage.revoke_desk(desk_id)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {token}"},
                    {"Authorization": token}):
        with env.http() as http:
            r = http.request(method, path, headers=headers, json={"training": False, "ops": []})
        assert r.status_code == 401, (headers, r.text)


def test_a_live_token_is_accepted_and_only_its_hash_is_stored(env: Env):
    token = env.desk(name="Borgerservice Aarhus")
    with env.http(token) as http:
        assert http.get("/v1/whoami").json()["municipality"] == MUNI_A
    import sqlalchemy as sa

    with env.storage.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_hash FROM desks")).scalars().all()
    assert token not in stored and len(stored[0]) == 64


def test_another_municipalitys_person_is_404_to_read_and_refused_to_write(env: Env, people):
    a, b = people
    token = env.desk(MUNI_A)
    with env.http(token) as http:
        assert http.get(f"/v1/persons/{a.cpr}").status_code == 200
        assert http.get(f"/v1/persons/{b.cpr}").status_code == 404
        assert http.get("/v1/persons/0000000000").status_code == 404
        op = {"op_id": "x1", "kind": "note_add", "cpr": b.cpr, "base_version": b.version, "case_id": None,
              "payload": {"text": "hej", "at": "2026-03-02T10:00:00+01:00"}}
        r = http.post("/v1/push", json={"training": False, "ops": [op]})
        changes = http.get("/v1/changes").json()["changes"]
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"
    assert r.json()["results"][0]["reasons"] == [{"code": "not_found", "params": {}}]
    assert env.storage.all_persons()[b.cpr] == b
    assert {c["cpr"] for c in changes if c["kind"] == "person"} == {a.cpr}


def test_a_feed_credential_cannot_push_or_pull_and_a_desk_cannot_post_events(env: Env, people):
    feed = env.storage.add_desk("CPR feed", None, role="feed")[1]
    desk = env.desk()
    with env.http(feed) as http:
        assert http.get("/v1/changes").status_code == 403
        assert http.post("/v1/push", json={"training": False, "ops": []}).status_code == 403
    with env.http(desk) as http:
        r = http.post("/v1/cpr-events", json={"events": []})
    assert r.status_code == 403


def test_every_read_and_write_of_a_person_is_in_the_audit_log(env: Env, people):
    a, _ = people
    token = env.desk()
    desk_id = env.storage.desk_for_token(token).id
    with env.http(token) as http:
        http.get("/v1/changes")
        http.get(f"/v1/persons/{a.cpr}")
        op = {"op_id": "n1", "kind": "note_add", "cpr": a.cpr, "base_version": a.version, "case_id": None,
              "payload": {"text": "hej", "at": "2026-03-02T10:00:00+01:00"}}
        http.post("/v1/push", json={"training": False, "ops": [op]})
    rows = [(d, c, act) for d, _at, c, act in env.storage.audit_rows(a.cpr)]
    assert rows == [(None, a.cpr, "load"), (desk_id, a.cpr, "pull"), (desk_id, a.cpr, "read"),
                    (desk_id, a.cpr, "push:applied")]
