"""The caseworker's keymap file: every binding has an id, the file remaps keys through
Textual's keymap (the footers show the new keys), and a bad file is named in a message, never
a traceback; the default keys stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.keys import all_bindings, binding_ids
from screens.widgets import KeyBar
from sygesikring_tui.keymap import keymap_path, load_keymap, parse_keymap

KNOWN = {"wizard.next", "inbox.search"}


def test_every_binding_of_every_screen_has_its_own_id() -> None:
    owners: dict[str, set[tuple[str, str]]] = {}
    found = list(all_bindings())
    assert len(found) > 40  # the walk really sees the screens
    for cls, b in found:
        assert b.id, f"{cls.__name__}: {b.key} -> {b.action} has no id"
        owners.setdefault(b.id, set()).add((cls.__name__, b.action))
    shared = {i: o for i, o in owners.items() if len(o) > 1}
    assert not shared, shared  # one id, one meaning: a remap never moves two things


def test_a_good_file_gives_its_keys() -> None:
    keymap, problems = parse_keymap('"wizard.next" = "f2"\n"inbox.search" = "ctrl+f, slash"\n', KNOWN)
    assert keymap == {"wizard.next": "f2", "inbox.search": "ctrl+f,slash"} and problems == []


@pytest.mark.parametrize(("text", "problem"), [
    ('"wizard.nxt" = "f2"\n', "keymap.problem.unknown_id"),
    ('"wizard.next" = 2\n', "keymap.problem.bad_keys"),
    ('"wizard.next" = "ctrl f"\n', "keymap.problem.bad_keys"),
    ('"wizard.next" = ""\n', "keymap.problem.bad_keys"),
    ('"wizard.next" = "f2\n', "keymap.problem.syntax"),
    ('[wizard]\nnext = "f2"\n', "keymap.problem.unknown_id"),
])
def test_a_bad_entry_is_a_problem_and_the_good_ones_stay(text: str, problem: str) -> None:
    keymap, problems = parse_keymap('"inbox.search" = "ctrl+f"\n' + text, KNOWN)
    assert [p.key for p in problems] == [problem]
    if problem != "keymap.problem.syntax":
        assert keymap == {"inbox.search": "ctrl+f"}


def test_no_file_is_no_keymap_and_no_problem(tmp_path: Path) -> None:
    assert load_keymap(KNOWN, tmp_path / "keymap.toml") == ({}, [])


def test_a_file_not_in_utf8_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_bytes('"wizard.next" = "æ"'.encode("latin-1"))
    assert [p.key for p in load_keymap(KNOWN, path)[1]] == ["keymap.problem.not_utf8"]


def test_the_ids_the_file_may_name_are_the_screens_binding_ids() -> None:
    ids = binding_ids()
    assert {"wizard.next", "wizard.commit", "inbox.search", "inbox.wizard", "person.back", "help", "quit"} <= ids


def _write_keymap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> None:
    monkeypatch.setenv("SYGESIKRING_HOME", str(tmp_path / "home"))
    keymap_path().parent.mkdir(parents=True)
    keymap_path().write_text(text, encoding="utf-8")


async def test_a_remapped_key_acts_and_the_footer_shows_it(training_store: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _write_keymap(monkeypatch, tmp_path, '"inbox.search" = "ctrl+f"\n')
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "search"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("slash")  # the old key no longer searches
        await pilot.pause()
        assert app.focused is None or app.focused.id != "search"
        app.screen.query_one("#inbox-list").focus()
        await pilot.pause()
        assert "^f" in str(app.screen.query_one(KeyBar).render())


async def test_a_bad_keymap_file_is_named_in_a_message_and_the_app_runs(training_store: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _write_keymap(monkeypatch, tmp_path, '"inbox.search" = \n')
    app = make_app(training_store, today=TODAY, lang="da")
    messages: list[str] = []
    app.notify = lambda message, **_kw: messages.append(message)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert any("keymap.toml" in m and "linje 1" in m for m in messages), messages
        await pilot.press("slash")  # the default keys work
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "search"


async def test_the_wizard_footer_is_a_key_bar_with_enter_and_the_remapped_next(
        training_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.wizards.test_wizard_fits_screen import open_wizard

    _write_keymap(monkeypatch, tmp_path, '"wizard.next" = "f2"\n')
    app = make_app(training_store, today=TODAY, lang="da")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_wizard(pilot, training_store, "2.1.1")
        footer = str(screen.query_one(KeyBar).render())
        assert "↵/F2" in footer and "Næste" in footer and "Esc" in footer and "F1" in footer
        assert "Tilbage" not in footer  # nothing to go back to on the first step
        await pilot.press("f2")
        await pilot.pause()
        assert screen.step_no > 0
        assert "Tilbage" in str(screen.query_one(KeyBar).render())
