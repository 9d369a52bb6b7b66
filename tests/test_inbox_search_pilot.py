"""The inbox's search as a caseworker uses it (real key presses at 80×24): a full CPR number
that cannot exist is named at the field, a search that finds nothing under the status filter
says that tasks are hidden and how to show them, Danish letters may be typed in ASCII, and
the command palette opens any person of the store by CPR number."""

from __future__ import annotations

import pytest

from screens.app import make_app
from screens.find_person import FindPersonDialog
from screens.person import PersonScreen
from sygesikring_tui.domain.cpr import format_cpr
from tests.conftest import TODAY
from tests.test_ui_pilot import SIZE, inbox_of, screen_text, settle, sql

pytestmark = pytest.mark.usefixtures("danish", "index_at_once")


def _note(app) -> str:
    note = app.screen.query_one("#search-note")
    return str(note.render()) if note.display else ""


@pytest.mark.parametrize("typed", ["320199-1234", "3201991234", "011399-1234"])
async def test_a_full_cpr_number_without_a_real_date_is_named_at_the_field(training_store, typed):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *typed)
        await settle(app, pilot)
        assert "gyldig fødselsdato" in _note(app)
        assert "gyldig fødselsdato" in screen_text(app)  # visible at 80×24, under the field
        await pilot.press(*["backspace"] * len(typed))
        await settle(app, pilot)
        assert _note(app) == ""


async def test_a_valid_cpr_number_searches_without_a_message(training_store):
    cpr = sql(training_store, "SELECT cpr FROM tasks WHERE status = 'open' ORDER BY rid LIMIT 1")[0][0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *format_cpr(cpr))
        await settle(app, pilot)
        lst = inbox_of(app)
        assert lst.total >= 1 and lst.selected["cpr"] == cpr
        assert _note(app) == ""


async def test_nothing_open_found_says_closed_tasks_are_hidden_and_ctrl_o_shows_them(training_store):
    cpr, closed = sql(training_store, "SELECT cpr, count(*) FROM tasks GROUP BY cpr "
                      "HAVING sum(status = 'open') = 0 ORDER BY cpr LIMIT 1")[0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *cpr)
        await settle(app, pilot)
        lst = inbox_of(app)
        assert lst.total == 0
        note = _note(app)
        assert "Lukkede opgaver er skjult" in note and f"{closed} af dem" in note and "ctrl+o" in note
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert lst.query_.status is None and lst.total == closed
        assert {r["cpr"] for r in (lst.row_at(i) for i in range(lst.total))} == {cpr}
        assert _note(app) == ""


async def test_sorensen_typed_in_ascii_finds_soerensen(training_store):
    names = [n for (n,) in sql(training_store, "SELECT DISTINCT name FROM tasks WHERE status = 'open'") if "ø" in n]
    assert names, "the training data has names with ø"
    surname = next(n.split()[-1] for n in names if "ø" in n.split()[-1])
    ascii_ = surname.lower().replace("ø", "o")
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *ascii_)
        await settle(app, pilot)
        lst = inbox_of(app)
        shown = [lst.row_at(i)["name"] for i in range(lst.total)]
        assert any(surname in n for n in shown), (ascii_, shown[:5])


async def test_find_person_in_the_palette_opens_a_person_without_tasks(training_store):
    cpr = sql(training_store, "SELECT cpr FROM persons WHERE cpr NOT IN (SELECT cpr FROM tasks) ORDER BY cpr LIMIT 1")[0][0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p", *"Find person")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, FindPersonDialog)
        await pilot.press(*"320199-1234", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FindPersonDialog)
        assert "gyldig fødselsdato" in screen_text(app)
        await pilot.press(*["backspace"] * 11, *"1111110000", "enter")  # a valid date, nobody has it
        await pilot.pause()
        assert isinstance(app.screen, FindPersonDialog) and "Der findes ingen person" in screen_text(app)
        await pilot.press(*["backspace"] * 10, *cpr, "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PersonScreen) and app.screen.cpr == cpr
