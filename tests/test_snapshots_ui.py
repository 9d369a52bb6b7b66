"""Snapshot tests of the inbox and the person screen: frozen clock (TODAY), the deterministic
training store from conftest, cursor blink and animations off, Danish texts.

Regenerate after an intended change: ``pytest tests/test_snapshots_ui.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from screens.app import make_app
from tests.conftest import TODAY

pytestmark = pytest.mark.usefixtures("danish", "index_at_once")


async def settled(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_inbox_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=(80, 24), run_before=settled)


def test_inbox_at_100x30(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=(100, 30), run_before=settled)


def test_inbox_cursor_moved_and_sorted_by_event_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["j", "j", "s"], terminal_size=(80, 24),
                        run_before=settled)


def test_inbox_filter_bar_editing_the_event_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["f", "right", "down"], terminal_size=(80, 24),
                        run_before=settled)


def test_inbox_help_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["f1"], terminal_size=(80, 24),
                        run_before=settled)


def test_person_facts_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["enter"], terminal_size=(80, 24),
                        run_before=settled)


def test_person_insurance_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["enter", "2"], terminal_size=(80, 24),
                        run_before=settled)


def test_person_tasks_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["enter", "5"], terminal_size=(80, 24),
                        run_before=settled)


def test_person_wizards_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["enter", "7"], terminal_size=(80, 24),
                        run_before=settled)


def test_person_at_100x30(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["j", "enter"], terminal_size=(100, 30),
                        run_before=settled)


def test_too_small_terminal_at_79x23(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=(79, 23), run_before=settled)
