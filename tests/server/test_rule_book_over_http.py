"""A desk pushing straight over HTTP gets the same rule book as the store commit: every
forcing rule is refused when its condition fails ("rejected", the rule named, the server's
state unchanged) and applied when it holds; no operation body makes the server answer 500."""

from __future__ import annotations

import random
import uuid

import pytest

from sygesikring_tui.domain.model import to_json
from tests.factories import PROVIDERS, ForcingCase, a_person, forcing_cases
from tests.server.srvkit import Env

CASES = forcing_cases()


def _load(env: Env, states) -> None:
    env.storage.load([{"type": "provider", "provider": to_json(p)} for p in PROVIDERS]
                     + [{"type": "person", "state": to_json(s)} for s in states])


def _push(http, cpr: str, version: int, kind: str, payload) -> tuple[int, dict]:
    body = {"training": False, "ops": [{"op_id": str(uuid.uuid4()), "kind": kind, "cpr": cpr, "payload": payload,
                                        "base_version": version, "case_id": None}]}
    r = http.post("/v1/push", json=body)
    return r.status_code, (r.json()["results"][0] if r.status_code == 200 else {})


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_a_forced_choice_over_http_is_applied_only_when_its_rule_holds(env: Env, case: ForcingCase) -> None:
    _load(env, case.states)
    before = env.storage.person(None, case.cpr)
    with env.http(env.desk()) as http:
        status, answer = _push(http, case.cpr, before.version, "doctor_choice", case.payload)
    assert status == 200
    after = env.storage.person(None, case.cpr)
    if case.ok:
        assert answer["status"] == "applied"
        assert after.current_doctor(after.doctors[-1].effective).force_rule == case.rule
    else:
        assert answer["status"] == "rejected"
        assert case.rule in [r["params"].get("rule") for r in answer["reasons"]]
        assert after == before


HOSTILE = [
    ("note_add", {"text": "a\x00b"}),
    ("note_add", {"text": "x" * 10_001}),
    ("note_add", {"text": 5}),
    ("note_add", {"text": "ok", "extra": 1}),
    ("followup_add", {"text": "ring", "due": "i morgen"}),
    ("followup_add", {"text": "ring", "due": 20260302}),
    ("doctor_choice", {"provider_number": "012345", "reason": "x", "effective": "2026-03-02",
                       "status": "whatever", "fee": {"paid": True, "amount": 225, "code": "own_choice"}}),
    ("doctor_choice", {"provider_number": "012345", "reason": "x", "effective": "2026-03-02",
                       "provisional_until": "soon", "fee": {"paid": True, "amount": 225, "code": "own_choice"}}),
    ("doctor_choice", {"provider_number": "054321", "reason": "x", "effective": "2026-03-02",
                       "fee": {"paid": False, "amount": 0, "code": "own_choice"}}),
    ("doctor_choice", {"provider_number": ["012345"], "reason": "x", "effective": "2026-03-02", "fee": {}}),
    ("group_switch", {"group": True, "effective": "2026-03-02"}),
    ("group_switch", {"group": 10**30, "effective": "2026-03-02"}),
    ("card_order", {"ordered_on": "2026-03-02", "fee": {"paid": True, "amount": -5, "code": "lost"}}),
    ("card_order", {"ordered_on": "2026-03-02", "fee": {"paid": False, "amount": 0, "code": "cracked_old_card"}}),
    ("task_close", {"task_id": None, "reason": "x"}),
    ("remove_future", {"as_of": "9999-99-99"}),
    ("doctor_choice_end", {"choice_id": {"a": 1}, "end": "2026-03-02"}),
    ("explode", {}),
]


@pytest.mark.parametrize("kind,payload", HOSTILE, ids=[f"{k}-{i}" for i, (k, _p) in enumerate(HOSTILE)])
def test_a_hostile_operation_body_is_rejected_with_the_reason_and_never_a_500(env: Env, kind, payload) -> None:
    p = a_person()
    _load(env, [p])
    with env.http(env.desk()) as http:
        status, answer = _push(http, p.cpr, p.version, kind, payload)
    assert status == 200
    assert answer["status"] == "rejected" and answer["reasons"]
    assert env.storage.person(None, p.cpr).version == p.version


def test_an_unpaired_surrogate_in_a_text_is_rejected_not_a_500(sqlite_env: Env) -> None:
    p = a_person()
    _load(sqlite_env, [p])
    raw = ('{"training": false, "ops": [{"op_id": "op-s", "kind": "note_add", "cpr": "%s", '
           '"payload": {"text": "bad \\ud800 text"}, "base_version": 1, "case_id": null}]}' % p.cpr)
    with sqlite_env.http(sqlite_env.desk()) as http:
        r = http.post("/v1/push", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    ans = r.json()["results"][0]
    assert ans["status"] == "rejected" and ans["reasons"][0]["code"] == "rule.payload"
    assert sqlite_env.storage.person(None, p.cpr).version == p.version


def test_random_payload_values_never_make_the_server_fail(sqlite_env: Env) -> None:
    rng = random.Random(7)
    p = a_person()
    _load(sqlite_env, [p])
    values = [None, True, 0, -1, 2**40, 1.5, "", "x", "2026-03-02", "\x00", [], {}, {"paid": True}]
    fields = ["text", "group", "effective", "provider_number", "reason", "fee", "due", "status", "task_id",
              "as_of", "forced", "force_rule", "via_cpr"]
    kinds = ["note_add", "group_switch", "doctor_choice", "followup_add", "task_close", "remove_future",
             "card_order", "doctor_choice_end", "card_cancel", "followup_done"]
    with sqlite_env.http(sqlite_env.desk()) as http:
        for _ in range(60):
            payload = {f: rng.choice(values) for f in rng.sample(fields, rng.randint(0, 5))}
            version = sqlite_env.storage.person(None, p.cpr).version
            status, answer = _push(http, p.cpr, version, rng.choice(kinds), payload)
            assert status == 200 and answer["status"] in ("applied", "rejected")
