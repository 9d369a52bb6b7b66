"""``sygesikring-server report``: the fault-cost report over every desk's pushed work, across
municipalities and for one, as a table, CSV and JSON (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from srvkit import MUNI_A, MUNI_B, load_records, make_person
from sygesikring_tui import fault_report
from sygesikring_tui.domain.model import HistoryEntry, TaskStatus
from sygesikring_tui.fault_report import TOTAL
from sygesikring_tui.server import cli
from sygesikring_tui.server.storage import Storage
from tests.test_fault_report import START, STOP, history  # noqa: F401 - the desk's hand-built history

ARGS = ["report", "--from", "2026-11-02", "--to", "15-11-2026"]


def _other_municipality_person():
    """One task of 2.2.1 in København, received 04-11, closed 06-11 after 300 s in the wizard."""
    import random

    p = make_person(random.Random(5), MUNI_B)
    task = replace(p.tasks[0], received=date(2026, 11, 4), workaround_id="2.2.1", status=TaskStatus.CLOSED)
    hist = (HistoryEntry("2026-11-06T10:00:00+01:00", "task_close", task.id, "c-kbh"),
            HistoryEntry("2026-11-06T10:00:00+01:00", "case_time", "2.2.1;300;1", "c-kbh"))
    return replace(p, tasks=(task,), history=hist)


@pytest.fixture
def server(db_url, history):  # noqa: F811
    """A server holding the desk's person as loaded before its work, then the desk's
    outbox pushed (the case_time operations with it), and a person of another municipality."""
    store, _ = history
    st = Storage(db_url)
    first = store.load_person(store.conn.execute("SELECT cpr FROM persons").fetchone()[0])
    before = replace(first, version=1, history=(),
                     tasks=tuple(replace(t, status=TaskStatus.OPEN, closed_reason=None) for t in first.tasks))
    st.load(load_records([before, _other_municipality_person()]))
    desk, _token = st.add_desk("Aarhus 1", MUNI_A)
    batch = [{k: o[k] for k in ("op_id", "kind", "cpr", "payload", "base_version", "case_id")}
             for o in store.outbox("pending")]
    answers = st.push(desk, batch)
    assert {a["status"] for a in answers} == {"applied"}
    yield st, db_url
    st.close()


def test_the_server_report_per_municipality_equals_the_desks_hand_computed_figures(server, capsys):
    st, db = server
    assert cli.main(["--db", db, *ARGS, "--municipality", str(MUNI_A), "--format", "csv"]) == 0
    rows = fault_report.rows_from_csv(capsys.readouterr().out)
    assert [(r.week, r.workaround_id, r.received, r.closed, r.median_days, r.wizard_seconds, r.cases)
            for r in rows] == [
        ("2026-W45", "2.4.1", 2, 1, 3.0, 390, 1),
        ("2026-W45", "2.5.1", 1, 0, None, 0, 0),
        ("2026-W46", "2.4.1", 2, 2, 2.5, 150, 2),
        ("2026-W46", "2.5.1", 0, 1, 7.0, 60, 1),
        (TOTAL, "2.4.1", 4, 3, 3.0, 540, 3),
        (TOTAL, "2.5.1", 1, 1, 7.0, 60, 1),
    ]


def test_the_server_report_across_municipalities_adds_the_others_work(server, capsys):
    st, db = server
    assert cli.main(["--db", db, *ARGS, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["municipality"] is None and out["from"] == "2026-11-02" and out["to"] == "2026-11-15"
    totals = {r["workaround_id"]: (r["received"], r["closed"], r["median_days"], r["wizard_seconds"])
              for r in out["totals"]}
    assert totals == {"2.4.1": (4, 3, 3.0, 540), "2.5.1": (1, 1, 7.0, 60), "2.2.1": (1, 1, 2.0, 300)}


def test_the_server_report_table_names_the_period_and_jira(server, capsys):
    _st, db = server
    assert cli.main(["--db", db, *ARGS, "--municipality", str(MUNI_B)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Fault-cost report 02-11-2026 - 15-11-2026, municipality {MUNI_B}"
    assert out[1].split()[:4] == ["week", "workaround", "jira", "received"]
    assert out[2].split()[:5] == ["2026-W45", "2.2.1", "PHIKOMEXT-100", "1", "1"]
    assert out[-1].split()[:2] == ["total", "2.2.1"]


def test_a_bad_period_is_refused(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    assert cli.main(["--db", db, "report", "--from", "2026-13-01", "--to", "2026-11-15"]) == 2
    assert cli.main(["--db", db, "report", "--from", "2026-11-15", "--to", "2026-11-01"]) == 2
    assert "before" in capsys.readouterr().err


def test_the_wizard_time_travels_by_sync_to_the_server_and_the_other_desk_of_the_municipality(
        sqlite_env, history, tmp_path):  # noqa: F811
    """Desk A's cases go over HTTP; the server's report and desk B's (after its pull) both
    count A's wizard time and closed tasks as worked out by hand."""
    from sygesikring_tui import sync
    from sygesikring_tui.catalogue import load_catalogue
    from sygesikring_tui.store import open_store

    a, _ = history
    first = a.load_person(a.conn.execute("SELECT cpr FROM persons").fetchone()[0])
    before = replace(first, version=1, history=(),
                     tasks=tuple(replace(t, status=TaskStatus.OPEN, closed_reason=None) for t in first.tasks))
    sqlite_env.storage.load(load_records([before]))
    sync.sync_once(a, sqlite_env.client(sqlite_env.desk(MUNI_A, "A")))
    assert a.outbox("pending") == []
    b = open_store(tmp_path / "b.db")
    sync.sync_once(b, sqlite_env.client(sqlite_env.desk(MUNI_A, "B")))
    jira = {w.id: w.jira for w in load_catalogue().workarounds.values()}
    on_b = fault_report.build(fault_report.store_facts(b, START, STOP), START, STOP, jira)
    on_server = sqlite_env.storage.report(START, STOP, MUNI_A)
    for report in (on_b, on_server):
        assert [(r.workaround_id, r.received, r.closed, r.median_days, r.wizard_seconds, r.cases)
                for r in report.totals] == [("2.4.1", 4, 3, 3.0, 540, 3), ("2.5.1", 1, 1, 7.0, 60, 1)]
    assert on_b.rows == on_server.rows
    b.close()
