"""Snapshots (80x24) of the review step of each doctor-choice wizard, and of the provider
step of 2.6.1 (straight-line km, within/beyond, open/closed in words).

The training store comes from a fixed seed and the clock is frozen, so the pictures are
the same run to run. Update with ``pytest --snapshot-update`` after a wanted change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.wizards import launch_wizard
from sygesikring_tui.domain.model import PersonState, RelationKind
from tests.wizard_kit import SIZE, cohabitant_host, find_task, immigrant_with_ordered_card, open_from_inbox


def luna_unknown(st: PersonState) -> bool:
    return not st.person.luna_known and st.current_group(TODAY).group == 1


def ward(st: PersonState) -> bool:
    return any(r.kind == RelationKind.GUARDIAN for r in st.relations) and st.current_group(TODAY).group == 1


REVIEW = ["ctrl+n"] * 5  # more than any of these wizards has steps: ends on the review

CASES = {
    "immigration_review": ("014", lambda path: immigrant_with_ordered_card, REVIEW),
    "host_move_review": ("034", cohabitant_host, REVIEW),
    "dispensation_1_doctor": ("L02", lambda path: luna_unknown, []),
    "dispensation_review": ("L02", lambda path: luna_unknown, REVIEW),
    "guardian_review": ("021", lambda path: ward, REVIEW),
}


@pytest.mark.parametrize("name", list(CASES))
def test_doctors_wizard_snapshot(name: str, training_store: Path, snap_compare) -> None:
    code, pred, keys = CASES[name]
    cpr, task_id = find_task(training_store, code, pred(training_store))

    async def run_before(pilot) -> None:
        await open_from_inbox(pilot, cpr, task_id)
        for k in keys:
            if pilot.app.screen.on_review:
                break
            await pilot.press(k)
            await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)


def test_cohabitant_doctor_review_snapshot(training_store: Path, snap_compare) -> None:
    cpr, _task = find_task(training_store, "034", cohabitant_host(training_store))

    async def run_before(pilot) -> None:
        await pilot.pause()
        launch_wizard(pilot.app, cpr=cpr, task_id=None, wizard_key="cohabitant_doctor", workaround_id="2.3.1")
        await pilot.pause()
        for _ in range(5):
            if pilot.app.screen.on_review:
                break
            await pilot.press("ctrl+n")
            await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)
