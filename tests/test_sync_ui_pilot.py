"""The desk side of sync, driven through the UI against a real server (uvicorn on 127.0.0.1,
SQLite): the status line, a wizard's operation pushed after commit, a conflict made by a
second desk settled from the inbox (dropped with a note, or redone), offline work, and a
training store that never starts the worker."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from screens.app import make_app
from screens.dialogs import NoteDialog
from screens import sync_view
from screens.sync_view import ConflictScreen, SyncStatusLine, status_text
from screens.wizards.engine import WizardScreen
from sygesikring_tui import sync
from sygesikring_tui.domain.model import PersonState, TaskStatus
from sygesikring_tui.server.app import create_app
from sygesikring_tui.server.storage import Storage
from sygesikring_tui.store import open_store
from tests.server.srvkit import UvicornThread, _free_port, load_records, make_person, switch_group

pytestmark = pytest.mark.usefixtures("danish")


TODAY = date(2026, 3, 2)
SIZE = (80, 24)


@dataclass
class Server:
    storage: Storage
    url: str
    thread: UvicornThread

    def desk(self, name: str = "desk") -> str:
        return self.storage.add_desk(name, 751)[1]


@pytest.fixture
def person() -> PersonState:
    """One insured person of Aarhus in group 1 with one open 038 (call-up) task."""
    return make_person(random.Random(4), n_tasks=1)


@pytest.fixture
def server(tmp_path: Path, person: PersonState) -> Iterator[Server]:
    storage = Storage(str(tmp_path / "server.db"), today=lambda: TODAY)
    storage.load(load_records([person]))
    srv = UvicornThread(create_app(storage)).start()
    try:
        yield Server(storage, srv.url, srv)
    finally:
        srv.stop()
        storage.close()


def new_desk(path: Path, server: Server) -> str:
    """A desk store synced once with the server; its token."""
    token = server.desk(path.stem)
    store = open_store(path, training=False)
    try:
        with sync.SyncClient(server.url, token) as client:
            sync.sync_once(store, client)
    finally:
        store.close()
    return token


def plain(renderable, width: int = 78) -> str:
    import io

    from rich.console import Console

    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def status_line(app) -> str:
    return app.screen.query_one(SyncStatusLine).render().plain


async def wait_for(pilot, cond, what: str, limit: float = 20.0) -> None:
    """Let the app run until ``cond()`` holds (a deadline, not a timing assertion)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"never happened: {what}; status line: {status_line(pilot.app)!r}")
        await pilot.pause(0.05)


async def callup_wizard(pilot, effective: str = "02-03-2026") -> None:
    """From the inbox (one task): w, the suggested 'conscript', the date, commit."""
    await pilot.press("w")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, WizardScreen) and screen.wizard.key == "callup"
    await commit_callup(pilot, screen, effective)


async def commit_callup(pilot, screen: WizardScreen, effective: str) -> None:
    await pilot.press("enter")  # the evidence's suggestion: a conscript
    await pilot.pause()
    assert screen.wizard.steps[screen.step_no].id == "conscript"
    await pilot.press("home", "ctrl+k", *effective, "enter")
    await pilot.pause()
    assert screen.on_review
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert not isinstance(pilot.app.screen, WizardScreen)


def record_status(app) -> list[str]:
    """Every status line text the app computed, in order."""
    seen: list[str] = []
    inner = app.refresh_sync_status

    def spy() -> None:
        inner()
        seen.append(status_text(app.sync_status, today=app.today, configured=bool(app.server)))

    app.refresh_sync_status = spy
    return seen


# -- (a) a wizard's operation goes to the server ----------------------------------------------

async def test_a_committed_wizard_is_waiting_then_pushed_and_the_status_line_says_so(tmp_path, server, person):
    path = tmp_path / "desk.db"
    token = new_desk(path, server)
    app = make_app(path, today=TODAY, server=server.url, token=token, sync_interval=600)
    seen = record_status(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.sync_status is not None and app.sync_status.online is True, "online")
        assert app.workers and any(w.group == "sync" for w in app.workers)
        line = status_line(app)
        assert "Online" in line and "0 venter" in line and "konflikter: 0" in line and "afviste: 0" in line
        await callup_wizard(pilot)
        after_commit = len(seen)
        await wait_for(pilot, lambda: app.sync_status.waiting == 0 and "0 venter" in status_line(app), "pushed")
        line = status_line(app)
        assert "Online" in line and "synk. " in line and "aldrig" not in line
        worker = app.sync_worker
    assert worker._stop.is_set()  # stopped on exit
    with open_store(path, create=False) as s:
        made = s.conn.execute("SELECT count(*), count(DISTINCT case_id) FROM outbox WHERE status = 'applied'").fetchone()
    assert made[0] >= 1 and made[1] == 1  # one case: its operations (group switch, task closed)
    # Computed at the commit, before the worker was woken: the case's operations waiting
    # (the 1-second status timer may add lines in between, so look for it up to the commit);
    # then 0 after the push.
    assert any(s.startswith(f"Online · {made[0]} venter") for s in seen[:after_commit])
    assert "0 venter" in seen[-1]
    on_server = server.storage.all_persons()[person.cpr]
    assert on_server.current_group(TODAY).group == 5
    assert on_server.task(person.tasks[0].id).status == TaskStatus.CLOSED


# -- (b) a conflict made by a second desk -----------------------------------------------------

async def make_conflict(tmp_path: Path, server: Server, person: PersonState) -> tuple[Path, str]:
    """Desk A commits the call-up wizard while not connected; desk B switches the same
    person's group on the server first. A's push then conflicts."""
    path = tmp_path / "desk_a.db"
    token = new_desk(path, server)
    offline = make_app(path, today=TODAY)  # no server: the work waits in the outbox
    async with offline.run_test(size=SIZE) as pilot:
        await callup_wizard(pilot)
    b = open_store(tmp_path / "desk_b.db", training=False)
    try:
        with sync.SyncClient(server.url, server.desk("b")) as cb:
            sync.sync_once(b, cb)
            switch_group(b, person.cpr, 2, effective="2026-04-01")
            sync.sync_once(b, cb)
    finally:
        b.close()
    assert server.storage.all_persons()[person.cpr].version == 2
    return path, token


async def test_a_conflict_shows_in_the_inbox_with_both_versions_and_is_dropped_with_a_note(
        tmp_path, server, person):
    path, token = await make_conflict(tmp_path, server, person)
    app = make_app(path, today=TODAY, server=server.url, token=token, sync_interval=600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.sync_status is not None and app.sync_status.conflicts > 0, "conflict")
        n = app.sync_status.conflicts
        line = app.screen.query_one("#conflict-line").render()
        assert "konflikt" in str(line) and "Tast c" in str(line)
        assert f"konflikter: {n}" in status_line(app)
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        first = screen.selected
        detail = plain(sync_view.detail(first, TODAY, app.catalogue))
        assert first.status == "conflict" and first.kind == "group_switch"
        # Both versions: the desk's (group 5 by the call-up) and the server's (1, then 2 from April).
        assert "Din version" in detail and "Serverens version" in detail
        assert "5 " in detail and "→ 2 pr. 01-04-2026" in detail
        assert "til gruppe 5 pr." in detail  # the operation in words
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        await pilot.press("enter")  # an empty note is refused
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        assert "Skriv en note" in str(app.screen.query_one("#note-error").render())
        await pilot.press(*"dobbelt sag", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConflictScreen)
        assert first.op_id not in [c.op_id for c in screen.items]
        assert app.sync_status.conflicts == n - 1
        assert f"konflikter: {n - 1}" in status_line(app)
    with open_store(path, create=False) as s:
        from sygesikring_tui.store.sync_state import resolution

        assert resolution(s, first.op_id) == ("drop", "dobbelt sag")
        assert s.conn.execute("SELECT status FROM outbox WHERE op_id = ?", (first.op_id,)).fetchone()[0] == "dropped"
    assert server.storage.all_persons()[person.cpr].current_group(TODAY).group == 1  # nothing applied


async def test_a_conflict_is_redone_with_the_same_wizard_on_the_fresh_data(tmp_path, server, person):
    path, token = await make_conflict(tmp_path, server, person)
    app = make_app(path, today=TODAY, server=server.url, token=token, sync_interval=600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.sync_status is not None and app.sync_status.conflicts > 0, "conflict")
        refused = [c.op_id for c in sync.conflicts(app.store)]
        # The desk shows the server's version now: B's future switch to group 2 is there.
        assert any(g.group == 2 for g in app.store.load_person(person.cpr).groups)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConflictScreen)
        await pilot.press("r")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WizardScreen) and screen.wizard.key == "callup"
        assert (screen.case.cpr, screen.case.task_id) == (person.cpr, person.tasks[0].id)
        await commit_callup(pilot, screen, "02-03-2026")
        await wait_for(pilot, lambda: app.sync_status.conflicts == 0 and app.sync_status.waiting == 0,
                       "redone case pushed")
        assert "konflikter: 0" in status_line(app)
    with open_store(path, create=False) as s:
        from sygesikring_tui.store.sync_state import resolution

        assert [resolution(s, op)[0] for op in refused] == ["redo"] * len(refused)
    on_server = server.storage.all_persons()[person.cpr]
    assert on_server.current_group(TODAY).group == 5
    assert on_server.task(person.tasks[0].id).status == TaskStatus.CLOSED
    assert any(g.group == 2 for g in on_server.groups)  # B's change is kept, not overwritten


# -- (c) offline ------------------------------------------------------------------------------

async def test_offline_the_desk_keeps_working_shows_offline_and_the_waiting_count_and_loses_nothing(
        tmp_path, server, person):
    path = tmp_path / "desk.db"
    token = new_desk(path, server)
    nowhere = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    app = make_app(path, today=TODAY, server=nowhere, token=token, sync_interval=600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.sync_status is not None and app.sync_status.online is False, "offline")
        assert "OFFLINE" in status_line(app) and "serveren svarer ikke" in status_line(app)
        await callup_wizard(pilot)
        n = len(app.store.outbox("pending"))
        assert n >= 1
        await wait_for(pilot, lambda: f"{n} venter" in status_line(app), "the case's operations waiting")
        line = status_line(app)
        assert "OFFLINE (serveren svarer ikke)" in line and "(ældste " in line
        assert len(line) <= 78
        assert "Traceback" not in line
        assert app.store.load_person(person.cpr).current_group(TODAY).group == 5  # the desk has it
    with open_store(path, create=False) as s:
        assert len(s.outbox("pending")) >= 1
        with sync.SyncClient(server.url, token) as client:  # back online: all of it arrives
            report = sync.sync_once(s, client)
        assert report.applied == report.pushed >= 1
        assert sync.status(s).waiting == 0
    assert server.storage.all_persons()[person.cpr].current_group(TODAY).group == 5


# -- (d) training -----------------------------------------------------------------------------

async def test_a_training_store_with_a_server_never_starts_the_worker(training_store, monkeypatch):
    made: list[object] = []

    class Spy:
        def __init__(self, *a, **kw) -> None:
            made.append((a, kw))

    monkeypatch.setattr("sygesikring_tui.sync.SyncWorker", Spy)
    monkeypatch.setattr("sygesikring_tui.sync.engine.SyncWorker", Spy)
    app = make_app(training_store, today=date(2026, 11, 25), server="http://127.0.0.1:9", token="x")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.start_sync() is False
        assert made == []
        assert app.sync_worker is None
        assert not [w for w in app.workers if w.group == "sync"]
        assert status_line(app) == "TRÆNING – synkroniserer aldrig"
    with open_store(training_store, create=False) as s:
        assert sync.status(s).online is None  # nothing was even tried


async def test_a_desk_store_with_a_server_does_start_the_worker(tmp_path, monkeypatch):
    """The counterpart of the training test: the same call on a desk store makes a worker."""
    made: list[object] = []

    class Spy:
        def __init__(self, *a, **kw) -> None:
            made.append(a)

        def run(self) -> None:
            pass

        def stop(self) -> None:
            pass

    monkeypatch.setattr("sygesikring_tui.sync.SyncWorker", Spy)
    path = tmp_path / "desk.db"
    open_store(path, training=False).close()
    app = make_app(path, today=TODAY, server="http://127.0.0.1:9", token="x")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert made and made[0][1:] == ("http://127.0.0.1:9", "x")


# -- pulled changes reach the inbox ------------------------------------------------------------

async def test_a_task_created_on_the_server_appears_in_the_inbox_after_a_sync(tmp_path, server, person):
    path = tmp_path / "desk.db"
    token = new_desk(path, server)
    app = make_app(path, today=TODAY, server=server.url, token=token, sync_interval=600)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.sync_status is not None and app.sync_status.online is True, "online")
        assert app.screen.inbox_list.total == 1
        other = make_person(random.Random(99), n_tasks=2)
        server.storage.load(load_records([other], providers=()))
        app.sync_worker.wake()
        await wait_for(pilot, lambda: app.screen.inbox_list.total == 3, "the new person's two tasks listed")
        assert "0 venter" in status_line(app)


def test_run_app_takes_the_server_and_token_the_command_line_passes():
    import inspect

    from screens.app import run_app

    params = inspect.signature(run_app).parameters
    assert {"server", "token"} <= set(params)
    assert params["server"].kind is inspect.Parameter.KEYWORD_ONLY
