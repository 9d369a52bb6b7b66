"""Snapshots at 80×24 of the desk's daily work: the close-task dialog (with its error beside
the note), the follow-up tick, the note dialog and the inbox with a draft marker. Frozen
clock (TODAY), the deterministic training store, Danish texts.

Regenerate after an intended change: ``pytest tests/test_daily_work_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from screens.app import make_app
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.store import open_store
from sygesikring_tui.store.quick import commit_quick
from tests.conftest import TODAY
from tests.desk_kit import DESK_FIXTURES, first_open_task, settle
from tests.test_drafts_on_the_desk import draft_at_review, host_move_task

pytestmark = DESK_FIXTURES


SIZE = (80, 24)


def desk(path):
    app = make_app(path, today=TODAY)
    app.caseworker = "Hanne Test"  # the tick's "done by" default, the same on every machine
    return app


def test_close_task_dialog_at_80x24(snap_compare, training_store):
    assert snap_compare(desk(training_store), press=["l"], terminal_size=SIZE, run_before=settle)


def test_close_task_dialog_other_without_a_note_at_80x24(snap_compare, training_store):
    assert snap_compare(desk(training_store), press=["l", "down", "down", "down", "ctrl+s"], terminal_size=SIZE,
                        run_before=settle)


def test_followup_tick_at_80x24(snap_compare, training_store):
    with open_store(training_store) as s:
        _tid, cpr = first_open_task(s)
        for text, due in (("Kontakt ydernummeret om lægevalget", "2026-11-20"), ("Send brev til borgeren", None)):
            payload = {"text": text, **({"due": due} if due else {})}
            commit_quick(s, "test", cpr, None, [PlannedOp(cpr, "followup_add", payload)], TODAY)
    assert snap_compare(desk(training_store), press=["enter", "4", "a"], terminal_size=SIZE, run_before=settle)


def test_followups_view_at_80x24(snap_compare, training_store):
    with open_store(training_store) as s:
        rows = s.conn.execute("SELECT cpr FROM persons ORDER BY cpr LIMIT 3").fetchall()
        for (cpr,), due in zip(rows, ("2026-11-20", "2026-11-25", "2026-12-20")):
            commit_quick(s, "test", cpr, None, [PlannedOp(cpr, "followup_add",
                                                          {"text": "Kontakt ydernummeret", "due": due})], TODAY)
    assert snap_compare(desk(training_store), press=["o"], terminal_size=SIZE, run_before=settle)


def test_note_dialog_at_80x24(snap_compare, training_store):
    assert snap_compare(desk(training_store), press=["enter", "n", *"Borgeren har ringet"], terminal_size=SIZE,
                        run_before=settle)


def test_inbox_with_a_draft_marker_at_80x24(snap_compare, training_store):
    with open_store(training_store) as s:
        tid, cpr = host_move_task(s)
        draft_at_review(s, tid, cpr)
    assert snap_compare(desk(training_store), terminal_size=SIZE, run_before=settle)
