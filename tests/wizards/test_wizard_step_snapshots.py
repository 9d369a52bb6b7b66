"""Snapshots (80x24) of every wizard step, the review steps, a field error and the F1 help.

The training store is built from a fixed seed and the app's clock is frozen, so the
pictures are the same run to run. Update with ``pytest --snapshot-update`` after a wanted
change, and look at the pictures before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.wizards import launch_wizard
from sygesikring_tui.domain.model import PersonState
from sygesikring_tui.domain.wizards.callup import suggest_callup
from sygesikring_tui.domain.wizards.discharge import service_start
from sygesikring_tui.domain.wizards.renumbering import changes_to
from tests.wizard_kit import SIZE, find_task, open_from_inbox


def renumbered(st: PersonState) -> bool:
    return bool(changes_to(st))


def relation(st: PersonState) -> bool:
    return not changes_to(st)


def suggests(kind: str) -> Callable[[PersonState], bool]:
    return lambda st: suggest_callup(st) == kind


def in_service(st: PersonState) -> bool:
    return service_start(st, TODAY) is not None


def luna_unknown(st: PersonState) -> bool:
    g = st.current_group(TODAY)
    return not st.person.luna_known and g is not None and g.group in (1, 2)


CASES = {
    # name: (event code, person predicate, keys after the wizard opened)
    "renumbering_1_history": ("P03", renumbered, []),
    "renumbering_2_old": ("P03", renumbered, ["ctrl+n"]),
    "renumbering_3_new": ("P03", renumbered, ["ctrl+n", "ctrl+n"]),
    "renumbering_4_note": ("P03", renumbered, ["ctrl+n", "ctrl+n", "ctrl+n"]),
    "renumbering_5_review": ("P03", renumbered, ["ctrl+n", "ctrl+n", "ctrl+n", "ctrl+n"]),
    "renumbering_bad_cpr": ("P03", renumbered, ["ctrl+n", "home", "ctrl+k", *"320299-1234", "ctrl+n"]),
    "relation_1_history": ("P03", relation, []),
    "relation_2_close": ("P03", relation, ["ctrl+n"]),
    "relation_3_review": ("P03", relation, ["ctrl+n", "ctrl+n"]),
    "callup_1_decide": ("038", suggests("state_posted"), []),
    "callup_2_conscript": ("038", suggests("conscript"), ["ctrl+n"]),
    "callup_2_conscript_bad_date": ("038", suggests("conscript"), ["ctrl+n", "home", "ctrl+k", *"31-02-2026",
                                                                   "ctrl+n"]),
    "callup_3_conscript_review": ("038", suggests("conscript"), ["ctrl+n", "ctrl+n"]),
    "callup_2_state_posted": ("038", suggests("state_posted"), ["ctrl+n"]),
    "callup_3_state_posted_review": ("038", suggests("state_posted"), ["ctrl+n", "ctrl+n"]),
    "callup_2_short_stay": ("038", suggests("short_stay"), ["ctrl+n"]),
    "callup_3_short_stay_review": ("038", suggests("short_stay"), ["ctrl+n", "ctrl+n"]),
    "discharge_1_switch": ("039", in_service, []),
    "discharge_2_doctor": ("039", in_service, ["ctrl+n"]),
    "discharge_3_review": ("039", in_service, ["ctrl+n", "ctrl+n"]),
    "forced_1_doctor": ("L01", luna_unknown, []),
    "forced_2_fee": ("L01", luna_unknown, ["ctrl+n"]),
    "forced_2_fee_free_without_reason": ("L01", luna_unknown, ["ctrl+n", "down", "ctrl+n"]),
    "forced_3_review": ("L01", luna_unknown, ["ctrl+n", "ctrl+n"]),
    "forced_help": ("L01", luna_unknown, ["f1"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_wizard_step_snapshot(name: str, training_store: Path, snap_compare) -> None:
    code, pred, keys = CASES[name]
    cpr, task_id = find_task(training_store, code, pred)

    async def run_before(pilot) -> None:
        await open_from_inbox(pilot, cpr, task_id)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)


def test_state_posted_note_snapshot(training_store: Path, snap_compare) -> None:
    cpr, _task = find_task(training_store, "038", suggests("conscript"))

    async def run_before(pilot) -> None:
        await pilot.pause()
        launch_wizard(pilot.app, cpr=cpr, task_id=None, wizard_key="state_posted_note", workaround_id="2.5.1")
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)
