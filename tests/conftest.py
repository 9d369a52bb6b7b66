"""Shared fixtures: a small deterministic training store built once per test session.

``training_store`` gives each test its own copy (a path; open it with store.open_store).
``TODAY`` is the reference date the template was built for: pass it as ``today``.
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
