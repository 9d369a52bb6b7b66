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


# -- refusals that leave the file (and no stray lock) alone -------------------------------------
def test_an_empty_file_is_refused_and_never_made_into_a_store(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for exclusive in (False, True):
        with pytest.raises(StoreError) as err:
            open_store(empty, exclusive=exclusive)
        assert err.value.code == "empty" and err.value.path == empty
    assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_a_refused_exclusive_open_leaves_no_lock_file(tmp_path):
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        open_store(bad, exclusive=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.db"]


def test_closing_a_store_removes_its_lock_file_and_the_lock_works_again(tmp_path):
    s = open_store(tmp_path / "desk.db", exclusive=True)
    assert (tmp_path / "desk.db.lock").exists()
    s.close()
    assert not (tmp_path / "desk.db.lock").exists()
    again = open_store(tmp_path / "desk.db", exclusive=True)
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "desk.db", exclusive=True)
    assert err.value.code == "in_use"
    again.close()


def _cli(*argv: str) -> int:
    from sygesikring_tui import cli

    return cli.main(list(argv))


def test_training_refuses_to_overwrite_a_desk_store_and_names_it(tmp_path, capsys):
    from sygesikring_tui.domain.operations import PlannedOp as Op

    desk = tmp_path / "desk.db"
    s = open_store(desk, training=False)
    with s.transaction():
        s.upsert_providers([OPEN, CLOSED])
        s.save_person(a_person())
    cpr = _person(s).cpr
    case = s.create_case("2.1", cpr, None)
    s.commit_case(case.id, [Op(cpr, "note_add", {"text": "ikke sendt endnu"})], TODAY)
    s.close()
    before = desk.read_bytes()
    assert _cli("training", "--tasks", "10", "--path", str(desk)) == 2
    err = capsys.readouterr().err
    assert str(desk) in err and "træningsdatabase" in err
    assert desk.read_bytes() == before
    with open_store(desk, create=False) as s:
        assert [r["status"] for r in s.outbox()] == ["pending"]
    assert not (tmp_path / "desk.db.lock").exists()


def test_training_refuses_a_store_in_use_an_empty_file_and_a_foreign_file(tmp_path, capsys):
    used = tmp_path / "used.db"
    open_store(used, training=True).close()
    holder = open_store(used, exclusive=True)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    foreign = tmp_path / "notes.txt"
    foreign.write_text("mine\n" * 300)
    try:
        for path in (used, empty, foreign):
            before = path.read_bytes()
            assert _cli("training", "--tasks", "10", "--path", str(path)) == 2
            assert str(path) in capsys.readouterr().err
            assert path.read_bytes() == before
    finally:
        holder.close()
    assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())


def test_training_rebuilds_a_training_store(tmp_path):
    path = tmp_path / "training.db"
    assert _cli("training", "--tasks", "10", "--path", str(path)) == 0
    assert _cli("training", "--tasks", "20", "--seed", "3", "--path", str(path)) == 0
    with open_store(path, create=False) as s:
        assert s.is_training and s.meta("training_tasks") == "20"
    assert not (tmp_path / "training.db.lock").exists()


def test_a_refused_server_launch_leaves_no_lock_file(tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("abc")
    os.chmod(token, 0o600)
    bad = tmp_path / "desk.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert _cli("--server", "http://127.0.0.1:9", "--token-file", str(token), "--store", str(bad)) == 2
    assert str(bad) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.db", "token"]


def test_a_token_file_readable_by_others_is_warned_about_and_shown_in_the_status(tmp_path, capsys, monkeypatch):
    from sygesikring_tui import cli
    from sygesikring_tui.store import sync_state

    token = tmp_path / "token"
    token.write_text("abc")
    os.chmod(token, 0o644)
    monkeypatch.setattr("screens.app.run_app", lambda **kw: 0)
    store = tmp_path / "desk.db"
    assert cli.main(["--server", "http://127.0.0.1:9", "--token-file", str(token), "--store", str(store)]) == 0
    err = capsys.readouterr().err
    assert str(token) in err and "chmod 600" in err
    with open_store(store, create=False) as s:
        assert sync_state.status(s).token_warning
    os.chmod(token, 0o600)
    assert cli.main(["--server", "http://127.0.0.1:9", "--token-file", str(token), "--store", str(store)]) == 0
    assert "chmod" not in capsys.readouterr().err
    with open_store(store, create=False) as s:
        assert not sync_state.status(s).token_warning
