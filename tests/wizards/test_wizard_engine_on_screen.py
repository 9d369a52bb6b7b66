"""The card wizards and the 040 switch driven by real key presses from the inbox to the
committed store; the draft saved while typing survives a crash; retirement by release from
the command palette, and the warning when a retired workaround is started."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.inbox import COLUMNS
from screens.wizards import launch_wizard
from screens.wizards.engine import RetiredWarning, Toggle, WizardScreen
from sygesikring_tui.domain.wizards import card_records, prison_switch
from sygesikring_tui.domain.model import CardStatus, TaskStatus
from sygesikring_tui.domain.wizards.common import ACK_AP4
from sygesikring_tui.i18n import t
from sygesikring_tui.store import open_store
from tests.wizard_kit import SIZE, find_task, in_group4_card_taken, married_within, only_040, open_from_inbox, text_of

WORKAROUND_COLUMN = [c.key for c in COLUMNS].index("workaround")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Live releases are kept per desk user: each test gets its own, with nothing live."""
    folder = tmp_path / "home"
    monkeypatch.setenv("SYGESIKRING_HOME", str(folder))
    return folder


async def test_marriage_name_card_from_inbox_orders_a_free_card(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "004", married_within)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "marriage_name_card"
        await pilot.press("ctrl+n")  # the dates from CPR
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "order"
        assert "> " + t("wizard.marriage.opt.free") in str(screen.query_one("#fld-order").render_line(0).text)
        await pilot.press("enter", "ctrl+n")  # free card, the note as suggested
        await pilot.pause()
        assert screen.on_review
        assert "Digital Post Administrativ adgang" in text_of(screen, "#attn-0")  # AP2: the card letter
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        card = st.cards[-1]
        assert (card.status, card.fee.paid, card.fee.reason) == (CardStatus.ORDERED, False, card_records.FEE_FREE_MARRIAGE)
        assert st.task(task_id).closed_reason == card_records.CLOSE_MARRIAGE_CARD


async def test_card_after_group4_from_inbox_switches_to_group1_and_orders_a_free_card(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "041", in_group4_card_taken)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "card_after_group45"
        await pilot.press("enter")  # "register the switch from group 4 to group 1 now"
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "effective"
        await pilot.press("enter")  # the 041's date
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "card"
        toggle = screen.query_one("#fld-card_taken", Toggle)
        assert str(toggle.render()).startswith(t("wizard.toggle.off"))
        await pilot.press("space")
        await pilot.pause()
        assert str(toggle.render()).startswith(t("wizard.toggle.on"))
        await pilot.press("enter")
        await pilot.pause()
        # into group 1: who is the doctor now (3.1.7) -- the suggested answer is taken
        assert screen.wizard.steps[screen.step_no].id == "doctor"
        chosen = screen.draft.get("new_doctor")
        await pilot.press("enter", "ctrl+n")
        await pilot.pause()
        assert screen.on_review
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        assert st.current_group(TODAY).group == 1
        assert (st.current_doctor(TODAY) is not None) == (chosen != "none")
        assert (st.cards[-1].status, st.cards[-1].fee.paid) == (CardStatus.ORDERED, False)
        assert st.task(task_id).status == TaskStatus.CLOSED


async def test_prison_switch_from_inbox_needs_the_note_lines_confirmed_first(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "040", only_040)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.wizard.key == "prison_switch"
        await pilot.press("ctrl+n")  # not confirmed: refused at the field
        await pilot.pause()
        assert screen.wizard.steps[screen.step_no].id == "history"
        assert text_of(screen, f"#err-{ACK_AP4}") == t("wizard.prison.error.confirm")
        assert app.focused is screen.query_one(f"#fld-{ACK_AP4}")
        await pilot.press("space", "ctrl+n", "ctrl+n", "ctrl+n")  # confirm, date, note
        await pilot.pause()
        assert screen.on_review
        assert not screen.query(Toggle)  # AP4 confirmed in the wizard: not asked again
        assert t("wizard.attn.confirmed_in_wizard").strip() in text_of(screen, "#attn-0")
        await pilot.press("ctrl+s")
        await pilot.pause()
    with open_store(training_store, create=False) as s:
        st = s.load_person(cpr)
        assert st.current_group(TODAY).group == 4
        assert st.task(task_id).closed_reason == card_records.CLOSE_PRISON


async def test_typed_value_survives_a_crash_without_next_or_escape(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "004", married_within)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        case_id = screen.case.id
        await pilot.press("home", "ctrl+k", *"02-10-2026")
        await pilot.pause(0.9)  # the caseworker stops typing; the debounced save runs
        with open_store(training_store, create=False) as other:  # what a crash would leave on disk
            assert other.case(case_id).draft["married_on"] == "02-10-2026"
        app.exit()  # the app ends without Next, Esc or a step change
    app2 = make_app(training_store, today=TODAY)
    async with app2.run_test(size=SIZE) as pilot:
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.case.id == case_id
        assert screen.query_one("#fld-married_on").value == "02-10-2026"


async def _palette(pilot, text: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*text)
    await pilot.pause(0.4)
    await pilot.press("enter")
    await pilot.pause()


async def test_palette_marks_release_live_retires_its_suggestions_and_undo_restores(training_store: Path,
                                                                                      home: Path) -> None:
    cpr, task_id = find_task(training_store, "P03", lambda st: True)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("slash", *cpr, "enter")
        await pilot.pause()
        inbox = app.screen
        assert inbox.inbox_list.selected["workaround_id"] == "2.7.1"
        await _palette(pilot, "Markér release 1.1 som i produktion")
        assert not (home / "releases.json").is_file()  # it asks first
        await pilot.press("down", "enter")  # "Ja, release er i produktion"
        await pilot.pause()
        assert (home / "releases.json").is_file()
        assert app.store.task(task_id).workaround_id is None
        await pilot.pause()
        row = inbox.inbox_list.selected
        assert row["id"] == task_id and row["workaround_id"] is None
        assert inbox.inbox_list.row_texts(row)[WORKAROUND_COLUMN] == t("inbox.no_workaround")
        await pilot.press("w")  # no longer suggested: no wizard starts
        await pilot.pause()
        assert not isinstance(app.screen, (WizardScreen, RetiredWarning))
        await _palette(pilot, "Fortryd release 1.1")
        assert app.store.task(task_id).workaround_id == "2.7.1"
        await pilot.pause()
        assert inbox.inbox_list.selected["workaround_id"] == "2.7.1"


async def test_starting_a_retired_workaround_warns_first_and_the_caseworker_may_stop_or_go_on(
        training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "P03", lambda st: True)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.set_release_live("1.1", True)
        launch_wizard(app, cpr=cpr, task_id=task_id, wizard_key="renumbering", workaround_id="2.7.1")
        await pilot.pause()
        assert isinstance(app.screen, RetiredWarning)
        assert t("release.retired_warning", section="2.7.1", release="1.1") in text_of(app.screen, "#rw-text")
        await pilot.press("enter")  # "Stop" is first
        await pilot.pause()
        assert not isinstance(app.screen, (WizardScreen, RetiredWarning))
        assert app.store.open_draft("2.7.1", cpr, task_id) is None  # nothing was started
        launch_wizard(app, cpr=cpr, task_id=task_id, wizard_key="renumbering", workaround_id="2.7.1")
        await pilot.pause()
        await pilot.press("down", "enter")  # continue anyway
        await pilot.pause()
        assert isinstance(app.screen, WizardScreen) and app.screen.wizard.key == "renumbering"
        await pilot.press("escape")
        await pilot.pause()
        app.set_release_live("1.1", False)
        launch_wizard(app, cpr=cpr, task_id=task_id, wizard_key="renumbering", workaround_id="2.7.1")
        await pilot.pause()
        assert isinstance(app.screen, WizardScreen)  # not retired: no warning


async def test_a_workaround_without_a_live_release_starts_without_warning(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "004", married_within)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.set_release_live("1.1", True)  # 2.7.7 has no planned release
        launch_wizard(app, cpr=cpr, task_id=task_id, wizard_key="marriage_name_card", workaround_id="2.7.7")
        await pilot.pause()
        assert isinstance(app.screen, WizardScreen)
