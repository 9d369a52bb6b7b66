"""Drafts are visible and never stuck: the inbox and the person's Wizards tab say "Kladde";
"Kassér kladde" asks first; a draft that can no longer pass (2.3.2 after 2.3.1 committed for
the same person) says why and offers to discard it or start again."""

from __future__ import annotations

from screens.app import make_app
from screens.confirm import ChoiceDialog
from screens.person import PersonScreen
from screens.wizards.engine import WizardScreen
from sygesikring_tui import drafts
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.store import open_store
from tests.conftest import TODAY
from tests.desk_kit import DESK_FIXTURES, SIZE, cursor_to, screen_text, settle
from tests.wizard_kit import FEE, ctx_for, walk

pytestmark = DESK_FIXTURES


HOST_MOVE = WIZARDS["host_move"]
COHABITANT = WIZARDS["cohabitant_doctor"]


def host_move_task(store) -> tuple[str, str]:
    """(task id, cpr) of the first open task suggested 2.3.2 whose wizard walks to its review."""
    cat = load_catalogue()
    for tid, cpr in store.conn.execute("SELECT id, cpr FROM tasks WHERE status = 'open' ORDER BY due, rid"):
        st = store.load_person(cpr)
        if cat.suggest(st.task(tid).event_code, st, TODAY, store.provider).wizard != "host_move":
            continue
        try:
            walk(HOST_MOVE, ctx_for(store, HOST_MOVE, cpr, tid), {})
            walk(COHABITANT, ctx_for(store, COHABITANT, cpr, None), {})
        except AssertionError:
            continue
        return tid, cpr
    raise AssertionError("no 2.3.2 task that walks to its review")


def draft_at_review(store, tid: str, cpr: str):
    draft = {**walk(HOST_MOVE, ctx_for(store, HOST_MOVE, cpr, tid), {}), "_wizard": HOST_MOVE.key}
    case = store.create_case("2.3.2", cpr, tid, draft)
    store.save_draft(case.id, len(HOST_MOVE.steps), draft)
    return store.case(case.id)


def commit_cohabitant_doctor(store, cpr: str) -> None:
    ctx = ctx_for(store, COHABITANT, cpr, None)
    planned = COHABITANT.plan(walk(COHABITANT, ctx, {}), ctx.states, ctx)
    case = store.create_case("2.3.1", cpr, None, {})
    store.commit_case(case.id, planned, TODAY, author="test")


def stale_draft(path):
    """(task id, draft case) of a 2.3.2 draft at its review, made stale by 2.3.1 committed."""
    with open_store(path) as s:
        tid, cpr = host_move_task(s)
        case = draft_at_review(s, tid, cpr)
        commit_cohabitant_doctor(s, cpr)
    return tid, case


def test_a_232_draft_can_no_longer_pass_once_231_is_committed_for_the_person(training_store):
    with open_store(training_store) as s:
        tid, cpr = host_move_task(s)
        case = draft_at_review(s, tid, cpr)
        assert drafts.draft_problems(s, case, TODAY, FEE) == []
        assert drafts.draft_task_ids(s) == {tid}
        commit_cohabitant_doctor(s, cpr)
        problems = drafts.draft_problems(s, s.case(case.id), TODAY, FEE)
        assert [v.code for v in problems] == ["doctors.error.same"]


async def test_the_inbox_and_the_wizards_tab_mark_a_draft_and_d_discards_it_after_asking(training_store):
    with open_store(training_store) as s:
        tid, cpr = host_move_task(s)
        draft_at_review(s, tid, cpr)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, tid)
        row = next(x for x in screen_text(app).splitlines() if x.startswith(app.screen.inbox_list.row_texts(
            app.screen.inbox_list.selected)[0]) and "Kladde" in x)
        assert "Kladde 2.3.2" in row
        await pilot.press("enter", "7")
        await pilot.pause()
        assert isinstance(app.screen, PersonScreen)
        assert "★ Kladde 2.3.2" in screen_text(app)
        assert "d  Kassér kladde" in screen_text(app)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")  # the first answer is "Nej, fortryd"
        await pilot.pause()
        assert drafts.draft_task_ids(app.store) == {tid}
        await pilot.press("d", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert drafts.draft_task_ids(app.store) == frozenset()
        assert "Kladde" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "Kladde" not in screen_text(app)
    assert app.error_count == 0


async def test_d_in_the_inbox_discards_the_selected_tasks_draft_after_asking(training_store):
    with open_store(training_store) as s:
        tid, cpr = host_move_task(s)
        draft_at_review(s, tid, cpr)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, tid)
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        assert "Kladden til 2.3.2" in " ".join(screen_text(app).split())
        await pilot.press("down", "enter")
        await settle(pilot)
        assert drafts.draft_task_ids(app.store) == frozenset()
        assert "Kladde" not in screen_text(app)
    assert app.error_count == 0


async def test_a_stale_draft_says_why_and_restart_discards_it_and_opens_the_wizard_afresh(training_store):
    tid, old = stale_draft(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, tid)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceDialog)
        text = screen_text(app)
        assert "Kladden kan ikke længere gennemføres" in text
        assert "som læge." in text  # why: the person has that doctor already (2.3.1)
        await pilot.press("escape")  # keep it
        await pilot.pause()
        assert app.store.case(old.id).status == "draft"
        await pilot.press("w", "down", "down", "enter")  # "Kassér kladden, og start forfra"
        await settle(pilot)
        assert isinstance(app.screen, WizardScreen)
        assert app.screen.case.id != old.id and app.screen.step_no < len(HOST_MOVE.steps)
        assert app.store.case(old.id).status == "discarded"
    assert app.error_count == 0


async def test_a_stale_draft_can_be_discarded_without_opening_the_wizard(training_store):
    tid, old = stale_draft(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, tid)
        await pilot.press("w", "down", "enter")  # "Kassér kladden"
        await settle(pilot)
        assert not isinstance(app.screen, (ChoiceDialog, WizardScreen))
        assert app.store.case(old.id).status == "discarded"
        assert "Kladde" not in screen_text(app)
    assert app.error_count == 0
