"""The wizard tests' case store: empty, with the providers the scenarios choose from (a test
module may name its own as ``STORE_PROVIDERS``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sygesikring_tui.store import Store, open_store
from tests.factories import CLOSED, FAR, OPEN


@pytest.fixture
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    s = open_store(tmp_path / "case.db")
    with s.transaction():
        s.upsert_providers(getattr(request.module, "STORE_PROVIDERS", (OPEN, CLOSED, FAR)))
    yield s
    s.close()
