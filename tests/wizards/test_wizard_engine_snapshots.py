"""Snapshots (80x24) of the card wizards' and the 040 switch's review steps, a yes/no field
in text, and the retired-workaround warning. Frozen clock, fixed-seed training store, and
nothing live (each test has its own user folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.wizards import launch_wizard
from sygesikring_tui.releases import set_live
from tests.wizard_kit import SIZE, find_task, in_group4_card_taken, married_within, only_040, open_from_inbox

CASES = {
    # name: (event code, person predicate, keys after the wizard opened)
    "marriage_review": ("004", married_within, ["ctrl+n", "ctrl+n", "ctrl+n"]),
    "card45_card_step": ("041", in_group4_card_taken, ["ctrl+n", "ctrl+n", "space"]),
    "card45_doctor": ("041", in_group4_card_taken, ["ctrl+n", "ctrl+n", "space", "ctrl+n"]),
    "card45_review": ("041", in_group4_card_taken, ["ctrl+n", "ctrl+n", "space", "ctrl+n", "ctrl+n", "ctrl+n"]),
    "prison_history": ("040", only_040, []),
    "prison_review": ("040", only_040, ["ctrl+n", "space", "ctrl+n", "ctrl+n", "ctrl+n"]),
}


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYGESIKRING_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("name", list(CASES))
def test_engine_wizard_snapshot(name: str, training_store: Path, snap_compare) -> None:
    code, pred, keys = CASES[name]
    cpr, task_id = find_task(training_store, code, pred)

    async def run_before(pilot) -> None:
        await open_from_inbox(pilot, cpr, task_id)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)


def test_retired_warning_snapshot(training_store: Path, snap_compare) -> None:
    cpr, task_id = find_task(training_store, "P03", lambda st: True)
    from sygesikring_tui.catalogue import load_catalogue

    set_live("1.1", True, load_catalogue())

    async def run_before(pilot) -> None:
        await pilot.pause()
        launch_wizard(pilot.app, cpr=cpr, task_id=task_id, wizard_key="renumbering", workaround_id="2.7.1")
        await pilot.pause()

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)
