"""The desk's fault-cost report screen: reached by R in the inbox and from the palette, by keys
only; its CSV export; its look at 80x24 (snapshot); and the wizard screen timing its drafts.

Regenerate the snapshot after an intended change:
``pytest tests/test_report_screen.py --snapshot-update`` (and look at it).
"""

from __future__ import annotations

import json
import stat
from datetime import date

import pytest

from screens.app import make_app
from screens.report import ReportScreen
from screens.wizards.engine import WizardScreen
from sygesikring_tui import fault_report, i18n
from sygesikring_tui.store import open_store, wizard_time
from tests.conftest import TODAY
from tests.test_ui_pilot import screen_text
from tests.wizard_kit import find_task, open_from_inbox

SIZE = (80, 24)
LIVE_SINCE = date(2026, 11, 10)  # release 1.1 in production since then (2.2.1, 2.3.x, 2.7.1 … retired)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A data dir of the test's own, where release 1.1 went live on LIVE_SINCE."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("SYGESIKRING_HOME", str(folder))
    (folder / "releases.json").write_text(json.dumps({"live": ["1.1"], "since": {"1.1": LIVE_SINCE.isoformat()}}))
    monkeypatch.setattr("screens.inbox.INDEX_DELAY", 0)
    i18n.set_language("da")
    yield folder
    i18n.set_language("da")


async def settled(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _open_report(pilot) -> None:
    await settled(pilot)
    await pilot.press("R")
    await settled(pilot)  # the report is computed in a worker thread


def test_report_screen_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), terminal_size=SIZE, run_before=_open_report)


async def test_r_in_the_inbox_opens_the_report_and_e_saves_the_csv_shown_on_screen(training_store, home):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await _open_report(pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        assert screen.report is not None and screen.report.totals  # the training history shows
        assert sum(r.closed for r in screen.report.totals) > 0
        assert sum(r.wizard_seconds for r in screen.report.totals) > 0
        assert "2.2.1" in screen.retired and screen.retired["2.2.1"] == LIVE_SINCE
        text = screen_text(app)
        assert "Fejlomkostninger" in text and "Afsnit" in text
        assert "10-11-2026" in text  # a retired workaround, marked at its release date
        await pilot.press("e")
        await pilot.pause()
        saved = screen.saved
        assert saved is not None and saved.is_relative_to(home)
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert fault_report.rows_from_csv(saved.read_text(encoding="utf-8")) == screen.report.rows
        assert str(saved) in "".join(line.strip() for line in screen_text(app).splitlines())  # the path, shown
        await pilot.press("p")  # another period: 26 weeks
        await settled(pilot)
        assert screen.weeks == 26 and screen.report.start == date(2026, 6, 1)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)


async def test_the_palette_opens_the_report(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Fejlomkost")
        await pilot.pause(0.6)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)


async def test_the_wizard_screen_records_a_session_each_time_its_draft_is_shown(training_store):
    cpr, task_id = find_task(training_store, "038", lambda st: True)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert isinstance(screen, WizardScreen)
        case_id = screen.case.id
        assert [e for _s, e in wizard_time.sessions(app.store.conn, case_id)] == [None]  # running
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("w")  # the same draft again
        await pilot.pause()
        assert isinstance(app.screen, WizardScreen) and app.screen.case.id == case_id
        await pilot.press("escape")
        await pilot.pause()
    with open_store(training_store, create=False) as s:
        rows = wizard_time.sessions(s.conn, case_id)
    assert len(rows) == 2 and all(end is not None for _start, end in rows)


def test_numbers_are_written_with_the_languages_decimal_and_thousands_marks() -> None:
    from sygesikring_tui.fmt import number_text

    assert [number_text(x, "da") for x in (0.5, 2.0, 2.25, 100_000, 1234.5)] == ["0,5", "2", "2,25", "100.000",
                                                                                "1.234,5"]
    assert [number_text(x, "en") for x in (0.5, 2.0, 100_000, 1234.5)] == ["0.5", "2", "100,000", "1,234.5"]
