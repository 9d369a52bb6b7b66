"""A person who moves to another municipality leaves the old municipality's desks (a removal
by pull; held while the desk has pending operations on them, which then become visible
refused items), and a batch refused as a whole (422) is retried one operation at a time."""

from __future__ import annotations

import random
from dataclasses import replace

from srvkit import MUNI_A, MUNI_B, Env, load_records, make_person, note

from sygesikring_tui import sync
from sygesikring_tui.domain.model import Address, to_json
from sygesikring_tui.store import open_store
from sygesikring_tui.sync import SyncError

COPENHAGEN = Address("Nørregade 1", "1165", "København K", MUNI_B, 55.679, 12.572)


def _moved(state, address=COPENHAGEN):
    return replace(state, person=replace(state.person, address=address))


def _desk(env: Env, path, municipality: int = MUNI_A):
    store = open_store(path)
    client = env.client(env.desk(municipality))
    sync.sync_once(store, client)
    return store, client


def _tasks(store, cpr: str) -> int:
    return store.conn.execute("SELECT count(*) FROM tasks WHERE cpr = ?", (cpr,)).fetchone()[0]


def test_a_person_moved_by_a_load_is_removed_from_the_old_municipalitys_desk_with_its_tasks(env: Env, tmp_path):
    stay, move = (make_person(random.Random(i), n_tasks=2) for i in (1, 2))
    env.storage.load(load_records([stay, move]))
    a, ca = _desk(env, tmp_path / "a.db")
    b, cb = _desk(env, tmp_path / "b.db", MUNI_B)
    assert a.load_person(move.cpr) is not None and _tasks(a, move.cpr) == 2
    assert b.load_person(move.cpr) is None

    env.storage.load(load_records([_moved(move)], providers=()))
    sync.sync_once(a, ca)
    sync.sync_once(b, cb)
    assert a.load_person(move.cpr) is None and _tasks(a, move.cpr) == 0
    assert a.load_person(stay.cpr) == env.storage.all_persons()[stay.cpr]  # the others stay
    assert b.load_person(move.cpr) == env.storage.all_persons()[move.cpr]
    # The removal is delivered once: a later pull does not repeat it, and the person moving
    # back comes back.
    env.storage.load(load_records([move], providers=()))
    sync.sync_once(a, ca)
    sync.sync_once(b, cb)
    assert a.load_person(move.cpr) == env.storage.all_persons()[move.cpr] and _tasks(a, move.cpr) == 2
    assert b.load_person(move.cpr) is None


def test_a_cpr_event_with_a_new_address_in_another_municipality_moves_the_person(env: Env, tmp_path):
    p = make_person(random.Random(3), n_tasks=1)
    env.storage.load(load_records([p]))
    a, ca = _desk(env, tmp_path / "a.db")
    feed = env.storage.add_desk("CPR", None, role="feed")[1]
    ev = {"id": "move-1", "code": "034", "cpr": p.cpr, "date": "2026-02-27", "received": "2026-03-01",
          "data": {"address": to_json(COPENHAGEN)}}
    with env.http(feed) as http:
        [ans] = http.post("/v1/cpr-events", json={"events": [ev]}).json()["results"]
    assert ans["status"] == "applied"
    server = env.storage.all_persons()[p.cpr]
    assert server.person.address == COPENHAGEN and server.addresses[-1].address == COPENHAGEN
    sync.sync_once(a, ca)
    assert a.load_person(p.cpr) is None and _tasks(a, p.cpr) == 0
    b, _ = _desk(env, tmp_path / "b.db", MUNI_B)
    assert b.load_person(p.cpr) == server  # with the 034 task the event made


def test_a_removal_waits_for_pending_operations_which_become_visible_refused_items(env: Env, tmp_path):
    p = make_person(random.Random(4), n_tasks=1)
    env.storage.load(load_records([p]))
    a, ca = _desk(env, tmp_path / "a.db")
    mine = note(a, p.cpr, "ringet op")
    env.storage.load(load_records([_moved(p)], providers=()))

    sync.pull(a, ca)  # the removal arrives while the note is pending: held, nothing hidden
    assert [n.text for n in a.load_person(p.cpr).notes] == ["ringet op"]
    assert _tasks(a, p.cpr) == 1 and sync.status(a).waiting == 1

    report = sync.sync_once(a, ca)  # the note is refused: the person is no longer the desk's
    assert report.rejected == 1 and env.storage.applied_op_ids() == []
    [item] = sync.conflicts(a)
    assert item.op_id == mine and item.status == "rejected"
    assert [r["code"] for r in item.reasons] == ["sync.moved_away"]
    assert [n.text for n in item.local.notes] == ["ringet op"]  # the desk's version is kept
    assert a.load_person(p.cpr) is None and _tasks(a, p.cpr) == 0  # and then the person left
    assert a.conn.execute("SELECT count(*) FROM sync_held").fetchone()[0] == 0


def test_a_batch_refused_with_422_is_retried_one_by_one_and_only_the_bad_operation_is_rejected(env: Env, tmp_path):
    people = [make_person(random.Random(10 + i)) for i in range(3)]
    env.storage.load(load_records(people))
    store, client = _desk(env, tmp_path / "d.db")
    ids = [note(store, p.cpr, f"note {i}") for i, p in enumerate(people)]
    # The second operation's op_id was already used on the server with another body (one
    # the server refused as a conflict, so nothing of it was applied).
    row = next(r for r in store.outbox("pending") if r["op_id"] == ids[1])
    reused = {k: row[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
    [first] = client.push([{**reused, "base_version": 99, "payload": {**reused["payload"], "text": "other"}}],
                          training=False)
    assert first["status"] == "conflict"
    try:  # the whole batch is refused
        client.push([{k: r[k] for k in reused} for r in store.outbox("pending")], training=False)
        raise AssertionError("expected 422")
    except SyncError as exc:
        assert exc.status == 422

    report = sync.push(store, client)
    assert (report.pushed, report.applied, report.rejected) == (3, 2, 1)
    status = {r["op_id"]: r["status"] for r in store.outbox()}
    assert status == {ids[0]: "applied", ids[1]: "rejected", ids[2]: "applied"}
    [item] = sync.conflicts(store)
    assert item.op_id == ids[1] and [r["code"] for r in item.reasons] == ["sync.refused"]
    assert "different body" in item.reasons[0]["params"]["detail"]
    assert set(env.storage.applied_op_ids()) == {ids[0], ids[2]}
    assert env.storage.all_persons()[people[1].cpr].notes == ()
