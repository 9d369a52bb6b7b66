"""The inbox's first page needs no COUNT over the tasks (over 1M rows that alone cost 0.1 s):
the count follows from the index or the id list read in the background."""

from __future__ import annotations

from screens.app import make_app
from sygesikring_tui import i18n
from tests.conftest import TODAY
from tests.test_ui_pilot import SIZE, inbox_of, settle, sql


async def test_first_page_is_painted_without_counting_and_the_count_follows(training_store, monkeypatch):
    monkeypatch.setattr("screens.inbox.INDEX_DELAY", 0.5)  # the background read starts later
    i18n.set_language("da")
    statements: list[str] = []
    app = make_app(training_store, today=TODAY)
    app.store.conn.set_trace_callback(statements.append)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lst = inbox_of(app)
        assert lst.row_at(0) is not None and lst.total_known is False
        assert not [s for s in statements if "count(" in s.lower() and "from tasks" in s.lower()], statements
        assert "… opgaver" in str(app.screen.query_one("#count").render())
        await pilot.pause(0.6)
        await settle(app, pilot)
        open_count = sql(training_store, "SELECT count(*) FROM tasks WHERE status = 'open'")[0][0]
        assert lst.total_known and lst.total == open_count
        assert f"{open_count} opgaver" in str(app.screen.query_one("#count").render())


async def test_a_store_too_large_to_index_gets_its_count_from_the_id_list(training_store, monkeypatch):
    monkeypatch.setattr("screens.inbox.INDEX_DELAY", 0)
    monkeypatch.setattr("sygesikring_tui.store.inbox_index.MAX_ROWS", 10)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        lst = inbox_of(app)
        assert lst.index is None and lst.total_known
        assert lst.total == sql(training_store, "SELECT count(*) FROM tasks WHERE status = 'open'")[0][0]
