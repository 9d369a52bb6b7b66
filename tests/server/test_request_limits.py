"""Requests are bounded and idempotency answers stay with their desk: an oversized body is 413
with a JSON body (by its Content-Length or counted while streamed), every integer has a
bound, text the database cannot hold (a lone surrogate) is refused — 422 for the request, or a
rejected answer for one operation's payload — never a 500,
and an op_id another desk used is 409 "op_id in use" with nothing of the other desk's answer."""

from __future__ import annotations

import json
import random

import pytest
from srvkit import MUNI_A, MUNI_B, Env, load_records, make_person

from sygesikring_tui.server.app import MAX_BODY, create_app


def _note(cpr: str, base: int, op_id: str, text: str = "hej") -> dict:
    return {"op_id": op_id, "kind": "note_add", "cpr": cpr, "base_version": base, "case_id": None,
            "payload": {"text": text, "at": "2026-03-02T10:00:00+01:00"}}


@pytest.fixture
def person(env: Env):
    p = make_person(random.Random(21), MUNI_A)
    env.storage.load(load_records([p]))
    return p


def test_a_body_over_the_limit_is_413_with_a_json_body_and_writes_nothing(env: Env, person):
    head = env.storage.head()
    big = _note(person.cpr, person.version, "big", "x" * (MAX_BODY + 10))
    with env.http(env.desk()) as http:
        r = http.post("/v1/push", json={"training": False, "ops": [big]})
    assert r.status_code == 413
    assert r.json() == {"detail": f"request body too large: at most {MAX_BODY} bytes", "limit": MAX_BODY}
    assert env.storage.head() == head


def test_a_streamed_body_without_a_length_is_counted_and_cut_at_the_configured_limit(env: Env, person):
    if env.mode == "inprocess":
        app = create_app(env.storage, max_body=2000)
        small = Env(env.storage, app, "inprocess", "http://testserver")
    else:
        small = env
        pytest.skip("the configured limit is exercised in process; uvicorn runs the default app")
    body = json.dumps({"training": False, "ops": [_note(person.cpr, person.version, "s1", "y" * 5000)]}).encode()

    def chunks():
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    with small.http(small.desk()) as http:
        r = http.post("/v1/push", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["limit"] == 2000
    assert env.storage.all_persons()[person.cpr].version == person.version


@pytest.mark.parametrize("query", ["cursor=9223372036854775808", "cursor=4611686018427387905", "limit=10001"])
def test_integers_beyond_their_bounds_in_a_pull_are_422(env: Env, query):
    with env.http(env.desk()) as http:
        r = http.get(f"/v1/changes?{query}")
    assert r.status_code == 422 and r.json()["errors"]


@pytest.mark.parametrize("base", [2 ** 31, 2 ** 63, True, 1.5])
def test_a_base_version_out_of_range_or_not_an_integer_is_422(env: Env, person, base):
    with env.http(env.desk()) as http:
        r = http.post("/v1/push", json={"training": False, "ops": [{**_note(person.cpr, 1, "b1"), "base_version": base}]})
    assert r.status_code == 422, r.text


LONE = '"\\ud800"'  # JSON text of a lone surrogate: valid JSON, not valid Unicode


def _raw_push(env: Env, text: str):
    with env.http(env.desk()) as http:
        return http.post("/v1/push", content=text.encode(), headers={"Content-Type": "application/json"})


def test_a_lone_surrogate_in_an_op_id_refuses_the_request_with_422_not_500(env: Env, person):
    text = json.dumps({"training": False, "ops": [_note(person.cpr, person.version, "SURR")]})
    r = _raw_push(env, text.replace('"SURR"', LONE))
    assert r.status_code == 422, r.text
    assert env.storage.all_persons()[person.cpr].version == person.version


@pytest.mark.parametrize("where", ["value", "key"])
def test_a_lone_surrogate_in_a_payload_rejects_that_operation_and_the_batch_goes_on(env: Env, person, where):
    bad = json.dumps(_note(person.cpr, person.version, "bad"))
    bad = bad.replace('"hej"', LONE) if where == "value" else bad.replace('"text"', LONE)
    good = json.dumps(_note(person.cpr, person.version, "good"))
    r = _raw_push(env, '{"training": false, "ops": [%s, %s]}' % (bad, good))
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "rejected" and first["reasons"][0]["code"] == "rule.payload"
    assert second["status"] == "blocked"  # made on top of the refused one, as for any rejection
    assert env.storage.all_persons()[person.cpr].version == person.version


def test_a_lone_surrogate_in_a_cpr_event_is_422_not_500(env: Env, person):
    feed = env.storage.add_desk("feed", None, role="feed")[1]
    text = json.dumps({"events": [{"code": "038", "cpr": person.cpr, "date": "2026-03-01",
                                   "data": {"note": "PLACEHOLDER"}}]}).replace('"PLACEHOLDER"', LONE)
    with env.http(feed) as http:
        r = http.post("/v1/cpr-events", content=text.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text


def test_a_payload_nested_deeper_than_the_bound_is_rejected(env: Env, person):
    deep: dict = {"text": "hej"}
    for _ in range(40):
        deep = {"x": deep}
    with env.http(env.desk()) as http:
        r = http.post("/v1/push", json={"training": False, "ops": [{**_note(person.cpr, 1, "d1"), "payload": deep}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"


def test_an_op_id_used_by_another_desk_is_409_and_tells_nothing_of_its_answer(env: Env):
    rng = random.Random(22)
    a, b = make_person(rng, MUNI_A), make_person(rng, MUNI_B)
    env.storage.load(load_records([a, b]))
    desk_b = env.desk(MUNI_B, "desk B")
    desk_a = env.desk(MUNI_A, "desk A")
    op = _note(b.cpr, b.version, "shared-op-id")
    with env.http(desk_b) as http:
        assert http.post("/v1/push", json={"training": False, "ops": [op]}).json()["results"][0]["status"] == "applied"
        again = http.post("/v1/push", json={"training": False, "ops": [op]}).json()["results"][0]
    assert again["status"] == "duplicate"  # the desk that sent it gets its stored answer
    assert [r[3] for r in env.storage.audit_rows(b.cpr)][-2:] == ["push:applied", "push:duplicate"]
    head = env.storage.head()
    with env.http(desk_a) as http:
        exact = http.post("/v1/push", json={"training": False, "ops": [op]})
        other = http.post("/v1/push", json={"training": False, "ops": [_note(a.cpr, a.version, "shared-op-id")]})
    for r in (exact, other):
        assert r.status_code == 409 and r.json() == {"detail": "op_id in use"}
        assert b.person.name not in r.text and b.cpr not in r.text
    assert env.storage.head() == head
