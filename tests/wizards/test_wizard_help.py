"""F1 in every wizard gives the guide's rule in Danish with its section, Jira ids and planned
release — checked over every key in WIZARDS, so wizards registered later are covered too —
and ``sygesikring-tui workarounds`` lists no section of the guide without a wizard."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TODAY

from screens.app import make_app
from screens.help import HelpScreen
from screens.wizards.engine import help_entries, wizard_help_text
from sygesikring_tui import cli, i18n
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.i18n import t
from tests.wizard_kit import SIZE, find_task, open_from_inbox

# Every workaround section in the guide (seeds/workaround-guide-da.txt, its table of contents).
GUIDE_SECTIONS = ("2.1.1", "2.2.1", "2.3.1", "2.3.2", "2.4.1", "2.5.1", "2.6.1", "2.6.2", "2.6.5", "2.6.7",
                  "2.6.8", "2.7.1", "2.7.3", "2.7.5", "2.7.6", "2.7.7", "2.7.8", "3.1.3", "3.1.7")


@pytest.fixture(autouse=True)
def danish_and_nothing_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SYGESIKRING_HOME", str(tmp_path / "home"))
    before = i18n.language()
    i18n.set_language("da")
    yield
    i18n.set_language(before)


@pytest.mark.parametrize("key", sorted(WIZARDS))
def test_every_wizard_help_gives_the_danish_rule_section_jira_and_release(key: str) -> None:
    cat = load_catalogue()
    wizard = WIZARDS[key]
    entries = help_entries(wizard, cat)
    assert entries, f"wizard {key} names no guide section or attention point in the catalogue"
    text = wizard_help_text(wizard, cat)
    for section, title, rule, jira, release, _steps in entries:
        assert t("wizard.help.section", section=section, title=title) in text
        assert rule and f"{t('wizard.help.rule')}: {rule}" in text
        assert t("wizard.help.meta", jira=", ".join(jira) or "ingen", release=release or "ingen") in text
    danish = {w.id: w.summary("da") for w in cat.workarounds.values()}
    danish.update({a.id: a.text("da") for a in cat.attention_points.values()})
    for wid in wizard.workaround_ids:
        assert danish[wid] in text  # the guide's rule, in Danish


def test_help_names_a_live_release_as_fixed() -> None:
    cat = load_catalogue()
    text = wizard_help_text(WIZARDS["renumbering"], cat, frozenset({"1.1"}))
    assert "! " + t("wizard.help.retired", release="1.1") in text
    assert t("wizard.help.retired", release="1.1") not in wizard_help_text(WIZARDS["renumbering"], cat)


async def test_f1_in_a_wizard_shows_its_help_from_the_catalogue(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "040", lambda st: True)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await open_from_inbox(pilot, cpr, task_id)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-text").render())
        assert "Afsnit AP4" in shown
        assert "notatlinje 3 og 4 i CPR" in shown


def test_workarounds_command_lists_no_guide_section_without_a_wizard(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["workarounds"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    state = {r[0]: r[-1] for r in rows}
    cat = load_catalogue()
    also = {s: w.id for w in cat.workarounds.values() for s in w.also_sections}
    listed = {s: state.get(also.get(s, s)) for s in GUIDE_SECTIONS}
    assert None not in listed.values(), f"guide sections missing from the catalogue: {listed}"
    missing = sorted(s for s, v in listed.items() if v != "ja")
    assert missing == [], f"guide sections without a wizard: {missing}"
