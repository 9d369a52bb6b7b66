"""The fault-cost report's figures from a history built by hand, against numbers worked out by
hand: received and closed per week and workaround, the median days, and the wizard time of
a draft opened twice (the second session ended by the commit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sygesikring_tui import fault_report
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.fault_report import TOTAL, Row
from sygesikring_tui.store import db as store_db
from sygesikring_tui.store import open_store, wizard_time
from sygesikring_tui.store.schema import MIGRATIONS
from tests.factories import OPEN, a_person, a_task

START, STOP = date(2026, 11, 2), date(2026, 11, 15)  # ISO weeks 45 and 46
JIRA = {"2.4.1": ("PHIKOMEXT-108", "PHIKOMEXT-76"), "2.5.1": ("PHIKOMEXT-108", "PHIKOMEXT-76")}


def _ts(day: str, hms: str) -> str:
    return f"{day}T{hms}+01:00"


def _case(store, monkeypatch, cpr: str, task_id: str, wid: str, sessions: list[tuple[str, str]], commit: str) -> str:
    """A wizard draft timed over ``sessions`` (the last one left open: the commit ends it),
    committed at ``commit`` closing ``task_id``."""
    case = store.create_case(wid, cpr, task_id)
    for i, (start, stop) in enumerate(sessions):
        wizard_time.begin(store, case.id, now=start)
        if i < len(sessions) - 1:
            wizard_time.end(store, case.id, now=stop)
    monkeypatch.setattr(store_db, "_now", lambda: commit)
    store.commit_case(case.id, [PlannedOp(cpr, "task_close", {"task_id": task_id, "reason": "Behandlet"})],
                      today=date(2026, 11, 20))
    return case.id


@pytest.fixture
def history(tmp_path, monkeypatch):
    """t1..t5 of one person in Aarhus (751):

    t1 2.4.1 received Mon 02-11 (W45), closed Thu 05-11 by a case opened twice: 09:00-09:04
       and 10:00 to the commit at 10:02:30 -> 4 min + 2 min 30 s = 390 s, 3 days
    t2 2.4.1 received 03-11 (W45), closed 10-11 (W46) by a 2.5.1 case (state-posted), 60 s,
       7 days: it counts under 2.5.1
    t3 2.4.1 received 04-11 (W45), open
    t4 2.4.1 received 09-11 (W46), closed 12-11 by a 2.4.1 case, 120 s, 3 days
    t5 2.4.1 received 09-11 (W46), closed 11-11 by a 2.4.1 case, 30 s, 2 days
    """
    store = open_store(tmp_path / "desk.db")
    person = a_person()
    cpr = person.cpr
    tasks = tuple(replace(a_task(cpr, task_id=tid, received=date.fromisoformat(rec)), workaround_id="2.4.1")
                  for tid, rec in (("t1", "2026-11-02"), ("t2", "2026-11-03"), ("t3", "2026-11-04"),
                                   ("t4", "2026-11-09"), ("t5", "2026-11-09")))
    with store.transaction():
        store.upsert_providers([OPEN])
        store.save_person(replace(person, tasks=tasks))
    d = "2026-11-05"
    c1 = _case(store, monkeypatch, cpr, "t1", "2.4.1",
               [(_ts(d, "09:00:00"), _ts(d, "09:04:00")), (_ts(d, "10:00:00"), "")], _ts(d, "10:02:30"))
    _case(store, monkeypatch, cpr, "t2", "2.5.1", [(_ts("2026-11-10", "08:00:00"), "")], _ts("2026-11-10", "08:01:00"))
    _case(store, monkeypatch, cpr, "t4", "2.4.1", [(_ts("2026-11-12", "13:00:00"), "")], _ts("2026-11-12", "13:02:00"))
    _case(store, monkeypatch, cpr, "t5", "2.4.1", [(_ts("2026-11-11", "13:00:00"), "")], _ts("2026-11-11", "13:00:30"))
    yield store, c1
    store.close()


def test_the_commit_sends_the_wizard_time_summed_over_both_sessions_of_the_draft(history):
    store, c1 = history
    timed = [o for o in store.case_operations(c1) if o["kind"] == "case_time"]
    assert len(timed) == 1
    assert {k: timed[0]["payload"][k] for k in ("workaround_id", "seconds", "sessions")} == \
        {"workaround_id": "2.4.1", "seconds": 390, "sessions": 2}
    # the commit ended the open session: nothing is left running
    assert store.conn.execute("SELECT count(*) FROM wizard_sessions WHERE ended IS NULL").fetchone()[0] == 0


def test_report_figures_from_a_hand_built_history_equal_the_hand_computed_numbers(history):
    store, _ = history
    report = fault_report.build(fault_report.store_facts(store, START, STOP), START, STOP, JIRA)
    jira = "PHIKOMEXT-108, PHIKOMEXT-76"
    assert report.weeks == [
        Row("2026-W45", "2.4.1", jira, 2, 1, 3.0, 390, 1),
        Row("2026-W45", "2.5.1", jira, 1, 0, None, 0, 0),
        Row("2026-W46", "2.4.1", jira, 2, 2, 2.5, 150, 2),
        Row("2026-W46", "2.5.1", jira, 0, 1, 7.0, 60, 1),
    ]
    assert report.totals == [
        Row(TOTAL, "2.4.1", jira, 4, 3, 3.0, 540, 3),
        Row(TOTAL, "2.5.1", jira, 1, 1, 7.0, 60, 1),
    ]


def test_the_period_bounds_what_counts(history):
    store, _ = history
    start = stop = date(2026, 11, 10)  # only t2's close and its case
    report = fault_report.build(fault_report.store_facts(store, start, stop), start, stop, JIRA)
    assert [(r.week, r.workaround_id, r.received, r.closed, r.wizard_seconds) for r in report.weeks] == \
        [("2026-W46", "2.5.1", 0, 1, 60)]


def test_the_csv_of_a_report_reads_back_to_the_same_rows(history):
    store, _ = history
    report = fault_report.build(fault_report.store_facts(store, START, STOP), START, STOP, JIRA)
    text = fault_report.to_csv(report)
    assert text.splitlines()[0] == ",".join(fault_report.CSV_FIELDS)
    assert fault_report.rows_from_csv(text) == report.rows


def test_a_session_a_crash_left_open_ends_at_the_drafts_last_save(tmp_path, monkeypatch):
    store = open_store(tmp_path / "desk.db")
    person = a_person()
    with store.transaction():
        store.upsert_providers([OPEN])
        store.save_person(replace(person, tasks=(a_task(person.cpr),)))
    case = store.create_case("2.4.1", person.cpr, "t-1")
    wizard_time.begin(store, case.id, now=_ts("2026-11-05", "09:00:00"))
    monkeypatch.setattr(store_db, "_now", lambda: _ts("2026-11-05", "09:03:00"))
    store.save_draft(case.id, 1, {"x": "1"})  # the last keys typed, then the crash
    wizard_time.begin(store, case.id, now=_ts("2026-11-06", "09:00:00"))  # opened again next day
    wizard_time.end(store, case.id, now=_ts("2026-11-06", "09:01:00"))
    assert wizard_time.sessions(store.conn, case.id) == [
        (_ts("2026-11-05", "09:00:00"), _ts("2026-11-05", "09:03:00")),
        (_ts("2026-11-06", "09:00:00"), _ts("2026-11-06", "09:01:00"))]
    assert wizard_time.total(wizard_time.sessions(store.conn, case.id), "") == (240, 2)
    store.close()


def test_a_store_made_before_the_wizard_sessions_gets_their_table_when_opened(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    store = open_store(path)
    store.close()
    conn = sqlite3.connect(path)
    number = next(n for n, sql in MIGRATIONS if "CREATE TABLE wizard_sessions" in sql)
    conn.execute("DROP TABLE wizard_sessions")
    conn.execute("ALTER TABLE tasks DROP COLUMN claimed_at")  # (a later migration's, undone too)
    conn.execute(f"PRAGMA user_version = {number - 1}")  # as it was just before that migration
    conn.commit()
    conn.close()
    store = open_store(path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] >= number
    assert store.conn.execute("SELECT count(*) FROM wizard_sessions").fetchone()[0] == 0
    store.close()
