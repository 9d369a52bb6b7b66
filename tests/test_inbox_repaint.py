"""A keystroke in the inbox repaints only what changed (the list lines whose task, cursor or
focus changed; the scrollbar only if its thumb moved or resized), and what the terminal then
shows is exactly what a full repaint of the screen shows."""

from __future__ import annotations

from screens.app import make_app
from screens.inbox import InboxList
from tests.conftest import TODAY
from tests.test_ui_pilot import SIZE, danish, inbox_of, index_at_once, settle, sql  # noqa: F401 (autouse fixtures)


def _calls(monkeypatch, cls: type, name: str) -> list[object]:
    """A list that gets each object whose ``cls.name`` method is called (for the test's life)."""
    calls: list[object] = []
    original = getattr(cls, name)

    def counted(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


async def _painted_equals_full_repaint(app, pilot) -> None:
    """The screen as painted so far, then after every line of the list and its scrollbar
    were drawn afresh: the same picture, styles included."""
    await settle(app, pilot)
    painted = app.export_screenshot()
    lst = inbox_of(app)
    lst.invalidate()
    lst.vertical_scrollbar.refresh()
    await settle(app, pilot)
    assert app.export_screenshot() == painted


async def test_after_each_search_filter_and_sort_key_the_screen_is_what_a_full_repaint_shows(training_store):
    name = sql(training_store, "SELECT name FROM tasks WHERE status = 'open' ORDER BY due, rid LIMIT 1")[0][0]
    cpr = sql(training_store, "SELECT cpr FROM tasks WHERE status = 'open' ORDER BY due, rid LIMIT 1")[0][0]
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        # typing narrows to a few rows (the scrollbar's thumb changes), backspace widens again
        for keys in (*name.lower()[:5], *cpr[:6], "backspace", *["backspace"] * 10, *["backspace"] * 6):
            await pilot.press(keys)
            await _painted_equals_full_repaint(app, pilot)
        await pilot.press("escape", "escape")  # empty search, back to the list
        for keys in (("f", "right", "down"), ("down",), ("enter", "j", "j"), ("s",), ("S",), ("x",)):
            await pilot.press(*keys)
            await _painted_equals_full_repaint(app, pilot)


async def test_a_key_that_changes_nothing_repaints_no_line_of_the_list_nor_its_scrollbar(training_store, monkeypatch):
    app = make_app(training_store, today=TODAY)
    drawn = _calls(monkeypatch, InboxList, "render_line")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        await pilot.press("x")  # the filters are already clear: same tasks, same order
        await settle(app, pilot)
        bar_before = lst.vertical_scrollbar.render_lines(lst.vertical_scrollbar.size.region)
        drawn.clear()
        await pilot.press("S")  # newest first: every line changes
        await settle(app, pilot)
        assert len(drawn) >= lst.visible_rows
        drawn.clear()
        await pilot.press("S", "x")  # back to the same view as before
        await settle(app, pilot)
        drawn.clear()
        await pilot.press("x")
        await settle(app, pilot)
        assert drawn == []
        assert lst.vertical_scrollbar.render_lines(lst.vertical_scrollbar.size.region) == bar_before


async def test_a_new_count_repaints_the_scrollbar_only_when_its_thumb_changes(tmp_path, monkeypatch):
    from textual.scrollbar import ScrollBar

    from sygesikring_tui import training

    store = tmp_path / "larger.db"  # over ~400 rows the thumb is one cell at the top
    training.build(store, tasks=800, seed=7, today=TODAY)
    app = make_app(store, today=TODAY)
    painted = _calls(monkeypatch, ScrollBar, "render")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        open_tasks = lst.total
        painted.clear()
        await pilot.press("ctrl+o")  # every status: more rows, the same one-cell thumb at the top
        await settle(app, pilot)
        assert lst.total > open_tasks >= 400
        assert painted == []
        await pilot.press("slash", *sql(store, "SELECT cpr FROM tasks LIMIT 1")[0][0][:6])
        await settle(app, pilot)
        assert lst.total < 5 and painted  # a few rows: no thumb any more, repainted


async def test_a_typed_letter_lays_out_nothing_and_a_long_search_still_scrolls_in_its_field(training_store, monkeypatch):
    from textual.screen import Screen

    from tests.test_ui_pilot import screen_text

    layouts = _calls(monkeypatch, Screen, "_refresh_layout")
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        await settle(app, pilot)
        layouts.clear()
        await pilot.press(*"abcdefghij" * 9, "backspace", *"xyz")
        await settle(app, pilot)
        assert layouts == []
        field = app.screen.query_one("#search")
        assert field.value.endswith("ghixyz") and field.scroll_x > 0
        lines = screen_text(app).splitlines()
        row = next(i for i, x in enumerate(lines) if "ghixyz" in x)
        assert "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij" not in lines[row]  # the start scrolled out
        await pilot.press("home")
        await settle(app, pilot)
        assert field.scroll_x == 0
        line = screen_text(app).splitlines()[row]
        assert "abcdefghijabcdefghij" in line and "xyz" not in line


async def test_moving_the_cursor_in_a_scrolled_list_repaints_the_rows_it_left_and_reached(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("pagedown", "pagedown")
        await settle(app, pilot)
        assert inbox_of(app).scroll_y > 0
        for keys in (("k",), ("k", "k"), ("j",), ("slash",), ("down",)):  # (focus leaves and returns)
            await pilot.press(*keys)
            await _painted_equals_full_repaint(app, pilot)
