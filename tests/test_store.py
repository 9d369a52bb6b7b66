import os
import sqlite3
import stat
from dataclasses import replace
from datetime import date

import pytest

from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.store import StoreError, open_store
from sygesikring_tui.store.db import RuleViolation
from tests.factories import CLOSED, OPEN, a_person, a_task

TODAY = date(2026, 11, 25)
FREE = {"paid": True, "amount": 225, "reason": "selvvalgt", "code": "own_choice"}


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "desk.db")
    with s.transaction():
        s.upsert_providers([OPEN, CLOSED])
        person = a_person()
        s.save_person(replace(person, tasks=(a_task(person.cpr),)))
    yield s
    s.close()


def _person(store):
    cpr = store.conn.execute("SELECT cpr FROM persons").fetchone()[0]
    return store.load_person(cpr)


def test_new_store_uses_wal_full_sync_foreign_keys_and_is_readable_by_owner_only(tmp_path):
    s = open_store(tmp_path / "x.db")
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    for f in tmp_path.iterdir():
        if f.name.startswith("x.db"):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    s.close()


def test_commit_writes_state_case_and_outbox_rows_in_one_transaction(store):
    p = _person(store)
    case = store.create_case("2.4.1", p.cpr, "t-1")
    planned = [
        PlannedOp(p.cpr, "group_switch", {"group": 5, "effective": "2026-11-25", "reason": "indkaldelse"}),
        PlannedOp(p.cpr, "task_close", {"task_id": "t-1", "reason": "værnepligtig: gruppe 1 → 5"}),
    ]
    ops = store.commit_case(case.id, planned, TODAY, author="sb1")
    after = store.load_person(p.cpr)
    assert after.current_group(TODAY).group == 5
    assert after.task("t-1").status == "closed"
    assert after.version == p.version + 2
    rows = store.outbox("pending")
    assert [r["kind"] for r in rows] == ["group_switch", "task_close"]
    assert [r["base_version"] for r in rows] == [p.version, p.version + 1]
    assert [r["op_id"] for r in rows] == [o.op_id for o in ops]
    assert store.case(case.id).status == "committed"


def test_a_rule_violation_writes_nothing(store):
    p = _person(store)
    case = store.create_case("2.6.5", p.cpr, None)
    planned = [
        PlannedOp(p.cpr, "note_add", {"text": "forsøg"}),
        PlannedOp(p.cpr, "doctor_choice", {"provider_number": CLOSED.provider_number, "reason": "selvvalgt",
                                           "effective": "2026-11-25", "fee": FREE}),
    ]
    with pytest.raises(RuleViolation) as err:
        store.commit_case(case.id, planned, TODAY)
    assert [v.code for v in err.value.violations] == ["rule.provider_closed"]
    assert store.load_person(p.cpr) == p
    assert store.outbox() == []
    assert store.case(case.id).status == "draft"


def test_a_committed_case_cannot_be_committed_twice(store):
    p = _person(store)
    case = store.create_case("x", p.cpr, None)
    store.commit_case(case.id, [PlannedOp(p.cpr, "note_add", {"text": "a"})], TODAY)
    with pytest.raises(ValueError):
        store.commit_case(case.id, [PlannedOp(p.cpr, "note_add", {"text": "a"})], TODAY)
    assert len(store.outbox()) == 1


def test_draft_is_saved_and_found_again_after_reopening(tmp_path, store):
    p = _person(store)
    case = store.create_case("2.7.5", p.cpr, "t-1")
    store.save_draft(case.id, 2, {"decision": "renumbered", "effective": date(2026, 11, 25)})
    path = store.path
    store.close()
    again = open_store(path)
    draft = again.open_draft("2.7.5", p.cpr, "t-1")
    assert draft.id == case.id and draft.step == 2
    assert draft.draft == {"decision": "renumbered", "effective": "2026-11-25"}
    again.close()


def test_corrupt_store_is_refused_with_its_name_and_left_unchanged(tmp_path):
    bad = tmp_path / "corrupt.db"
    content = b"this is not sqlite" * 100
    bad.write_bytes(content)
    with pytest.raises(StoreError) as err:
        open_store(bad)
    assert err.value.code == "corrupt" and err.value.path == bad
    assert bad.read_bytes() == content


def test_an_sqlite_file_that_is_not_a_case_store_is_refused_and_not_migrated(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE x (a)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(StoreError) as err:
        open_store(other)
    assert err.value.code == "foreign"
    assert other.read_bytes() == before


def test_read_only_store_is_refused_and_left_unchanged(tmp_path, monkeypatch):
    s = open_store(tmp_path / "ro.db")
    s.close()
    before = (tmp_path / "ro.db").read_bytes()
    # CI runs as root, who may write a 0400 file; simulate the permission check's answer.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if (m == os.W_OK and str(p).endswith("ro.db")) else real_access(p, m))
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "ro.db")
    assert err.value.code == "readonly"
    assert (tmp_path / "ro.db").read_bytes() == before


def test_a_store_open_in_another_app_is_refused_as_in_use(tmp_path):
    first = open_store(tmp_path / "desk.db", exclusive=True)
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "desk.db", exclusive=True)
    assert err.value.code == "in_use"
    first.close()
    open_store(tmp_path / "desk.db", exclusive=True).close()


def test_a_write_lock_held_by_another_process_gives_a_locked_error_not_a_hang(tmp_path):
    s = open_store(tmp_path / "desk.db")
    other = sqlite3.connect(tmp_path / "desk.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    s.conn.execute("PRAGMA busy_timeout=100")
    with pytest.raises(StoreError) as err:
        s.create_case("x", "0000000000", None)
    assert err.value.code == "locked"
    other.execute("ROLLBACK")
    other.close()
    s.close()


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    s = open_store(tmp_path / "new.db")
    s.conn.execute("PRAGMA user_version = 999")
    s.close()
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "new.db")
    assert err.value.code == "newer"


def test_a_renamed_person_is_found_by_the_new_name_with_danish_letters(store):
    from sygesikring_tui.store import inbox

    p = _person(store)
    renamed = replace(p, person=replace(p.person, name="Søren Ærø Åberg"))
    with store.transaction():
        store.save_person(renamed)
    found = inbox.count(store, inbox.InboxQuery(search="ærø"))
    assert found == 1
