"""Marking a Sygesikring release as in production asks first and says what stops being
suggested (which workarounds, how many open tasks); cancelling changes nothing; undo stays.
In the palette by real key presses, and on the command line."""

from __future__ import annotations

import json

from screens.app import make_app
from screens.confirm import ChoiceDialog
from sygesikring_tui import cli, releases
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.store import open_store
from tests.conftest import TODAY
from tests.desk_kit import DESK_FIXTURES, SIZE, screen_text, settle

pytestmark = DESK_FIXTURES


def suggested_11(path) -> int:
    """Open tasks whose suggestion is a workaround of release 1.1."""
    ids = {w.id for w in load_catalogue().workarounds.values() if w.release == "1.1"}
    with open_store(path) as s:
        return sum(1 for (w,) in s.conn.execute("SELECT workaround_id FROM tasks WHERE status = 'open'") if w in ids)


def test_impact_counts_the_tasks_that_lose_their_suggestion_without_writing(training_store):
    before = suggested_11(training_store)
    with open_store(training_store) as s:
        found = releases.impact(s, load_catalogue(), "1.1", TODAY, live=frozenset())
    assert found.sections == ("2.2.1", "2.3.1", "2.3.2", "2.6.7", "2.7.1", "2.7.5")
    assert found.tasks == before > 0
    assert suggested_11(training_store) == before  # nothing written


async def palette_release(pilot) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*"release 1.1")
    await pilot.pause(0.4)
    await pilot.press("enter")
    await settle(pilot)


async def test_the_palette_asks_before_a_release_goes_live_and_cancel_changes_nothing(training_store, tmp_path):
    n = suggested_11(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_release(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        text = " ".join(screen_text(app).split())
        assert "Release 1.1 i produktion?" in text
        assert "2.2.1, 2.3.1, 2.3.2" in text and f"{n} åbne opgaver mister deres forslag" in text
        await pilot.press("escape")
        await settle(pilot)
        assert releases.live_releases() == frozenset()
        await palette_release(pilot)
        await pilot.press("enter")  # the chosen answer is "Nej, fortryd"
        await settle(pilot)
        assert releases.live_releases() == frozenset()
        assert suggested_11(training_store) == n
    assert app.error_count == 0


async def test_the_palette_marks_the_release_live_when_confirmed_and_undo_needs_no_confirmation(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_release(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert releases.live_releases() == frozenset({"1.1"})
        assert suggested_11(training_store) == 0
        await palette_release(pilot)  # now the palette offers the undo
        assert not isinstance(app.screen, ChoiceDialog)
        assert releases.live_releases() == frozenset()
        assert suggested_11(training_store) > 0
    assert app.error_count == 0


def test_the_cli_refuses_without_a_terminal_or_yes_and_changes_nothing(tmp_path, capsys):
    assert cli.main(["release", "1.1", "--in-production"]) == 1
    out = capsys.readouterr()
    assert "2.2.1" in out.out and "--yes" in out.err
    assert releases.live_releases() == frozenset()


def test_the_cli_asks_in_a_terminal_and_a_no_changes_nothing(tmp_path, monkeypatch, capsys, training_store):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "j"])
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt="": prompts.append(prompt) or next(answers))
    args = ["--store", str(training_store), "release", "1.1", "--in-production"]
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "åbne opgaver mister deres forslag" in out and str(training_store) in out
    assert releases.live_releases() == frozenset()
    assert cli.main(args) == 0
    assert prompts == ["Fortsæt? [j/N] ", "Fortsæt? [j/N] "]
    assert json.loads((tmp_path / "home" / "releases.json").read_text())["live"] == ["1.1"]
    assert cli.main(["release", "1.1", "--undo"]) == 0  # undo does not ask
    assert releases.live_releases() == frozenset()
