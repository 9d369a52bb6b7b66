"""The team on the desk, by keys: take a task (t), release it (T), give it on (a, a team lead),
the Mine / Ikke taget filter (m), a claim someone else holds refused at once, a wizard on
another's task asks first, and the sign-in screen when connected and nobody is signed in."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from screens.app import make_app
from screens.confirm import ChoiceDialog
from screens.team import SignInScreen
from screens.wizards.engine import WizardScreen
from sygesikring_tui.i18n import t
from sygesikring_tui.store import open_store, session
from tests.conftest import TODAY
from tests.server.srvkit import make_person

pytestmark = pytest.mark.usefixtures("danish", "index_at_once")


SIZE = (80, 24)


async def settled(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _lone_free_task(path: Path) -> tuple[str, str]:
    """(cpr, task id) of an open, unclaimed task whose person has no other task."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT cpr, id FROM tasks WHERE status = 'open' AND assignee IS NULL AND cpr IN "
                            "(SELECT cpr FROM tasks GROUP BY cpr HAVING count(*) = 1) ORDER BY rid LIMIT 1").fetchone()
    finally:
        conn.close()


async def _find(pilot, cpr: str) -> None:
    await pilot.press("slash", *cpr, "enter")
    await settled(pilot)
    assert pilot.app.screen.inbox_list.selected["cpr"] == cpr


def _holder(path: Path, task_id: str) -> str | None:
    with open_store(path, create=False) as s:
        return s.task(task_id).assignee


async def test_take_release_and_give_on_a_task_by_keys(training_store):
    cpr, task_id = _lone_free_task(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await _find(pilot, cpr)
        await pilot.press("t")  # Tag opgave: the trainee (a team lead in training) takes it
        await settled(pilot)
        assert app.store.task(task_id).assignee == session.TRAINEE_INITIALS
        assert app.store.task(task_id).claimed_at
        await pilot.press("T")  # released
        await settled(pilot)
        assert app.store.task(task_id).assignee is None
        await pilot.press("v")  # given on to a colleague
        await pilot.pause()
        await pilot.press("A", "B", "enter")
        await settled(pilot)
        assert app.store.task(task_id).assignee == "AB"
        assert app.screen.inbox_list.selected["assignee"] == "AB"  # the list shows the claimant
        outbox = [(r["kind"], r["payload"].get("claimant"), r["payload"]["author"]) for r in app.store.outbox()]
    assert outbox == [("task_claim", "KUR", "KUR"), ("task_release", None, "KUR"),
                      ("task_claim", "AB", "KUR")]


async def test_the_mine_and_not_taken_filter_follows_the_m_key(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        lst = app.screen.inbox_list
        every = lst.total
        await pilot.press("m")
        await settled(pilot)
        assert lst.query_.assignee == "KUR" and 0 < lst.total < every
        await pilot.press("m")
        await settled(pilot)
        assert lst.query_.assignee == "none" and 0 < lst.total < every
        await pilot.press("m")
        await settled(pilot)
        assert lst.query_.assignee is None and lst.total == every


@pytest.fixture
def team_desk(tmp_path: Path) -> Path:
    """A desk store (not training) where CD (no team lead) is signed in; one person with two
    tasks, the first taken by AB."""
    path = tmp_path / "desk.db"
    p = make_person(random.Random(11), n_tasks=2)
    p = replace(p, tasks=(replace(p.tasks[0], assignee="AB", claimed_at="2026-11-20T09:15:00+01:00",
                                  due=TODAY, workaround_id="2.1"),
                          replace(p.tasks[1], due=TODAY, received=TODAY)))
    with open_store(path) as s:
        with s.transaction():
            s.save_person(p)
        session.remember(s, session.SignedIn("CD", "Carl Dam", False, "x" * 43, "2999-01-01T00:00:00+00:00"))
    return path


async def test_a_task_someone_else_holds_is_refused_at_once_and_a_wizard_on_it_asks_first(team_desk):
    app = make_app(team_desk, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        row = app.screen.inbox_list.selected
        assert row["assignee"] == "AB"
        notes: list[str] = []
        app.notify = lambda text, **kw: notes.append(str(text))  # type: ignore[method-assign]
        await pilot.press("t")
        await settled(pilot)
        assert notes[-1] == t("rule.task_claimed", by="AB", since="2026-11-20")  # whose, since when
        await pilot.press("v")  # not a team lead, not the holder
        await pilot.pause()
        assert notes[-1] == t("rule.task_assign_lead_only")
        assert app.store.task(row["id"]).assignee == "AB"
        app.launch(cpr=row["cpr"], task_id=row["id"], wizard_key="doctor_choice", workaround_id="2.1")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        assert "AB" in str(app.screen.query_one("#choice-text").render())
        await pilot.press("enter")  # "no" is chosen at first
        await pilot.pause()
        assert not isinstance(app.screen, (ChoiceDialog, WizardScreen))
        assert app.store.outbox() == []  # nothing was claimed or changed


async def test_starting_a_wizard_on_an_unclaimed_task_claims_it(team_desk):
    app = make_app(team_desk, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        free = next(tk for tk in app.store.load_person(app.screen.inbox_list.selected["cpr"]).tasks
                    if tk.assignee is None)
        app.launch(cpr=free.cpr, task_id=free.id, wizard_key="doctor_choice", workaround_id="2.1")
        await pilot.pause()
        assert app.store.task(free.id).assignee == "CD"


def _signing_in_desk(tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    with open_store(path) as s:
        with s.transaction():
            s.save_person(make_person(random.Random(12)))
        session.set_team_required(s, True)  # the server said: this municipality has caseworkers
    return path


async def test_connected_with_nobody_signed_in_asks_for_sign_in_and_escape_leaves_it_read_only(tmp_path):
    path = _signing_in_desk(tmp_path)
    app = make_app(path, today=TODAY, server="http://127.0.0.1:9")  # no token: no sync worker
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert isinstance(app.screen, SignInScreen)
        await pilot.press("escape")
        await settled(pilot)
        assert app.read_only
        notes: list[str] = []
        app.notify = lambda text, **kw: notes.append(str(text))  # type: ignore[method-assign]
        await pilot.press("t")
        await pilot.pause()
        assert notes[-1] == t("signin.needed") and app.store.outbox() == []
        cpr = app.store.conn.execute("SELECT cpr FROM persons").fetchone()[0]
        app.launch(cpr=cpr, task_id=None, wizard_key="doctor_choice", workaround_id="2.1")  # no task either
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen) and notes[-1] == t("signin.needed")
        await pilot.press("ctrl+g")  # signs in
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)


def test_sign_in_screen_at_80x24(snap_compare, tmp_path):
    path = _signing_in_desk(tmp_path)
    assert snap_compare(make_app(path, today=TODAY, server="http://127.0.0.1:9"), terminal_size=SIZE,
                        run_before=settled)


def test_inbox_with_claimants_and_the_mine_filter_at_80x24(snap_compare, training_store):
    assert snap_compare(make_app(training_store, today=TODAY), press=["m"], terminal_size=SIZE, run_before=settled)


async def test_idle_time_signs_the_caseworker_out_and_asks_again(tmp_path):
    path = _signing_in_desk(tmp_path)
    with open_store(path, create=False) as s:
        session.remember(s, session.SignedIn("AB", "Anne Bech", False, "x" * 43, "2999-01-01T00:00:00+00:00"))
    app = make_app(path, today=TODAY, server="http://127.0.0.1:9")
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        assert not isinstance(app.screen, SignInScreen) and app.author == "AB"
        assert "Logget ind: AB" in str(app.screen.query_one("#sync-status").render())
        app._last_input -= 10_000  # as if nobody pressed a key for hours
        app._idle_check()
        await settled(pilot)
        assert app.caseworker is None and isinstance(app.screen, SignInScreen)
        with open_store(path, create=False, exclusive=False) as s2:
            assert session.current(s2) is None  # the session token is gone from the desk


async def test_signing_in_by_keys_against_a_server_then_a_claim_reaches_it_in_that_name(tmp_path):
    from datetime import date as _date

    from sygesikring_tui import sync
    from sygesikring_tui.server.app import create_app
    from sygesikring_tui.server.storage import Storage
    from tests.server.srvkit import UvicornThread, load_records

    storage = Storage(str(tmp_path / "server.db"), today=lambda: _date(2026, 3, 2))
    p = make_person(random.Random(13))
    storage.load(load_records([p]))
    _cw, secret = storage.add_caseworker(751, "AB", "Anne Bech")
    token = storage.add_desk("desk", 751)[1]
    srv = UvicornThread(create_app(storage)).start()
    try:
        path = tmp_path / "desk.db"
        with open_store(path) as s, sync.SyncClient(srv.url, token) as c:
            sync.sync_once(s, c)
        app = make_app(path, today=TODAY, server=srv.url, token=token, sync_interval=0.2)
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(100):  # the server is asked whether the municipality has caseworkers
                await pilot.pause(0.05)
                if isinstance(app.screen, SignInScreen):
                    break
            assert isinstance(app.screen, SignInScreen)
            await pilot.press("a", "b", "enter", *secret, "enter")
            for _ in range(100):
                await pilot.pause(0.05)
                if app.caseworker is not None:
                    break
            assert app.caseworker.initials == "AB" and not isinstance(app.screen, SignInScreen)
            assert secret not in path.read_bytes().decode("latin-1")  # the desk keeps no secret
            await pilot.press("t")
            for _ in range(100):
                await pilot.pause(0.05)
                if storage.all_persons()[p.cpr].tasks[0].assignee == "AB":
                    break
            assert storage.all_persons()[p.cpr].tasks[0].assignee == "AB"
    finally:
        srv.stop()
        storage.close()
