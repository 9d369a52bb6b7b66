"""Closing a task without a wizard: the reason list and its note rule (domain), the
operation through the store (outbox, history), and by keys from the inbox and the person
screen; every open task of the training store can be closed from the keyboard; F1 on a task
without a wizard says what the guide says."""

from __future__ import annotations

import pytest

from screens.app import make_app
from screens.help import HelpScreen
from screens.person import PersonScreen
from screens.task_close import CloseTaskDialog
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain import closing
from sygesikring_tui.domain.model import Operation, TaskStatus
from sygesikring_tui.domain.operations import check
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.releases import live_releases
from sygesikring_tui.store import open_store
from sygesikring_tui.store.db import RuleViolation
from sygesikring_tui.store.quick import close_task
from tests.conftest import TODAY
from tests.desk_kit import DESK_FIXTURES, SIZE, cursor_to, first_open_task, screen_text, settle

pytestmark = DESK_FIXTURES


def test_other_needs_a_note_and_an_unknown_reason_is_refused():
    assert closing.close_problems("other", "  ") == ["rule.close_note_required"]
    assert closing.close_problems("other", "borgeren ringede") == []
    assert closing.close_problems("not_relevant", "") == []
    assert closing.close_problems("whatever", "x") == ["rule.close_reason_unknown"]
    assert closing.close_problems(None, None) == []  # a wizard's close has no reason code


def test_check_refuses_a_close_with_a_bad_reason_code_and_a_closed_task(training_store):
    with open_store(training_store) as s:
        tid, cpr = first_open_task(s)
        st = s.load_person(cpr)
        ctx = s.rule_context(TODAY)

        def op(**p):
            return Operation("o1", "task_close", cpr, {"task_id": tid, "reason": "x", **p}, st.version)

        assert [v.code for v in check(st, op(reason_code="other"), ctx)] == ["rule.close_note_required"]
        assert [v.code for v in check(st, op(reason_code="bogus"), ctx)] == ["rule.close_reason_unknown"]
        assert check(st, op(reason_code="duplicate"), ctx) == []
        close_task(s, cpr, tid, "duplicate", "", TODAY, "sb")
        with pytest.raises(RuleViolation) as exc:
            close_task(s, cpr, tid, "duplicate", "", TODAY, "sb")
        assert [v.code for v in exc.value.violations] == ["rule.task_closed"]


def test_a_close_is_an_operation_with_outbox_rows_history_and_the_note(training_store):
    with open_store(training_store) as s:
        tid, cpr = first_open_task(s, wizard=False)
        close_task(s, cpr, tid, "other", "Klaret i telefonen", TODAY, "sb")
        st = s.load_person(cpr)
        task = st.task(tid)
        assert task.status == TaskStatus.CLOSED
        assert task.closed_reason == "anden årsag: Klaret i telefonen"
        out = [(o["kind"], o["status"]) for o in s.outbox()]
        assert out == [("task_close", "pending"), ("note_add", "pending")]
        assert s.outbox()[0]["payload"]["reason_code"] == "other"
        assert [n.text for n in st.notes if n.text == "Klaret i telefonen"]
        assert st.history[-2].action == "task_close"
        assert s.conn.execute("SELECT status FROM cases WHERE workaround_id = 'task_close'").fetchall() == \
            [("committed",)]


def test_every_open_task_in_the_training_store_can_be_closed_by_its_wizard_or_a_reason(training_store):
    cat = load_catalogue()
    with open_store(training_store) as s:
        rows = s.conn.execute("SELECT id, cpr FROM tasks WHERE status = 'open'").fetchall()
        assert len(rows) > 200
        no_wizard = 0
        for tid, cpr in rows:
            st = s.load_person(cpr)
            task = st.task(tid)
            g = closing.guidance(cat.suggestion_rules, task, st, TODAY, s.provider, cat.retired(live_releases()))
            if g.kind == "wizard":
                assert g.wizard in WIZARDS, (tid, g)
                continue
            no_wizard += 1
            # no wizard: the keyboard's close with a reason must pass the rules
            op = Operation("o", "task_close", cpr, {"task_id": tid, "reason": closing.record_reason("handled_directly"),
                                                     "reason_code": "handled_directly"}, st.version)
            assert check(st, op, s.rule_context(TODAY)) == [], tid
        assert no_wizard > 0


async def test_l_in_the_inbox_closes_the_highlighted_task_with_a_reason(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tid, cpr = first_open_task(app.store, wizard=False)
        await cursor_to(pilot, tid)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, CloseTaskDialog)
        await pilot.press("down")  # "Ikke relevant"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CloseTaskDialog)
        task = app.store.load_person(cpr).task(tid)
        assert (task.status, task.closed_reason) == (TaskStatus.CLOSED, "ikke relevant")
        assert app.screen.inbox_list.selected is None or app.screen.inbox_list.selected["id"] != tid
    assert app.error_count == 0


async def test_other_without_a_note_shows_the_error_beside_the_note_and_writes_nothing(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tid, cpr = first_open_task(app.store, wizard=False)
        await cursor_to(pilot, tid)
        await pilot.press("l", "down", "down", "down", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CloseTaskDialog)
        assert app.screen.focused.id == "close-note"
        lines = screen_text(app).splitlines()
        note_at = next(i for i, line in enumerate(lines) if "Notat (kræves" in line)
        assert "Skriv et notat" in "".join(lines[note_at + 1:note_at + 5])
        assert app.store.outbox() == []
        await pilot.press(*"Borgeren er død", "enter")
        await settle(pilot)
        assert app.store.load_person(cpr).task(tid).closed_reason == "anden årsag: Borgeren er død"
    assert app.error_count == 0


async def test_esc_in_the_close_dialog_writes_nothing(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, CloseTaskDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CloseTaskDialog)
        assert app.store.outbox() == []


async def test_l_on_the_person_screen_offers_the_persons_open_tasks_and_closes_the_chosen(training_store):
    with open_store(training_store) as s:
        cpr, n = s.conn.execute("SELECT cpr, count(*) FROM tasks WHERE status = 'open' GROUP BY cpr "
                                "HAVING count(*) > 1 ORDER BY cpr LIMIT 1").fetchone()
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(PersonScreen(cpr))
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, CloseTaskDialog) and len(dialog.tasks) == n
        second = dialog.tasks[1].id
        await pilot.press("down", "tab", "down", "down", "tab", *"Samme som den anden", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        st = app.store.load_person(cpr)
        assert st.task(second).closed_reason == "dublet: Samme som den anden"
        assert len(st.open_tasks()) == n - 1
        await pilot.press("5")
        await pilot.pause()
        assert "dublet" in screen_text(app)
    assert app.error_count == 0


async def test_f1_on_a_task_without_a_wizard_says_what_the_guide_says(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tid, _cpr = first_open_task(app.store, wizard=False)
        await cursor_to(pilot, tid)  # (the list has the focus: F1 from there)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = " ".join(screen_text(app).split())
        assert "Opgaven: 013 Udrejst" in text
        assert "håndteres direkte i Sygesikring" in text and "Luk derefter opgaven med l" in text


def test_guidance_names_an_attention_point_a_conditional_workaround_and_the_outside(training_store):
    cat = load_catalogue()
    from dataclasses import replace

    from tests.factories import a_cpr, a_person, a_task

    p = a_person(a_cpr(seed=3))

    def kind(code):
        st = replace(p, tasks=(a_task(p.cpr, code, "t"),))
        return closing.guidance(cat.suggestion_rules, st.tasks[0], st, TODAY).kind

    assert kind("013") == "conditional"  # 2.2.1 only when moving to Greenland
    assert kind("041") == "attention"  # AP4 without group 4
    assert kind("999") == "outside"
    assert kind("011") == "wizard"
    retired = cat.retired(frozenset({"1.1"}))
    st = replace(p, tasks=(a_task(p.cpr, "013", "t"),))
    assert closing.guidance(cat.suggestion_rules, st.tasks[0], st, TODAY, retired=retired).kind == "retired"


async def test_w_on_a_task_without_a_wizard_points_to_l_and_f1(training_store):
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tid, _cpr = first_open_task(app.store, wizard=False)
        await cursor_to(pilot, tid)
        said: list[str] = []
        app.notify = lambda message, **kw: said.append(str(message))  # what the toast would say
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, CloseTaskDialog)
        assert any("Tryk l for at lukke den med en årsag" in m for m in said), said
