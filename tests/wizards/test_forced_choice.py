"""2.6.5 forced doctor choice for a person unknown in LUNA: via group 2 to group 1 with the
closed doctor, a follow-up to tell the practice; refusals and attention point 1."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sygesikring_tui.domain.model import GroupRegistration
from sygesikring_tui.domain.wizards import WIZARDS, texts
from sygesikring_tui.store import Store
from sygesikring_tui.store.db import RuleViolation
from sygesikring_tui.store.followups import tick_followup
from tests.factories import CLOSED, OPEN, a_cpr, a_person, a_task
from tests.wizard_kit import FEE, TODAY, commit, ctx_for, put, walk
from tests.wizard_kit import op_tuples as strip_at


def test_forced_choice_luna_goes_via_group_2_and_leaves_an_open_followup(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=51)
    st = a_person(number, luna_known=False, tasks=(a_task(number, "L01", "t-l01"),))
    put(store, st)
    w = WIZARDS["forced_choice_luna"]
    ctx = ctx_for(store, w, number, "t-l01")
    draft = walk(w, ctx, {})
    assert draft["provider"] == CLOSED.provider_number  # the nearest closed practice is suggested
    planned = w.plan(draft, ctx.states, ctx)
    follow = "Kontakt yder Lægehuset Søndergade (054321) og bed dem se bort fra dispensationsansøgningen (2.6.5)."
    assert strip_at(planned) == [
        (number, "group_switch", {"group": 2, "effective": "2026-11-25", "reason": texts.REASON_G2}),
        (number, "group_switch", {"group": 1, "effective": "2026-11-25", "reason": texts.REASON_G1}),
        (number, "doctor_choice", {"provider_number": CLOSED.provider_number, "practice_name": CLOSED.practice_name,
                                   "reason": "selvvalgt", "effective": "2026-11-25", "forced": True,
                                   "force_rule": "group2_to_1", "status": "approved",
                                   "fee": {"paid": True, "amount": FEE, "reason": texts.FEE_PAID_OWN, "code": "own_choice"}}),
        (number, "followup_add", {"text": follow}),
        (number, "note_add", {"text": texts.note_forced(CLOSED.practice_name, CLOSED.provider_number)}),
        (number, "task_close", {"task_id": "t-l01", "reason": texts.CLOSE_FORCED}),
    ]
    commit(store, w, number, "t-l01", planned)
    end = store.load_person(number)
    assert end.current_group(TODAY).group == 1
    assert [g.group for g in sorted(end.groups, key=lambda g: (g.effective, g.end or date.max))][-2:] == [2, 1]
    doc = end.current_doctor(TODAY)
    assert (doc.provider_number, doc.forced, doc.force_rule, doc.status.value) == (
        CLOSED.provider_number, True, "group2_to_1", "approved")
    (fu,) = end.followups
    assert fu.text == follow and fu.done is None
    tick_followup(store, number, fu.id, TODAY, author="test")
    assert store.load_person(number).followups[0].done
    with pytest.raises(RuleViolation) as exc:
        tick_followup(store, number, fu.id, TODAY)
    assert [v.code for v in exc.value.violations] == ["rule.followup_done"]


def test_forced_choice_refuses_an_open_practice_and_a_free_choice_without_reason(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=52)
    put(store, a_person(number, luna_known=False, tasks=(a_task(number, "L01", "t-l01"),)))
    w = WIZARDS["forced_choice_luna"]
    ctx = ctx_for(store, w, number, "t-l01")
    assert [e.key for e in w.validate_step(w.steps[0], {"provider": OPEN.provider_number}, ctx)] == [
        "wizard.forced.error.open"]
    assert [e.key for e in w.validate_step(w.steps[1], {"fee": "free", "fee_reason": " "}, ctx)] == [
        "wizard.forced.error.fee_reason"]
    planned = w.plan(walk(w, ctx, {"fee": "free", "fee_reason": "samboendes læge"}), ctx.states, ctx)
    assert next(p for p in planned if p.kind == "doctor_choice").payload["fee"] == {
        "paid": False, "amount": 0, "reason": "samboendes læge", "code": "own_choice", "waiver": "samboendes læge"}


def test_forced_choice_blocked_by_a_future_switch_attention_point_1(store: Store) -> None:
    number = a_cpr(date(1962, 9, 23), seed=53)
    st = a_person(number, luna_known=False)
    put(store, replace(st, groups=st.groups + (GroupRegistration("gf", 7, date(2027, 1, 5)),)))
    w = WIZARDS["forced_choice_luna"]
    ctx = ctx_for(store, w, number, None)
    assert [e.key for e in w.validate_step(w.steps[0], {"provider": CLOSED.provider_number}, ctx)] == [
        "rule.future_switch_blocks"]


# -- shared -----------------------------------------------------------------------------------------
