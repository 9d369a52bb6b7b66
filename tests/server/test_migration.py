"""A server database of schema 1 (persons with their tasks inside ``doc``, no departures) is
migrated at start, and desks pull the same states from it."""

from __future__ import annotations

import json
import random

import sqlalchemy as sa
from srvkit import load_records, make_person

from sygesikring_tui import sync
from sygesikring_tui.domain.model import to_json
from sygesikring_tui.server import storage as storage_mod
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store
from srvkit import Env


def _downgrade_to_schema_1(url: str) -> None:
    engine = storage_mod.make_engine(url)
    with engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT cpr, doc, tasks FROM persons")).all()
        for cpr, doc, tasks in rows:
            d = json.loads(doc)
            d["tasks"] = json.loads(tasks)
            conn.execute(sa.text("UPDATE persons SET doc = :d WHERE cpr = :c"),
                         {"d": json.dumps(d, ensure_ascii=False), "c": cpr})
        conn.execute(sa.text("DROP TABLE departures"))
        conn.execute(sa.text("ALTER TABLE persons DROP COLUMN name"))
        conn.execute(sa.text("ALTER TABLE persons DROP COLUMN tasks"))
        conn.execute(sa.text("UPDATE server_meta SET value = '1' WHERE key = 'schema'"))
    engine.dispose()


def test_a_schema_1_database_is_migrated_and_serves_the_same_states(db_url, tmp_path):
    people = [make_person(random.Random(i), n_tasks=2) for i in range(4)]
    first = Storage(db_url)
    first.load(load_records(people))
    token = first.add_desk("desk", 751)[1]
    before = first.all_persons()
    first.close()
    _downgrade_to_schema_1(db_url)

    migrated = Storage(db_url)
    try:
        with migrated.engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT value FROM server_meta WHERE key = 'schema'")).scalar_one()
        assert int(schema) == storage_mod.SCHEMA_VERSION
        assert migrated.all_persons() == before
        env = Env(migrated, create_app(migrated), "inprocess", "http://testserver")
        store = open_store(tmp_path / "d.db")
        sync.sync_once(store, env.client(token))
        for p in people:
            assert store.load_person(p.cpr) == before[p.cpr]
        assert json.loads(store.conn.execute("SELECT doc FROM persons WHERE cpr = ?",
                                             (people[0].cpr,)).fetchone()[0])["tasks"] == []
        assert to_json(before[people[0].cpr])["tasks"]  # the tasks went to the tasks table
    finally:
        migrated.close()
