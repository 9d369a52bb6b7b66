"""The desk session (Textual-free): suggest, open and commit a case; `w` in the inbox reads the
person once on its way to the wizard (it used to be read three times)."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY

from screens.app import make_app
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.desk import DeskSession
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.store import open_store
from tests.wizard_kit import SIZE, find_task, open_from_inbox, walk


def _session(path: Path) -> DeskSession:
    return DeskSession(open_store(path, create=False), load_catalogue(), lambda: TODAY,
                       live_releases=frozenset, caseworker="test")


def test_suggest_open_again_and_commit_a_case(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "014", lambda st: True)
    session = _session(training_store)
    try:
        sug = session.suggest(cpr, task_id)
        assert sug is not None and sug.wizard_key == "immigration" and sug.task.id == task_id
        wizard = WIZARDS[sug.wizard_key]
        first = session.open_case(wizard, cpr, task_id, sug.workaround_id, sug.state)
        assert first is not None and not first.resumed and first.context.state is sug.state
        again = session.open_case(wizard, cpr, task_id, sug.workaround_id)
        assert again is not None and again.resumed and again.case.id == first.case.id  # the open draft
        draft = walk(wizard, again.context, {})
        ops = session.commit(again.case.id, wizard.plan(draft, again.context.states, again.context))
        assert ops and session.store.load_person(cpr).task(task_id).status.value == "closed"
        assert session.suggest(cpr, "no-such-task") is None and session.suggest("0000000000", task_id) is None
    finally:
        session.store.close()


async def test_w_in_the_inbox_reads_the_person_once(training_store: Path) -> None:
    cpr, task_id = find_task(training_store, "014", lambda st: True)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        store = app.store
        from sygesikring_tui.store import claims

        claims.claim(store, cpr, task_id, app.author, TODAY)  # (else w first takes the task: its own reads)
        reads: list[str] = []
        load = store.load_person

        def counting(c: str, *a, **kw):
            reads.append(c)
            return load(c, *a, **kw)

        store.load_person = counting  # type: ignore[method-assign]
        screen = await open_from_inbox(pilot, cpr, task_id)
        assert screen.ctx is not None and screen.ctx.cpr == cpr
        assert reads.count(cpr) == 1, reads
