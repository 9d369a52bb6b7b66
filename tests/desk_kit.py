"""Helpers of the desk's daily-work tests: the app on a copy of the training store, settled,
and moving the inbox cursor to a task by real key presses."""

from __future__ import annotations

import pytest

from tests.test_ui_pilot import screen_text  # noqa: F401 - re-exported for the tests

SIZE = (80, 24)


# what every desk test module asks for (fixtures in tests/conftest.py)
DESK_FIXTURES = pytest.mark.usefixtures("danish", "own_home", "index_at_once")


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def cursor_to(pilot, task_id: str) -> None:
    """Search the inbox for the task's CPR number, then move down to the task (keys only)."""
    app = pilot.app
    cpr = app.store.task(task_id).cpr
    await pilot.press("slash", *cpr, "enter")
    await settle(pilot)
    lst = app.screen.inbox_list
    for _ in range(10):
        if lst.selected and lst.selected["id"] == task_id:
            return
        await pilot.press("down")
        await pilot.pause()
    assert lst.selected and lst.selected["id"] == task_id


def first_open_task(store, *, wizard: bool | None = None) -> tuple[str, str]:
    """(task id, cpr) of the first open task in inbox order; ``wizard`` False: one the
    guide has no wizard for (its suggestion is "ingen")."""
    sql = "SELECT id, cpr FROM tasks WHERE status = 'open'"
    if wizard is False:
        sql += " AND workaround_id IS NULL"
    elif wizard is True:
        sql += " AND workaround_id IS NOT NULL"
    return store.conn.execute(sql + " ORDER BY due, rid LIMIT 1").fetchone()
