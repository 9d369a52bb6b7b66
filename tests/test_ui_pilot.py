"""Pilot tests of the app shell, the task inbox and the person screen, through real key presses
at 80×24 (the smallest supported terminal)."""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from screens.app import SygesikringApp, make_app, run_app
from screens.dialogs import MessageDialog, StoreErrorScreen, TooSmallScreen
from screens.help import HelpScreen
from screens.inbox import FilterBar, InboxList, InboxScreen
from screens.person import PersonScreen
from sygesikring_tui import i18n, logs
from screens.widgets import fmt_date
from tests.conftest import TODAY

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def index_at_once(monkeypatch):
    """Read the inbox's in-memory index right after the first paint (not after a delay), so
    ``workers.wait_for_complete`` sees it."""
    monkeypatch.setattr("screens.inbox.INDEX_DELAY", 0)


@pytest.fixture(autouse=True)
def danish():
    """The language is process-global: every test starts and ends in Danish."""
    i18n.set_language("da")
    yield
    i18n.set_language("da")


def screen_text(app: SygesikringApp) -> str:
    """What the terminal shows, as plain text (the current screen over its background)."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    con = Console(file=io.StringIO(), width=app.size.width, height=app.size.height, record=True,
                  color_system=None, legacy_windows=False)
    con.print(update)
    return con.export_text(styles=False)


def sql(path: Path, query: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


async def settle(app: SygesikringApp, pilot) -> None:
    """Wait until the app is idle and the inbox's background reads are done."""
    for _ in range(3):  # the index worker may start the id-list worker when it ends
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


def inbox_of(app: SygesikringApp) -> InboxList:
    screen = app.screen
    assert isinstance(screen, InboxScreen), screen
    return screen.inbox_list


def visible_rows(lst: InboxList) -> list[dict]:
    top = int(lst.scroll_y)
    return [r for i in range(top, min(lst.total, top + lst.visible_rows)) if (r := lst.row_at(i))]


# -- navigation -----------------------------------------------------------------------------


async def test_arrow_and_j_k_keys_move_the_inbox_selection(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        assert lst.index is not None  # the in-memory index answers from here on
        assert lst.cursor == 0
        first = lst.selected
        await pilot.press("down", "j")
        assert lst.cursor == 2
        await pilot.press("k")
        assert lst.cursor == 1
        await pilot.press("up", "up")
        assert lst.cursor == 0
        assert lst.selected == first


async def test_pagedown_g_and_G_jump_by_page_and_to_the_ends(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        open_count = sql(training_store, "SELECT count(*) FROM tasks WHERE status='open'")[0][0]
        assert lst.total == open_count > lst.visible_rows
        await pilot.press("pagedown")
        assert lst.cursor == lst.visible_rows - 1
        await pilot.press("G")
        await pilot.pause()
        assert lst.cursor == open_count - 1
        # The last row is on screen: scrolled to the bottom.
        assert lst.scroll_y + lst.visible_rows >= open_count
        assert lst.selected["rid"] == sql(
            training_store, "SELECT rid FROM tasks WHERE status='open' ORDER BY due DESC, rid DESC LIMIT 1")[0][0]
        await pilot.press("g")
        await pilot.pause()
        assert lst.cursor == 0 and lst.scroll_y == 0


# -- search, filter, sort -------------------------------------------------------------------


async def test_typing_part_of_a_name_filters_rows_to_that_name(training_store):
    surname = sql(training_store, "SELECT name FROM tasks WHERE status='open' ORDER BY rid LIMIT 1")[0][0].split()[-1]
    expected = sql(training_store, "SELECT count(*) FROM tasks WHERE status='open' AND instr(lower(name), ?) > 0",
                   surname.lower())[0][0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        before = lst.total
        await pilot.press("slash", *surname.lower())
        await settle(app, pilot)
        assert 0 < lst.total == expected < before
        rows = visible_rows(lst)
        assert rows and all(surname.lower() in r["name"].lower() for r in rows)
        assert f"{expected} opgaver" in screen_text(app)


async def test_typing_cpr_digits_filters_rows_to_that_person(training_store):
    cpr = sql(training_store, "SELECT cpr FROM tasks WHERE status='open' ORDER BY rid DESC LIMIT 1")[0][0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        await pilot.press("slash", *cpr[:6], "minus", *cpr[6:])  # typed as DDMMYY-SSSS
        await settle(app, pilot)
        rows = visible_rows(lst)
        assert rows and {r["cpr"] for r in rows} == {cpr}
        assert lst.total == sql(training_store, "SELECT count(*) FROM tasks WHERE status='open' AND cpr=?", cpr)[0][0]
        # Escape clears the search: every open task is back.
        await pilot.press("escape")
        await settle(app, pilot)
        assert lst.total == sql(training_store, "SELECT count(*) FROM tasks WHERE status='open'")[0][0]


async def test_status_filter_shows_closed_tasks_only(training_store):
    closed = sql(training_store, "SELECT count(*) FROM tasks WHERE status='closed'")[0][0]
    assert closed > 0
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.focused, FilterBar)  # the filter line under the search field
        await pilot.press("down")  # Åben -> Lukket, the list follows at once
        await settle(app, pilot)
        assert lst.total == closed
        await pilot.press("enter")
        assert app.focused is lst
        assert all(r["status"] == "closed" for r in visible_rows(lst))
        assert "Status: Lukket" in screen_text(app)


async def test_event_filter_shows_only_tasks_of_that_event(training_store):
    codes = [r[0] for r in sql(training_store, "SELECT DISTINCT event_code FROM tasks ORDER BY event_code")]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        await pilot.press("f", "right", "down", "enter")  # event field: "alle", then the first code
        await settle(app, pilot)
        code = codes[0]
        assert lst.query_.event_code == code
        assert lst.total == sql(training_store, "SELECT count(*) FROM tasks WHERE status='open' AND event_code=?",
                                code)[0][0]
        assert {r["event_code"] for r in visible_rows(lst)} == {code}
        await pilot.press("x")  # clear filters
        await settle(app, pilot)
        assert lst.query_.event_code is None


async def test_workaround_filter_none_shows_tasks_without_a_suggestion(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        await pilot.press("f", "right", "right", "down", "enter")  # workaround field: "alle", "ingen"
        await settle(app, pilot)
        assert lst.query_.workaround_id == "none"
        assert lst.total == sql(training_store,
                                "SELECT count(*) FROM tasks WHERE status='open' AND workaround_id IS NULL")[0][0]
        assert all(r["workaround_id"] is None for r in visible_rows(lst))


async def test_s_cycles_the_sort_column_and_S_reverses_the_order(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        dues = [r["due"] for r in visible_rows(lst)]
        assert dues == sorted(dues)
        await pilot.press("s")  # due -> event
        await settle(app, pilot)
        assert lst.query_.sort == "event"
        first = [r["event_code"] for r in visible_rows(lst)]
        assert first == sorted(first)
        assert first[0] == sql(training_store, "SELECT min(event_code) FROM tasks WHERE status='open'")[0][0]
        await pilot.press("S")
        await settle(app, pilot)
        assert lst.query_.descending
        rev = [r["event_code"] for r in visible_rows(lst)]
        assert rev == sorted(rev, reverse=True)
        assert rev[0] == sql(training_store, "SELECT max(event_code) FROM tasks WHERE status='open'")[0][0]
        assert "Hændelse ▼" in screen_text(app)


async def test_sorted_by_received_the_first_column_shows_the_received_date(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        for _ in range(6):  # due -> event -> cpr -> name -> status -> workaround -> received
            await pilot.press("s")
            await settle(app, pilot)
        assert lst.query_.sort == "received"
        rows = visible_rows(lst)
        assert [r["received"] for r in rows] == sorted(r["received"] for r in rows)
        assert "Modtaget ▲" in screen_text(app) and "Frist" not in screen_text(app).splitlines()[5]
        first = rows[0]
        assert first["received"] != first["due"]
        assert lst.row_texts(first)[0] == fmt_date(first["received"])


async def test_overdue_and_due_today_tasks_are_marked_in_text(training_store):
    today_iso = TODAY.isoformat()
    n_over = sql(training_store, "SELECT count(*) FROM tasks WHERE status='open' AND due < ?", today_iso)[0][0]
    assert n_over > 0
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        text = screen_text(app)
        assert "OVERSKREDET" in text  # the list starts with the earliest due dates
        lst = inbox_of(app)
        line = " ".join(lst.row_texts(lst.row_at(0)))
        assert "OVERSKREDET" in line


# -- person screen --------------------------------------------------------------------------


async def test_enter_opens_the_person_of_the_selected_task(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        await pilot.press("j", "j", "j")
        row = lst.selected
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PersonScreen)
        assert screen.cpr == row["cpr"] and screen.task_id == row["id"]
        text = screen_text(app)
        assert f"{row['cpr'][:6]}-{row['cpr'][6:]}" in text and row["name"] in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InboxScreen)
        assert inbox_of(app).cursor == 3


async def test_person_tabs_show_groups_doctors_tasks_and_wizards(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PersonScreen)
        await pilot.press("2")
        await pilot.pause()
        text = screen_text(app)
        assert "Sikringsgrupper" in text and "Lægevalg" in text
        await pilot.press("5")
        await pilot.pause()
        text = screen_text(app)
        assert "Opgaver" in text and "CPR-hændelser" in text
        await pilot.press("7")
        await pilot.pause()
        assert screen.wizards, "every person gets at least the catalogue's wizards"
        assert app.focused is screen.query_one("#wizard-list")
        # The key bar (last line) and the tabs are on screen at 80x24.
        lines = screen_text(app).splitlines()
        assert "Faneblad" in lines[23] and "7 Wizards" in lines[3]


async def test_person_screen_offers_the_suggested_wizard_of_an_open_task(training_store):
    from sygesikring_tui.catalogue import load_catalogue

    cat = load_catalogue()
    with_wizard = [w.id for w in cat.workarounds.values() if w.wizard]
    marks = ",".join("?" * len(with_wizard))
    cpr, task_id = sql(training_store, f"SELECT cpr, id FROM tasks WHERE status='open' AND workaround_id IN ({marks}) "
                       "ORDER BY rid LIMIT 1", *with_wizard)[0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.push_screen(PersonScreen(cpr, task_id=task_id))
        await settle(app, pilot)
        screen = app.screen
        suggested = screen.suggested_entry()
        assert suggested is not None and suggested.task_id == task_id
        await pilot.press("7")
        await pilot.pause()
        assert "★" in screen_text(app)


async def test_w_in_the_inbox_starts_the_suggested_wizard(training_store):
    from sygesikring_tui.catalogue import load_catalogue
    from sygesikring_tui.domain.wizards import WIZARDS

    cat = load_catalogue()
    with_wizard = [w.id for w in cat.workarounds.values() if w.wizard in WIZARDS]
    marks = ",".join("?" * len(with_wizard))
    cpr = sql(training_store, f"SELECT cpr FROM tasks WHERE status='open' AND workaround_id IN ({marks}) "
              "ORDER BY rid LIMIT 1", *with_wizard)[0][0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *cpr, "enter")
        await settle(app, pilot)
        assert inbox_of(app).selected["cpr"] == cpr
        await pilot.press("w")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "WizardScreen"
        assert app.screen.case.cpr == cpr
        # The wizard engine's screen is not ours: the app adds the TRÆNING banner to it.
        assert "TRÆNING" in screen_text(app)


# -- shell: help, training, size, language, palette -----------------------------------------


async def test_f1_opens_help_for_the_current_screen(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Opgaveoverblikket viser" in screen_text(app)
        await pilot.press("escape", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PersonScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Personbilledet viser" in screen_text(app)
        await pilot.press("f1")  # F1 again closes help
        await pilot.pause()
        assert isinstance(app.screen, PersonScreen)


async def test_training_is_shown_in_text_on_every_screen(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.is_training
        seen = {}
        seen["inbox"] = screen_text(app)
        await pilot.press("f")
        await pilot.pause()
        seen["filter"] = screen_text(app)
        await pilot.press("escape", "f1")
        await pilot.pause()
        seen["help"] = screen_text(app)
        await pilot.press("escape", "enter")
        await settle(app, pilot)
        for tab in "1234567":
            await pilot.press(tab)
            await pilot.pause()
            seen[f"person-{tab}"] = screen_text(app)
        app.report_error(RuntimeError("test"))
        await pilot.pause()
        seen["error"] = screen_text(app)
        await pilot.press("enter", "ctrl+p")
        await pilot.pause()
        seen["palette"] = screen_text(app)
        for name, text in seen.items():
            assert "TRÆNING" in text, name


async def test_a_terminal_smaller_than_80x24_shows_the_too_small_message(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=(79, 23)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, TooSmallScreen)
        assert "Terminalen er for lille (mindst 80×24)" in screen_text(app)
        await pilot.press("j")  # keys do not reach the inbox underneath
        await pilot.resize_terminal(80, 24)
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)
        assert inbox_of(app).cursor == 0
        await pilot.resize_terminal(100, 23)
        await settle(app, pilot)
        assert isinstance(app.screen, TooSmallScreen)


async def test_ctrl_l_switches_the_language_at_runtime(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "Opgaveoverblik" in screen_text(app)
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        text = screen_text(app)
        assert "Task inbox" in text and "Due" in text and "OVERDUE" in text
        await pilot.press("ctrl+l")
        await settle(app, pilot)
        assert "Opgaveoverblik" in screen_text(app)


async def test_command_palette_switches_language_and_opens_help(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"engelsk")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert i18n.language() == "en"
        assert "Task inbox" in screen_text(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"help")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)


# -- bad store, unexpected errors -----------------------------------------------------------


async def test_a_corrupt_store_shows_a_message_naming_the_file_and_is_left_unchanged(tmp_path, capsys):
    path = tmp_path / "desk.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\x13garbage" * 512)
    before = path.read_bytes()
    assert run_app(path) == 2
    err = capsys.readouterr().err
    assert "beskadiget" in err and str(path) in err and "Traceback" not in err
    assert path.read_bytes() == before
    app = make_app(path, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StoreErrorScreen)
        text = screen_text(app)
        assert "beskadiget" in text and "Traceback" not in text
        await pilot.press("q")
    assert path.read_bytes() == before


async def test_an_exception_in_a_key_action_shows_a_short_message_not_a_traceback(training_store, tmp_path,
                                                                                   monkeypatch):
    log_path = tmp_path / "app.log"
    logs.setup(path=log_path)
    handler = logging.getLogger().handlers[-1]
    try:
        def boom(self):
            raise RuntimeError("kaput for 010203-1234")

        monkeypatch.setattr(InboxScreen, "action_sort", boom)
        app = make_app(training_store, today=TODAY)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("s")
            await settle(app, pilot)
            assert isinstance(app.screen, MessageDialog)
            text = screen_text(app)
            assert "uventet fejl" in text and "står i loggen" in text
            assert "Traceback" not in text and "RuntimeError" not in text
            await pilot.press("enter", "j")
            await pilot.pause()
            assert inbox_of(app).cursor == 1  # the app goes on
        assert not app.return_code
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    logged = log_path.read_text()
    assert "RuntimeError" in logged and "010203-XXXX" in logged and "010203-1234" not in logged


async def test_an_exception_while_filtering_a_typed_letter_keeps_the_inbox_working(training_store, monkeypatch):
    calls = {"n": 0}
    original = InboxList.set_query

    def flaky(self, query, keep_cursor=False):
        calls["n"] += 1
        if query.search == "x":
            raise ValueError("bad search")
        return original(self, query, keep_cursor)

    monkeypatch.setattr(InboxList, "set_query", flaky)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "x")  # the key handler of the search field -> set_query raises
        await pilot.pause()
        assert isinstance(app.screen, MessageDialog)
        assert "Traceback" not in screen_text(app)
        await pilot.press("enter", "backspace", "down", "j")
        await settle(app, pilot)
        assert isinstance(app.screen, InboxScreen)
        assert inbox_of(app).cursor == 1
    assert app.error_count == 1 and not app.return_code


async def test_a_store_too_large_to_index_is_served_from_sqlite_with_the_same_results(training_store, monkeypatch):
    from sygesikring_tui.store import inbox_index

    monkeypatch.setattr(inbox_index, "MAX_ROWS", 10)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        assert lst.index is None and lst.ids is not None  # the id list came from inbox.ids
        open_count = sql(training_store, "SELECT count(*) FROM tasks WHERE status='open'")[0][0]
        assert lst.total == len(lst.ids) == open_count
        await pilot.press("G")
        assert lst.selected["rid"] == lst.ids[-1]
        surname = lst.selected["name"].split()[-1]
        await pilot.press("slash", *surname)
        await settle(app, pilot)
        assert lst.total == sql(training_store, "SELECT count(*) FROM tasks WHERE status='open' AND "
                                "instr(search, ?) > 0", surname.lower())[0][0]
        assert all(surname.lower() in r["name"].lower() for r in visible_rows(lst))


async def test_back_in_the_inbox_after_a_commit_the_closed_task_is_gone(training_store):
    from sygesikring_tui.domain.operations import PlannedOp

    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        before = lst.total
        row = lst.selected
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, PersonScreen)
        # What a wizard does at its end: one commit that closes the task.
        case = app.store.create_case("2.7.3", row["cpr"], row["id"])
        app.store.commit_case(case.id, [PlannedOp(row["cpr"], "task_close",
                                                  {"task_id": row["id"], "reason": "test"})], TODAY)
        await pilot.press("escape")
        await settle(app, pilot)
        assert lst.total == before - 1
        assert row["id"] not in {r["id"] for r in visible_rows(lst)}
        assert f"{before - 1} opgaver" in screen_text(app)
