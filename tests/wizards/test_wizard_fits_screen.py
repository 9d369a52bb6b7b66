"""At 80x24 nothing the caseworker needs is out of sight in a wizard: the person and task stay
pinned above the step, a validation message is scrolled into view next to its focused field,
the review scrolls by keys without Tab, a chosen option is shown in its list, and Tab goes
only to visible fields (a date field is not selected whole, so one key does not replace it).

Each case is a task of the training store for which the catalogue suggests the guide section
the case is about (2.1.1, 2.6.5, 2.6.7, 2.6.8, 2.7.1, 3.1.7), opened as ``w`` opens it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.wizards.engine import ChoiceList, WizardScreen
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.store import open_store
from tests.wizard_kit import SIZE


def task_for_section(path: Path, section: str) -> tuple[str, str, str]:
    """(cpr, task id, wizard key) of the first open task the catalogue sends to ``section``."""
    cat = load_catalogue()
    with open_store(path, create=False) as s:
        for tid, cpr, code in s.conn.execute(
                "SELECT id, cpr, event_code FROM tasks WHERE status = 'open' ORDER BY rid"):
            sug = cat.suggest(code, s.load_person(cpr), TODAY, s.provider, frozenset())
            if sug.workaround_id == section and sug.wizard:
                return cpr, tid, sug.wizard
    raise AssertionError(f"the training store has no open task for {section}")


async def open_wizard(pilot, path: Path, section: str) -> WizardScreen:
    cpr, task_id, wizard = task_for_section(path, section)
    await pilot.pause()
    pilot.app.launch(cpr=cpr, task_id=task_id, wizard_key=wizard, workaround_id=section)
    await pilot.pause()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, WizardScreen)
    return screen


async def choose(pilot, screen: WizardScreen, field: str, pred: Callable[[str], bool]) -> None:
    """Move the highlight of a choice field by keys to the first option whose text passes."""
    ol = screen.query_one(f"#fld-{field}", ChoiceList)
    index = next(i for i in range(ol.option_count) if pred(str(ol.get_option_at_index(i).prompt)))
    ol.focus()
    await pilot.press("home", *["down"] * index)
    await pilot.pause()
    assert ol.highlighted == index


def in_view(screen: WizardScreen, selector: str) -> bool:
    """The widget is laid out wholly inside the visible part of the wizard's body."""
    region = screen.query_one(selector).region
    return bool(region.height) and screen.query_one("#wiz-body").region.contains_region(region)


def closed(prompt: str) -> bool:
    return "lukket" in prompt


async def closed_doctor(pilot, screen: WizardScreen) -> None:
    await choose(pilot, screen, "provider", closed)


async def open_doctor(pilot, screen: WizardScreen) -> None:
    await choose(pilot, screen, "provider", lambda p: not closed(p))


async def current_doctor(pilot, screen: WizardScreen) -> None:
    await pilot.press("ctrl+n")
    await pilot.pause()
    number = screen.ctx.state.current_doctor(TODAY).provider_number
    await choose(pilot, screen, "provider", lambda p: f"({number})" in p)


async def wrong_date(pilot, screen: WizardScreen) -> None:
    """2.6.8's doctor step (a long doctor list, then the date): a ninth digit in the date."""
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert screen.wizard.steps[screen.step_no].id == "doctor"
    await pilot.press("tab", "9")


ERROR_CASES = {
    # name: (guide section, keys that leave a wrong value, the field the message is about)
    "closed_doctor_on_immigration": ("2.1.1", closed_doctor, "provider"),
    "open_doctor_on_forced_choice": ("2.6.5", open_doctor, "provider"),
    "current_doctor_on_child_free_choice": ("2.6.8", current_doctor, "provider"),
    # (2.6.7's date is the practice transfer's, filled and locked: 2.6.8 has the same layout)
    "wrong_date_on_child_free_choice": ("2.6.8", wrong_date, "effective"),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
async def test_the_message_is_in_view_next_to_its_focused_field(name: str, training_store: Path) -> None:
    section, wrong, field = ERROR_CASES[name]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, section)
        await wrong(pilot, screen)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert str(screen.query_one(f"#err-{field}").render()).strip(), "no message under the field"
        assert in_view(screen, f"#err-{field}")
        assert screen.focused is screen.query_one(f"#fld-{field}")
        assert screen.query_one(f"#fld-{field}").region.y >= screen.query_one("#wiz-body").region.y
        who = screen.query_one("#wiz-who").region  # whose case it is, still in sight
        assert who.height and screen.region.contains_region(who)


async def test_the_person_and_task_stay_pinned_when_the_step_scrolls(training_store: Path) -> None:
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, "2.6.8")
        body = screen.query_one("#wiz-body")
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        assert body.scroll_offset.y > 0  # the step is taller than the screen
        who = screen.query_one("#wiz-who")
        text = str(who.render())
        assert screen.ctx.state.person.name in text and screen.case.task_id is not None
        assert "PLO2" in text  # the task's event
        assert who.region.height == 2 and who.region.bottom <= body.region.y
        # not twice: the step's own evidence no longer starts with the person line
        assert screen.ctx.state.person.name not in str(screen.query_one("#wiz-body .wiz-evidence").render())


async def test_a_date_field_reached_by_tab_keeps_its_text_when_a_key_is_typed(training_store: Path) -> None:
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, "2.6.8")
        await pilot.press("ctrl+n")
        await pilot.pause()
        date_field = screen.query_one("#fld-effective")
        before = date_field.value
        await pilot.press("tab", "9")
        await pilot.pause()
        assert screen.focused is date_field
        assert before and date_field.value == before + "9"


async def test_tab_visits_only_visible_fields(training_store: Path) -> None:
    """3.1.7 (CPR 039/041): the first step's Tab used to land on the invisible scroll container."""
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, "3.1.7")
        fields = {w for w in screen.query("#wiz-body *") if w.focusable}
        for _ in range(4):
            await pilot.press("tab")
            await pilot.pause()
            assert screen.focused in fields, screen.focused
            assert in_view(screen, f"#{screen.focused.id}")
        await pilot.press("x", "ctrl+n")  # a typed key reaches no hidden widget; the step still moves on
        await pilot.pause()
        assert screen.step_no > 0


async def test_a_preselected_choice_far_down_its_list_is_shown(training_store: Path) -> None:
    """2.6.5 (L01): the suggested closed doctor is pre-selected far down the list; on opening,
    the list shows it (marked "> "), not its first lines."""
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, "2.6.5")
        await pilot.pause(0.3)
        ol = screen.query_one("#fld-provider", ChoiceList)
        assert ol.highlighted is not None and ol.highlighted >= 5  # below the list's first lines
        lines = [ol.render_line(y).text for y in range(ol.size.height)]
        assert any(line.startswith("> ") for line in lines), lines
        assert in_view(screen, "#fld-provider")


REVIEW_KEYS = [
    # (key, where the review is then: "top", "bottom" or "moved" from the top)
    ("down", "moved"), ("up", "top"), ("j", "moved"), ("k", "top"), ("pagedown", "moved"),
    ("pageup", "top"), ("G", "bottom"), ("g", "top"), ("end", "bottom"), ("home", "top"),
]


async def test_the_review_scrolls_by_keys_without_tab(training_store: Path) -> None:
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, "2.1.1")
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        await pilot.pause()
        assert screen.on_review
        body = screen.query_one("#wiz-body")
        assert body.max_scroll_y > 0  # longer than the screen
        for key, where in REVIEW_KEYS:
            await pilot.press(key)
            await pilot.pause()
            y = body.scroll_offset.y
            expected = {"top": y == 0, "bottom": y == body.max_scroll_y, "moved": y > 0}[where]
            assert expected, (key, y)


# -- pictures at 80x24 of the worst cases ------------------------------------------------------

def test_snapshot_a_wrong_date_on_the_lowest_field_of_the_longest_step(training_store: Path, snap_compare) -> None:
    """2.6.8's doctor step (evidence, a long doctor list, then the date): the message under the date."""
    async def run_before(pilot) -> None:
        screen = await open_wizard(pilot, training_store, "2.6.8")
        await wrong_date(pilot, screen)
        await pilot.press("enter")
        await pilot.pause(0.3)

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)


def test_snapshot_the_end_of_the_longest_review_after_keys(training_store: Path, snap_compare) -> None:
    """2.7.1's review (renumbering: the longest list of operations) scrolled to its end by keys."""
    async def run_before(pilot) -> None:
        screen = await open_wizard(pilot, training_store, "2.7.1")
        while not screen.on_review:
            await pilot.press("ctrl+n")
            await pilot.pause()
        await pilot.press("j", "pagedown", "end")
        await pilot.pause(0.2)

    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=run_before)


async def test_the_practice_transfer_date_is_filled_from_the_event_and_cannot_be_changed(training_store: Path) -> None:
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(pilot, training_store, "2.6.7")
        date_field = screen.query_one("#fld-effective")
        before = date_field.value
        assert before and date_field.disabled
        await pilot.press("tab", "9", "backspace")
        await pilot.pause()
        assert screen.focused is not date_field and date_field.value == before
