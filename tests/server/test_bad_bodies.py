"""Malformed API bodies get a clear 4xx, never a 500, and nothing is written."""

from __future__ import annotations

import pytest
from srvkit import Env

GOOD_OP = {"op_id": "o1", "kind": "note_add", "cpr": "1206851234", "base_version": 1, "case_id": None,
           "payload": {"text": "x"}}

BAD_PUSH = [
    ("not json", b"{nope"),
    ("a list", [1, 2]),
    ("no training flag", {"ops": []}),
    ("ops not a list", {"training": False, "ops": "x"}),
    ("op without op_id", {"training": False, "ops": [{k: v for k, v in GOOD_OP.items() if k != "op_id"}]}),
    ("cpr not 10 digits", {"training": False, "ops": [{**GOOD_OP, "cpr": "12-06-85"}]}),
    ("negative base", {"training": False, "ops": [{**GOOD_OP, "base_version": -1}]}),
    ("payload not an object", {"training": False, "ops": [{**GOOD_OP, "payload": [1]}]}),
    ("unknown field", {"training": False, "ops": [{**GOOD_OP, "extra": 1}]}),
    ("huge op_id", {"training": False, "ops": [{**GOOD_OP, "op_id": "x" * 500}]}),
    ("too many ops", {"training": False, "ops": [GOOD_OP] * 2001}),
]


@pytest.mark.parametrize("name,body", BAD_PUSH, ids=[b[0] for b in BAD_PUSH])
def test_malformed_push_bodies_are_422_with_a_message(env: Env, name, body):
    token = env.desk()
    head = env.storage.head()
    with env.http(token) as http:
        if isinstance(body, bytes):
            r = http.post("/v1/push", content=body, headers={"Content-Type": "application/json"})
        else:
            r = http.post("/v1/push", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    assert env.storage.head() == head


@pytest.mark.parametrize("query", ["cursor=-1", "cursor=abc", "limit=0", "limit=999999"])
def test_bad_pull_parameters_are_422(env: Env, query):
    with env.http(env.desk()) as http:
        assert http.get(f"/v1/changes?{query}").status_code == 422


@pytest.mark.parametrize("event", [
    {"code": "038", "cpr": "123", "date": "2026-01-01"},
    {"code": "038", "cpr": "1206851234", "date": "1 jan"},
    {"cpr": "1206851234", "date": "2026-01-01"},
    {"code": "038", "cpr": "1206851234", "date": "2026-01-01", "data": "x"},
])
def test_malformed_cpr_events_are_422(env: Env, event):
    feed = env.storage.add_desk("feed", None, role="feed")[1]
    with env.http(feed) as http:
        assert http.post("/v1/cpr-events", json={"events": [event]}).status_code == 422


def test_an_impossible_date_in_an_event_is_a_4xx_not_a_500(env: Env):
    feed = env.storage.add_desk("feed", None, role="feed")[1]
    with env.http(feed) as http:
        r = http.post("/v1/cpr-events", json={"events": [{"code": "038", "cpr": "1206851234", "date": "2026-02-31"}]})
    assert 400 <= r.status_code < 500
