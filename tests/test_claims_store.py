"""Claims in the desk store: an older store gains the claim time when opened, and a claim is
a one-step case whose operation is in the claimant's name."""

import random
import sqlite3
from datetime import date

from sygesikring_tui.store import claims, open_store
from sygesikring_tui.store.schema import MIGRATIONS
from tests.server.srvkit import make_person


def test_a_store_from_before_claims_gets_the_claim_time_column_when_opened(tmp_path):
    path = tmp_path / "old.db"
    open_store(path).close()
    number = next(n for n, sql in MIGRATIONS if "claimed_at" in sql)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE tasks DROP COLUMN claimed_at")
    conn.execute(f"PRAGMA user_version = {number - 1}")
    conn.commit()
    conn.close()
    with open_store(path) as store:
        assert "claimed_at" in {r[1] for r in store.conn.execute("PRAGMA table_info(tasks)")}


def test_a_claim_is_a_one_step_case_in_the_claimants_name(tmp_path):
    p = make_person(random.Random(5))
    with open_store(tmp_path / "d.db") as store:
        with store.transaction():
            store.save_person(p)
        [op] = claims.claim(store, p.cpr, p.tasks[0].id, "AB", date(2026, 3, 2))
        (row,) = store.outbox()
        assert (row["kind"], row["payload"]["claimant"], row["payload"]["author"]) == ("task_claim", "AB", "AB")
        assert store.case(row["case_id"]).status == "committed" and row["op_id"] == op.op_id
        assert store.task(p.tasks[0].id).assignee == "AB"
