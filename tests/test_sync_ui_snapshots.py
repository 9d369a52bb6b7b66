"""Snapshots (80x24) of the conflict view and the drop dialog: a real conflict made by two
desks against a real server (uvicorn, SQLite), frozen clock and a fixed last-sync time, so
the picture is the same on every run.

Regenerate after an intended change: ``pytest tests/test_sync_ui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

import pytest

from screens.app import make_app
from sygesikring_tui import i18n, sync
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store
from sygesikring_tui.store import sync_state
from tests.server.srvkit import UvicornThread, load_records, make_person, switch_group

TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def setup(monkeypatch):
    monkeypatch.setattr("screens.inbox.INDEX_DELAY", 0)
    i18n.set_language("da")
    yield
    i18n.set_language("da")


@pytest.fixture
def conflict_store(tmp_path: Path) -> Path:
    """Desk A's store after its call-up case (group 5, task closed) met desk B's group
    switch on the server: two refused operations, the first a conflict, the second blocked."""
    person = make_person(random.Random(4), n_tasks=1)
    storage = Storage(str(tmp_path / "server.db"), today=lambda: TODAY)
    storage.load(load_records([person]))
    srv = UvicornThread(create_app(storage)).start()
    path = tmp_path / "desk_a.db"
    try:
        a = open_store(path, training=False)
        b = open_store(tmp_path / "desk_b.db", training=False)
        ca = sync.SyncClient(srv.url, storage.add_desk("a", 751)[1])
        cb = sync.SyncClient(srv.url, storage.add_desk("b", 751)[1])
        sync.sync_once(a, ca)
        sync.sync_once(b, cb)
        task = person.tasks[0].id
        case = a.create_case("2.4.1", person.cpr, task, {"_wizard": "callup"})
        a.commit_case(case.id, [
            PlannedOp(person.cpr, "group_switch", {"group": 5, "effective": "2026-03-02", "reason": "værnepligt"}),
            PlannedOp(person.cpr, "task_close", {"task_id": task, "reason": "Værnepligtig: gruppe 5"}),
        ], TODAY, author="sagsbehandler")
        switch_group(b, person.cpr, 2, effective="2026-04-01")
        sync.sync_once(b, cb)
        sync.sync_once(a, ca)
        assert [c.status for c in sync.conflicts(a)] == ["conflict", "conflict"]
        with a.transaction():  # a fixed last sync time for the picture
            sync_state.put(a, "last_sync", datetime(2026, 3, 2, 9, 15).astimezone().isoformat())
        for s in (a, b):
            s.close()
        ca.close()
        cb.close()
    finally:
        srv.stop()
        storage.close()
    return path


async def settled(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_inbox_with_the_conflict_line_at_80x24(snap_compare, conflict_store):
    assert snap_compare(make_app(conflict_store, today=TODAY), terminal_size=(80, 24), run_before=settled)


def test_conflict_view_with_both_versions_at_80x24(snap_compare, conflict_store):
    assert snap_compare(make_app(conflict_store, today=TODAY), press=["c"], terminal_size=(80, 24),
                        run_before=settled)


def test_drop_dialog_asks_for_a_note_at_80x24(snap_compare, conflict_store):
    assert snap_compare(make_app(conflict_store, today=TODAY), press=["c", "d"], terminal_size=(80, 24),
                        run_before=settled)
