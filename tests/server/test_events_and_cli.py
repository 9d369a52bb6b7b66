"""CPR events make the manual tasks the event table says; the ``sygesikring-server`` command
adds and revokes desks, loads persons, replays events and exports a training store."""

from __future__ import annotations

import json
import random
from datetime import date

from srvkit import MUNI_A, MUNI_B, OPEN, Env, load_records, make_person

from sygesikring_tui import sync
from sygesikring_tui.server import cli
from sygesikring_tui.server.export import export_training
from sygesikring_tui.training import TEAM
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store


def test_an_event_that_creates_a_task_reaches_the_desk_by_pull_and_a_repeat_is_a_duplicate(env: Env, tmp_path):
    p = make_person(random.Random(5), n_tasks=0)
    env.storage.load(load_records([p]))
    feed = env.storage.add_desk("CPR", None, role="feed")[1]
    events = {"events": [{"id": "e1", "code": "038", "cpr": p.cpr, "date": "2026-02-27", "received": "2026-03-01"},
                         {"id": "e2", "code": "003", "cpr": p.cpr, "date": "2026-02-27"}]}
    with env.http(feed) as http:
        first = http.post("/v1/cpr-events", json=events).json()["results"]
        again = http.post("/v1/cpr-events", json=events).json()["results"]
    assert [a["status"] for a in first] == ["applied", "applied"]
    assert first[0]["task_id"] and first[1]["task_id"] is None  # 003 creates no task (data/cpr_events.json)
    assert [a["status"] for a in again] == ["duplicate", "duplicate"]
    store = open_store(tmp_path / "d.db")
    sync.sync_once(store, env.client(env.desk()))
    [task] = store.load_person(p.cpr).tasks
    assert (task.event_code, task.received, task.due) == ("038", date(2026, 3, 1), date(2026, 3, 6))
    assert task.workaround_id == "2.4.1"  # the catalogue's suggestion for a call-up event
    assert [e.code for e in store.load_person(p.cpr).events] == ["038", "003"]


def test_events_for_unknown_persons_or_codes_are_rejected_per_event(env: Env):
    feed = env.storage.add_desk("CPR", None, role="feed")[1]
    p = make_person(random.Random(6))
    env.storage.load(load_records([p]))
    with env.http(feed) as http:
        res = http.post("/v1/cpr-events", json={"events": [
            {"code": "038", "cpr": "0101010101", "date": "2026-01-02"},
            {"code": "XYZ", "cpr": p.cpr, "date": "2026-01-02"}]}).json()["results"]
    assert [(r["status"], r["reason"]) for r in res] == [("rejected", "unknown_person"),
                                                         ("rejected", "unknown_event_code")]


def test_cli_adds_lists_and_revokes_desks_and_prints_the_token_once(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    assert cli.main(["--db", db, "add-desk", "--municipality", "751", "--name", "Aarhus 1"]) == 0
    token = capsys.readouterr().out.strip()
    st = Storage(db)
    desk = st.desk_for_token(token)
    assert desk is not None and desk.municipality == 751
    assert cli.main(["--db", db, "list-desks"]) == 0
    listed = capsys.readouterr().out
    assert "Aarhus 1" in listed and token not in listed
    assert cli.main(["--db", db, "revoke-desk", str(desk.id)]) == 0
    assert st.desk_for_token(token) is None
    assert cli.main(["--db", db, "revoke-desk", str(desk.id)]) == 1
    st.close()


def test_cli_load_and_replay_events_feed_the_server(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    people = [make_person(random.Random(i)) for i in range(3)]
    load = tmp_path / "load.jsonl"
    load.write_text("\n".join(json.dumps(r) for r in load_records(people)) + "\n")
    assert cli.main(["--db", db, "load", str(load)]) == 0
    assert "loaded 3 persons, 2 providers" in capsys.readouterr().out
    ev = tmp_path / "events.jsonl"
    ev.write_text("\n".join(json.dumps({"code": "038", "cpr": p.cpr, "date": "2026-02-01"}) for p in people))
    assert cli.main(["--db", db, "replay-events", str(ev)]) == 0
    assert cli.main(["--db", db, "replay-events", str(ev)]) == 0  # the same file again: duplicates
    out = capsys.readouterr().out.splitlines()
    assert out == ["applied: 3, duplicate: 0, rejected: 0", "applied: 0, duplicate: 3, rejected: 0"]
    st = Storage(db)
    assert all(len(s.tasks) == 2 for s in st.all_persons().values())
    st.close()


def test_export_of_a_training_store_loads_into_a_demo_server_for_one_municipality(tmp_path):
    train = open_store(tmp_path / "training.db", training=True)
    rng = random.Random(8)
    mine = [make_person(rng, MUNI_A, n_tasks=2) for _ in range(4)]
    other = make_person(rng, MUNI_B)
    with train.transaction():
        train.upsert_providers([OPEN])
        for s in mine + [other]:
            train.save_person(s)
    train.close()
    out = tmp_path / "demo.jsonl"
    assert export_training(tmp_path / "training.db", MUNI_A, out) == 5 + len(TEAM)  # providers, team, persons
    st = Storage(str(tmp_path / "s.db"))
    assert cli.main(["--db", str(tmp_path / "s.db"), "load", str(out)]) == 0
    assert set(st.all_persons()) == {s.cpr for s in mine}
    assert {t.id for s in st.all_persons().values() for t in s.tasks} == {t.id for s in mine for t in s.tasks}
    st.close()
