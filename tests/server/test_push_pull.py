"""Push and pull through the HTTP API, on SQLite and PostgreSQL, in-process and over a real
uvicorn: applied, duplicate, conflict, rejected, blocked, 422 on a reused op_id, paging."""

from __future__ import annotations

import json
import random

import pytest
from srvkit import MUNI_A, MUNI_B, Env, load_records, make_person, note, switch_group

from sygesikring_tui import sync
from sygesikring_tui.store import open_store
from sygesikring_tui.sync import SyncError


def _setup(env: Env, tmp_path, n: int = 3, seed: int = 1):
    rng = random.Random(seed)
    people = [make_person(rng) for _ in range(n)]
    env.storage.load(load_records(people))
    return people


def _desk(env: Env, path, municipality: int = MUNI_A):
    store = open_store(path)
    client = env.client(env.desk(municipality))
    sync.sync_once(store, client)
    return store, client


def test_new_desk_pulls_every_person_and_provider_of_its_municipality(env: Env, tmp_path):
    people = _setup(env, tmp_path, n=5)
    other = make_person(random.Random(9), municipality=MUNI_B)
    env.storage.load(load_records([other], providers=()))
    store, _ = _desk(env, tmp_path / "d.db")
    have = {r[0] for r in store.conn.execute("SELECT cpr FROM persons")}
    assert have == {p.cpr for p in people}
    assert set(store.providers()) == {"012345", "054321"}
    assert store.load_person(people[0].cpr).tasks == people[0].tasks


def test_push_applies_once_and_a_retry_is_answered_duplicate(env: Env, tmp_path):
    people = _setup(env, tmp_path)
    store, client = _desk(env, tmp_path / "d.db")
    op_id = note(store, people[0].cpr)
    wire = [{k: r[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
            for r in store.outbox("pending")]
    first = client.push(wire, training=False)
    again = client.push(wire, training=False)
    assert first[0]["status"] == "applied" and first[0]["op_id"] == op_id
    assert again[0] == {"op_id": op_id, "status": "duplicate", "answer": first[0]}
    assert env.storage.applied_op_ids() == [op_id]
    assert len(env.storage.all_persons()[people[0].cpr].notes) == 1


def test_same_op_id_with_another_body_is_422_and_writes_nothing(env: Env, tmp_path):
    people = _setup(env, tmp_path)
    store, client = _desk(env, tmp_path / "d.db")
    note(store, people[0].cpr)
    row = store.outbox("pending")[0]
    wire = {k: row[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
    client.push([wire], training=False)
    changed = {**wire, "payload": {**wire["payload"], "text": "noget andet"}}
    head = env.storage.head()
    with pytest.raises(SyncError) as err:
        client.push([changed], training=False)
    assert err.value.status == 422
    assert env.storage.head() == head


def test_stale_base_version_is_a_conflict_with_the_current_state_and_nothing_applied(env: Env, tmp_path):
    people = _setup(env, tmp_path)
    store, client = _desk(env, tmp_path / "d.db")
    p = people[0].cpr
    note(store, p)
    row = store.outbox("pending")[0]
    wire = {k: row[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
    stale = {**wire, "op_id": "other-op", "base_version": wire["base_version"] - 1}
    ans = client.push([stale, wire], training=False)
    assert ans[0]["status"] == "conflict" and ans[0]["state"]["version"] == wire["base_version"]
    assert ans[1]["status"] == "blocked"  # a later operation on the same person waits
    assert env.storage.applied_op_ids() == []


def test_rule_violation_is_rejected_with_the_rules_reason(env: Env, tmp_path):
    people = _setup(env, tmp_path)
    store, client = _desk(env, tmp_path / "d.db")
    p = people[0]
    bad = {"op_id": "op-bad", "kind": "group_switch", "cpr": p.cpr, "base_version": p.version, "case_id": None,
           "payload": {"group": 1, "effective": "2026-03-02", "at": "2026-03-02T10:00:00+01:00"}}
    ans = client.push([bad], training=False)
    assert ans[0]["status"] == "rejected"
    assert [r["code"] for r in ans[0]["reasons"]] == ["rule.group_same"]
    malformed = {**bad, "op_id": "op-bad2", "payload": {"group": 2}}
    ans = client.push([malformed], training=False)
    assert ans[0]["status"] == "rejected" and ans[0]["reasons"][0]["code"] == "rule.payload"


def test_two_desks_change_the_same_persons_group_one_applied_one_visible_conflict(env: Env, tmp_path):
    people = _setup(env, tmp_path)
    a, ca = _desk(env, tmp_path / "a.db")
    b, cb = _desk(env, tmp_path / "b.db")
    p = people[0].cpr
    op_a = switch_group(a, p, 2)
    op_b = switch_group(b, p, 2, effective="2026-05-01")
    ra = sync.sync_once(a, ca)
    rb = sync.sync_once(b, cb)
    assert (ra.applied, rb.applied, rb.conflicts) == (1, 0, 1)
    assert env.storage.applied_op_ids() == [op_a]
    [item] = sync.conflicts(b)
    assert item.op_id == op_b and item.status == "conflict"
    # Both versions are shown: desk B's own change and the server's (desk A's) one.
    assert [g.effective.isoformat() for g in item.local.groups if g.group == 2] == ["2026-05-01"]
    assert [g.effective.isoformat() for g in item.server.groups if g.group == 2] == ["2026-04-01"]
    # B now shows the server's state, nothing overwritten silently on either side.
    assert b.load_person(p) == env.storage.all_persons()[p]
    assert sync.status(b).conflicts == 1
    sync.resolve(b, op_b, "drop", "borgeren havde allerede skiftet")
    assert sync.conflicts(b) == [] and b.outbox()[-1]["status"] == "dropped"
    sync.sync_once(b, cb)
    assert env.storage.applied_op_ids() == [op_a]


def test_pull_pages_through_everything_in_sequence_and_resumes_from_the_cursor(env: Env, tmp_path):
    people = _setup(env, tmp_path, n=25)
    store = open_store(tmp_path / "d.db")
    client = env.client(env.desk())
    first = client.pull(0, 10)
    assert len(first["changes"]) == 10 and first["more"] is True
    seqs = [c["seq"] for c in first["changes"]]
    assert seqs == sorted(seqs)
    sync.pull(store, client, page=7)
    assert store.conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 25
    cursor = sync.status(store) and int(store.conn.execute(
        "SELECT value FROM sync_state WHERE key='cursor'").fetchone()[0])
    assert cursor == env.storage.head()
    # A change after the cursor is all the next pull brings.
    other, oc = _desk(env, tmp_path / "o.db")
    note(other, people[3].cpr)
    sync.sync_once(other, oc)
    rest = client.pull(cursor, 100)
    assert [c["cpr"] for c in rest["changes"]] == [people[3].cpr]


def test_training_store_never_pushes_and_the_server_refuses_a_training_push(env: Env, tmp_path):
    people = _setup(env, tmp_path)
    token = env.desk()
    store = open_store(tmp_path / "t.db", training=True)
    client = env.client(token)
    sync.pull(store, client)
    note(store, people[0].cpr)
    with pytest.raises(sync.TrainingRefused):
        sync.push(store, client)
    assert env.storage.applied_op_ids() == []
    row = store.outbox("pending")[0]
    wire = {k: row[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
    with pytest.raises(SyncError) as err:
        client.push([wire], training=True)
    assert err.value.status == 403 and err.value.kind == "training"
    assert env.storage.applied_op_ids() == []


def test_openapi_and_health_are_served(env: Env):
    with env.http() as http:
        spec = http.get("/openapi.json").json()
        health = http.get("/health").json()
    assert {"/v1/push", "/v1/changes", "/v1/cpr-events", "/health"} <= set(spec["paths"])
    assert health["status"] == "ok" and health["db"] in ("sqlite", "postgresql")
    json.dumps(spec)


def test_a_retried_refused_operation_still_blocks_the_next_one_whose_base_matches_by_chance(env: Env, tmp_path):
    """Desk B's op1 conflicts; op2 was made on top of op1, and its base version equals the
    server's version after desk A's change. Resent together, op2 must not be applied."""
    people = _setup(env, tmp_path)
    a, ca = _desk(env, tmp_path / "a.db")
    b, cb = _desk(env, tmp_path / "b.db")
    p = people[0].cpr
    note(a, p)
    sync.sync_once(a, ca)  # server: version 2
    note(b, p)  # base 1
    note(b, p)  # base 2: equal to the server's version by coincidence
    wire = [{k: r[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
            for r in b.outbox("pending")]
    first = cb.push(wire, training=False)  # the answers are lost (the desk was killed)
    again = cb.push(wire, training=False)
    assert [x["status"] for x in first] == ["conflict", "blocked"]
    assert [x["status"] for x in again] == ["duplicate", "blocked"]
    assert len(env.storage.all_persons()[p].notes) == 1
