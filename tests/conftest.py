"""Shared fixtures: a small deterministic training store built once per test session.

``training_store`` gives each test its own copy (a path; open it with store.open_store).
``TODAY`` is the reference date the template was built for: pass it as ``today``.
``danish``, ``index_at_once`` and ``own_home`` are for UI tests; a module asks for them with
``pytestmark = pytest.mark.usefixtures("danish", "index_at_once")``.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

TODAY = date(2026, 11, 25)
TEMPLATE_TASKS = 300
TEMPLATE_SEED = 7


@pytest.fixture(scope="session")
def training_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sygesikring_tui import training

    path = tmp_path_factory.mktemp("training") / "template.db"
    training.build(path, tasks=TEMPLATE_TASKS, seed=TEMPLATE_SEED, today=TODAY)
    return path


@pytest.fixture
def training_store(training_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "training.db"
    shutil.copyfile(training_template, path)
    path.chmod(0o600)
    return path


@pytest.fixture
def danish():
    """The UI in Danish, and Danish again afterwards (a test may switch to English)."""
    from sygesikring_tui import i18n

    i18n.set_language("da")
    yield
    i18n.set_language("da")


@pytest.fixture
def index_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inbox reads its in-memory index right after the first paint, not after a delay, so
    ``workers.wait_for_complete`` sees it."""
    monkeypatch.setattr("screens.inbox.INDEX_DELAY", 0)


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``SYGESIKRING_HOME`` of the test's own (releases, keymap, logs)."""
    home = tmp_path / "home"
    monkeypatch.setenv("SYGESIKRING_HOME", str(home))
    return home
