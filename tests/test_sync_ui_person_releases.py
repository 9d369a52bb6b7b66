"""The person screen passes the live releases to the catalogue's suggestion, so a
workaround retired by a release in production is not listed as suggested there."""

from __future__ import annotations

import random
from datetime import date

import pytest

from screens.app import make_app
from screens.person import PersonScreen
from sygesikring_tui import i18n, releases
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.store import open_store
from tests.server.srvkit import make_person

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SYGESIKRING_HOME", str(tmp_path / "home"))
    i18n.set_language("da")


@pytest.fixture
def desk(tmp_path):
    """A desk store with one person in group 1 and an open 038 task (suggested: 2.4.1 callup)."""
    path = tmp_path / "desk.db"
    person = make_person(random.Random(4), n_tasks=1)
    with open_store(path, training=False) as s, s.transaction():
        s.save_person(person)
    return path


async def suggested_on_person_screen(path) -> list[tuple[str | None, str]]:
    app = make_app(path, today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PersonScreen)
        return [(w.workaround_id, w.wizard_key) for w in screen.wizards if w.suggested]


async def test_the_suggested_workaround_is_listed_while_its_release_is_not_live(desk):
    assert ("2.4.1", "callup") in await suggested_on_person_screen(desk)


async def test_a_workaround_retired_by_a_live_release_is_not_suggested_on_the_person_screen(desk):
    cat = load_catalogue()
    release = cat.workarounds["2.4.1"].release
    assert release
    releases.set_live(release, True, cat)
    assert release in releases.live_releases()
    suggested = await suggested_on_person_screen(desk)
    assert all(wid not in cat.retired(releases.live_releases()) for wid, _ in suggested)
    assert ("2.4.1", "callup") not in suggested
