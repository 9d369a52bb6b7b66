"""Snapshots (80x24) of the review step of each events-family wizard, on the fixed-seed
training store with a frozen clock, so the pictures are the same run to run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.wizards import launch_wizard
from sygesikring_tui.domain.wizards import rediscovery
from sygesikring_tui.domain.model import PersonState, RelationKind
from tests.wizard_kit import SIZE, find_task, free_to_choose, from_greenland, open_from_inbox, to_greenland


def missing(st: PersonState) -> bool:
    return free_to_choose(st) and rediscovery.missing_choice(st) is not None


CASES: dict[str, tuple[str, Callable[[PersonState], bool], list[str]]] = {
    # name: (event code, person predicate, keys from the wizard's first step to its review)
    "greenland_to_review": ("013", to_greenland, ["ctrl+n", "ctrl+n"]),
    "greenland_to_removals": ("013", to_greenland, ["ctrl+n"]),
    "greenland_from_review": ("034", from_greenland, ["ctrl+n", "ctrl+n"]),
    "practice_transfer_review": ("PLO1", free_to_choose, ["ctrl+n", "ctrl+n"]),
    "child_free_choice_review": ("PLO2", free_to_choose, ["ctrl+n", "ctrl+n", "ctrl+n"]),
    "rediscovery_review": ("011", missing, ["ctrl+n"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_events_review_snapshot(name: str, training_store: Path, snap_compare) -> None:
    code, pred, keys = CASES[name]
    cpr, task_id = find_task(training_store, code, pred)

    async def run_before(pilot) -> None:
        await open_from_inbox(pilot, cpr, task_id)
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)


def test_child_home_review_snapshot(training_store: Path, snap_compare) -> None:
    cpr, _task = find_task(training_store, "036", lambda st: free_to_choose(st) and any(
        r.kind == RelationKind.RESIDENCE_PARENT for r in st.relations))

    async def run_before(pilot) -> None:
        await pilot.pause()
        launch_wizard(pilot.app, cpr=cpr, task_id=None, wizard_key="child_home", workaround_id="2.7.8")
        await pilot.pause()
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)
