"""Scenarios for the card wizards (2.7.7, 3.1.7) and the switch to group 4 (CPR 040, AP4):
the person the guide describes, the caseworker's answers step by step, the exact operations
(kinds, payloads, fees, reasons) and the store's end state after commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tests.factories import a_cpr, a_person, a_task

from sygesikring_tui.domain.model import CardStatus, CprEvent, Fee, GroupRegistration, HealthCard, TaskStatus
from sygesikring_tui.domain.wizards import card_records, prison_switch
from sygesikring_tui.domain.wizards import WIZARDS
from sygesikring_tui.domain.wizards.common import ACK_AP4
from sygesikring_tui.store import Store
from tests.wizard_kit import FEE, TODAY, commit, ctx_for, put, walk
from tests.wizard_kit import op_tuples as strip_at


def _married(store: Store, married: date | None, changed: date | None, code: str = "004"):
    number = a_cpr(date(1990, 4, 5), male=False, seed=31)
    st = a_person(number, tasks=(a_task(number, code, "t-name"),))
    st = replace(st, person=replace(st.person, married_on=married, name_changed_on=changed))
    put(store, st)
    return st


# -- 2.7.7 name change at marriage -------------------------------------------------------------

def test_marriage_within_three_months_orders_a_free_card_with_note_and_closes_the_task(store: Store) -> None:
    st = _married(store, date(2026, 10, 1), date(2026, 10, 20))
    w = WIZARDS["marriage_name_card"]
    ctx = ctx_for(store, w, st.cpr, "t-name")
    draft = walk(w, ctx, {})
    assert (draft["married_on"], draft["name_changed_on"], draft["order"]) == ("2026-10-01", "2026-10-20", "free")
    note = card_records.note_marriage("free", date(2026, 10, 1), date(2026, 10, 20), FEE)
    assert strip_at(w.plan(draft, ctx.states, ctx)) == [
        (st.cpr, "card_order", {"ordered_on": "2026-11-25", "reason": card_records.CARD_REASON_MARRIAGE,
                                "fee": {"paid": False, "amount": 0, "reason": card_records.FEE_FREE_MARRIAGE,
                                        "code": "name_change_marriage"}}),
        (st.cpr, "note_add", {"text": note}),
        (st.cpr, "task_close", {"task_id": "t-name", "reason": card_records.CLOSE_MARRIAGE_CARD}),
    ]
    commit(store, w, st.cpr, "t-name", w.plan(draft, ctx.states, ctx))
    end = store.load_person(st.cpr)
    card = end.cards[-1]
    assert (card.status, card.fee, card.reason) == (CardStatus.ORDERED, Fee(False, 0, card_records.FEE_FREE_MARRIAGE, "name_change_marriage"),
                                                    card_records.CARD_REASON_MARRIAGE)
    assert end.notes[-1].text == note and "højst 3 måneder fra vielsen" in note
    assert end.task("t-name").status == TaskStatus.CLOSED


def test_marriage_more_than_three_months_away_offers_only_a_paid_card_or_stopping(store: Store) -> None:
    st = _married(store, date(2026, 5, 1), date(2026, 11, 20))
    w = WIZARDS["marriage_name_card"]
    ctx = ctx_for(store, w, st.cpr, "t-name")
    order_step = w.steps[w.step_index("order")]
    base = {"married_on": "2026-05-01", "name_changed_on": "2026-11-20"}
    assert [o.value for o in order_step.fields[0].options(base, ctx)] == ["paid", "none"]
    assert [e.key for e in w.validate_step(order_step, {**base, "order": "free"}, ctx)] == ["wizard.error.choose"]
    evidence = order_step.evidence(base, ctx)
    assert [(m.key, m.level) for m in evidence] == [("wizard.marriage.ev.outside", "warning")]
    draft = walk(w, ctx, {})
    assert draft["order"] == "paid"
    planned = w.plan(draft, ctx.states, ctx)
    assert strip_at(planned)[0] == (st.cpr, "card_order", {
        "ordered_on": "2026-11-25", "reason": card_records.CARD_REASON_MARRIAGE,
        "fee": {"paid": True, "amount": FEE, "reason": card_records.FEE_PAID_MARRIAGE, "code": "own_choice"}})
    commit(store, w, st.cpr, "t-name", planned)
    assert store.load_person(st.cpr).cards[-1].fee == Fee(True, FEE, card_records.FEE_PAID_MARRIAGE, "own_choice")


def test_marriage_caseworker_may_stop_without_a_card(store: Store) -> None:
    st = _married(store, date(2026, 5, 1), date(2026, 11, 20))
    w = WIZARDS["marriage_name_card"]
    ctx = ctx_for(store, w, st.cpr, "t-name")
    draft = walk(w, ctx, {"order": "none"})
    assert [p.kind for p in w.plan(draft, ctx.states, ctx)] == ["note_add", "task_close"]
    assert w.plan(draft, ctx.states, ctx)[-1].payload["reason"] == card_records.CLOSE_MARRIAGE_NO_CARD


def test_marriage_dates_missing_in_cpr_must_be_typed_and_not_in_the_future(store: Store) -> None:
    st = _married(store, None, None, code="028")
    w = WIZARDS["marriage_name_card"]
    ctx = ctx_for(store, w, st.cpr, "t-name")
    step = w.steps[0]
    draft = w.fill_defaults(step, {}, ctx)
    assert (draft["married_on"], draft["name_changed_on"]) == ("", "")
    assert {e.field: e.key for e in w.validate_step(step, draft, ctx)} == {
        "married_on": "wizard.error.required", "name_changed_on": "wizard.error.required"}
    errs = w.validate_step(step, {"married_on": "01-12-2026", "name_changed_on": "20-11-2026"}, ctx)
    assert [(e.field, e.key) for e in errs] == [("married_on", "wizard.cards.error.future")]
    draft = walk(w, ctx, {"married_on": "01-11-2026", "name_changed_on": "20-11-2026"})
    assert draft["order"] == "free"


# -- 3.1.7 new card after group 4 or 5 -----------------------------------------------------------

def _in_prison(store: Store, *, task: bool = True) -> str:
    number = a_cpr(date(1980, 2, 2), seed=41)
    st = a_person(number, doctor=None)
    st = replace(st, groups=(GroupRegistration("g1", 1, date(2010, 1, 2), date(2026, 1, 10)),
                             GroupRegistration("g4", 4, date(2026, 1, 10), None, "Afsoning over 3 måneder")),
                 cards=(HealthCard("c1", CardStatus.CANCELLED, date(2015, 3, 3), Fee(False), "Inddraget ved afsoning"),),
                 tasks=(a_task(number, "041", "t-041"),) if task else ())
    put(store, st)
    return number


def test_release_from_group4_switches_to_group1_and_orders_a_free_card(store: Store) -> None:
    number = _in_prison(store)
    w = WIZARDS["card_after_group45"]
    ctx = ctx_for(store, w, number, "t-041")
    draft = walk(w, ctx, {"card_taken": "yes"})
    assert (draft["switch"], draft["effective"]) == ("to1", "2026-11-20")  # the 041's date
    note = card_records.note_group45(4, 1, date(2026, 11, 20), True) + (
        " Læge: intet lægevalg – Sikrede er i gruppe 1 uden læge og skal vælge læge.")
    assert strip_at(w.plan(draft, ctx.states, ctx)) == [
        (number, "group_switch", {"group": 1, "effective": "2026-11-20", "reason": card_records.REASON_LEFT_GROUP.format(group=4)}),
        (number, "card_order", {"ordered_on": "2026-11-25", "reason": card_records.CARD_REASON_GROUP45.format(group=4),
                                "fee": {"paid": False, "amount": 0, "reason": card_records.FEE_FREE_GROUP45,
                                        "code": "leaving_group_4_5"}}),
        (number, "note_add", {"text": note}),
        (number, "task_close", {"task_id": "t-041", "reason": card_records.CLOSE_GROUP45.format(group=4)}),
    ]
    commit(store, w, number, "t-041", w.plan(draft, ctx.states, ctx))
    end = store.load_person(number)
    assert end.current_group(TODAY).group == 1
    assert (end.cards[-1].status, end.cards[-1].fee.paid) == (CardStatus.ORDERED, False)
    assert end.task("t-041").status == TaskStatus.CLOSED


def test_card_not_taken_in_means_no_new_card_only_the_switch(store: Store) -> None:
    number = _in_prison(store)
    w = WIZARDS["card_after_group45"]
    ctx = ctx_for(store, w, number, "t-041")
    draft = walk(w, ctx, {"card_taken": "no", "switch": "to2"})
    assert [(p.kind, p.payload.get("group")) for p in w.plan(draft, ctx.states, ctx)] == [
        ("group_switch", 2), ("note_add", None), ("task_close", None)]


def test_from_the_person_screen_after_discharge_the_registered_switch_is_used(store: Store) -> None:
    number = a_cpr(date(2004, 5, 5), seed=42)
    st = a_person(number, doctor=None)
    st = replace(st, groups=(GroupRegistration("g1", 1, date(2010, 1, 2), date(2026, 2, 1)),
                             GroupRegistration("g5", 5, date(2026, 2, 1), date(2026, 11, 1)),
                             GroupRegistration("g1b", 1, date(2026, 11, 1))))
    put(store, st)
    w = WIZARDS["card_after_group45"]
    ctx = ctx_for(store, w, number, None)
    assert [o.value for o in w.steps[0].fields[0].options({}, ctx)] == ["done"]
    draft = walk(w, ctx, {"card_taken": "yes"})
    # into group 1 without a doctor: the doctor step warns and offers a choice (3.1.7)
    assert [w.steps[i].id for i in w.active_steps(draft, ctx)] == ["switch", "card", "doctor", "note"]
    assert strip_at(w.plan(draft, ctx.states, ctx)) == [
        (number, "card_order", {"ordered_on": "2026-11-25", "reason": card_records.CARD_REASON_GROUP45.format(group=5),
                                "fee": {"paid": False, "amount": 0, "reason": card_records.FEE_FREE_GROUP45,
                                        "code": "leaving_group_4_5"}}),
        (number, "note_add", {"text": card_records.note_group45(5, 1, date(2026, 11, 1), True) + (
            " Læge: intet lægevalg – Sikrede er i gruppe 1 uden læge og skal vælge læge.")}),
    ]
    # without a card taken in and without a task there is nothing to do
    card = w.steps[w.step_index("card")]
    assert [e.key for e in w.validate_step(card, {**draft, "card_taken": "no"}, ctx)] == ["wizard.card45.error.nothing"]


def test_a_person_never_in_group_4_or_5_is_refused_at_the_first_step(store: Store) -> None:
    number = a_cpr(seed=43)
    put(store, a_person(number))
    w = WIZARDS["card_after_group45"]
    ctx = ctx_for(store, w, number, None)
    errs = w.validate_step(w.steps[0], w.fill_defaults(w.steps[0], {}, ctx), ctx)
    assert [(e.field, e.key) for e in errs] == [("switch", "wizard.card45.error.never45")]


# -- CPR 040: switch to group 4 (attention point 4) -----------------------------------------------

def _sentence(store: Store, *events: tuple[str, date]) -> str:
    number = a_cpr(date(1979, 9, 9), seed=51)
    evs = tuple(CprEvent(f"e{i}", code, on, on) for i, (code, on) in enumerate(events))
    task = replace(a_task(number, "040", "t-040"), event_id="e0")
    put(store, replace(a_person(number), events=evs, tasks=(task,)))
    return number


def test_prison_switch_shows_history_requires_confirmation_then_switches_to_group4(store: Store) -> None:
    number = _sentence(store, ("040", date(2026, 11, 19)))
    w = WIZARDS["prison_switch"]
    ctx = ctx_for(store, w, number, "t-040")
    first = w.steps[0]
    keys = [m.key for m in first.evidence({}, ctx)]
    assert "attention.ap4" in keys and "wizard.prison.ev.event" in keys
    draft = w.fill_defaults(first, {}, ctx)
    assert (draft["decision"], draft[ACK_AP4]) == ("switch", "no")
    assert [(e.field, e.key) for e in w.validate_step(first, draft, ctx)] == [(ACK_AP4, "wizard.prison.error.confirm")]
    draft = walk(w, ctx, {ACK_AP4: "yes"})
    assert strip_at(w.plan(draft, ctx.states, ctx)) == [
        (number, "group_switch", {"group": 4, "effective": "2026-11-19", "reason": card_records.REASON_PRISON}),
        (number, "note_add", {"text": card_records.note_prison("switch", date(2026, 11, 19))}),
        (number, "task_close", {"task_id": "t-040", "reason": card_records.CLOSE_PRISON}),
    ]
    commit(store, w, number, "t-040", w.plan(draft, ctx.states, ctx))
    end = store.load_person(number)
    assert (end.current_group(TODAY).group, end.current_group(TODAY).effective) == (4, date(2026, 11, 19))


def test_prison_switch_after_a_041_suggests_the_mistake_and_switches_nothing(store: Store) -> None:
    number = _sentence(store, ("040", date(2026, 11, 18)), ("041", date(2026, 11, 19)))
    w = WIZARDS["prison_switch"]
    ctx = ctx_for(store, w, number, "t-040")
    assert prison_switch.undone_by_041(ctx.state)
    assert "wizard.prison.ev.undone" in [m.key for m in w.steps[0].evidence({}, ctx)]
    draft = walk(w, ctx, {ACK_AP4: "yes"})
    assert draft["decision"] == "mistake"
    assert strip_at(w.plan(draft, ctx.states, ctx)) == [
        (number, "note_add", {"text": card_records.note_prison("mistake", None)}),
        (number, "task_close", {"task_id": "t-040", "reason": card_records.CLOSE_PRISON_MISTAKE}),
    ]
    commit(store, w, number, "t-040", w.plan(draft, ctx.states, ctx))
    assert store.load_person(number).current_group(TODAY).group == 1
