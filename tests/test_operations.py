from dataclasses import replace
from datetime import date

import pytest

from sygesikring_tui.domain.model import CardStatus, GroupRegistration, HealthCard, Fee, Operation, TaskStatus
from sygesikring_tui.domain.operations import PayloadError, RuleContext, apply, check
from tests.factories import CLOSED, FAR, OPEN, a_person, a_task

TODAY = date(2026, 11, 25)
PROVIDERS = {p.provider_number: p for p in (OPEN, CLOSED, FAR)}
CTX = RuleContext(TODAY, PROVIDERS.get)
PAID = {"paid": True, "amount": 225, "reason": "selvvalgt", "code": "own_choice"}


def op(state, kind, **payload):
    return Operation("op-" + kind, kind, state.cpr, {"at": "2026-11-25T10:00:00+01:00", **payload}, state.version)


def codes(state, o):
    return [v.code for v in check(state, o, CTX)]


def test_group_switch_ends_the_current_group_and_bumps_the_version():
    s = a_person()
    o = op(s, "group_switch", group=5, effective="2026-11-25", reason="indkaldelse")
    assert codes(s, o) == []
    s2 = apply(s, o, CTX)
    assert s2.current_group(TODAY).group == 5
    assert [g.end for g in s2.groups if g.group == 1] == [TODAY]
    assert s2.version == s.version + 1 and s2.history[-1].action == "group_switch"


def test_switch_to_the_same_group_and_to_an_unknown_group_is_refused():
    s = a_person()
    assert codes(s, op(s, "group_switch", group=1, effective="2026-11-25")) == ["rule.group_same"]
    assert codes(s, op(s, "group_switch", group=3, effective="2026-11-25")) == ["rule.group_invalid"]


def test_closed_doctor_without_force_is_refused_and_with_an_unknown_rule_too():
    s = a_person()
    base = dict(provider_number=CLOSED.provider_number, reason="selvvalgt", effective="2026-11-25", fee=PAID)
    assert codes(s, op(s, "doctor_choice", **base)) == ["rule.provider_closed"]
    assert codes(s, op(s, "doctor_choice", forced=True, force_rule="because", **base)) == ["rule.force_rule_unknown"]


def test_attention_point_1_a_future_switch_to_group_4_blocks_a_doctor_choice():
    s = a_person()
    s = replace(s, groups=s.groups + (GroupRegistration("f", 4, date(2027, 1, 5)),))
    o = op(s, "doctor_choice", provider_number=OPEN.provider_number, reason="selvvalgt", effective="2026-11-25",
           fee=PAID)
    assert "rule.future_switch_blocks" in codes(s, o)


def test_a_future_switch_to_group_1_does_not_block_a_doctor_choice():
    s = a_person()
    s = replace(s, groups=s.groups + (GroupRegistration("f", 1, date(2027, 1, 5)),))
    s = replace(s, groups=tuple(replace(g, group=2) if g.id.startswith("g-") else g for g in s.groups))
    s = replace(s, groups=s.groups)  # person in group 2 now, group 1 in the future
    o = op(s, "doctor_choice", provider_number=OPEN.provider_number, reason="selvvalgt", effective="2027-01-05",
           fee=PAID)
    assert "rule.future_switch_blocks" not in codes(s, o)


def test_forcing_through_group2_to_1_needs_the_switch_on_the_same_day():
    s = a_person(luna_known=False)
    choice = dict(provider_number=CLOSED.provider_number, reason="selvvalgt", effective="2026-11-25",
                  forced=True, force_rule="group2_to_1", fee=PAID)
    assert codes(s, op(s, "doctor_choice", **choice)) == ["rule.group2_to_1_missing"]
    s = apply(s, op(s, "group_switch", group=2, effective="2026-11-25"), CTX)
    s = apply(s, replace(op(s, "group_switch", group=1, effective="2026-11-25"), op_id="op-g1"), CTX)
    o = op(s, "doctor_choice", **choice)
    assert codes(s, o) == []
    s = apply(s, o, CTX)
    cur = s.current_doctor(TODAY)
    assert cur.provider_number == CLOSED.provider_number and cur.forced and cur.force_rule == "group2_to_1"
    assert [(d.end, d.state(TODAY)) for d in s.doctors if d.id != cur.id] == [(TODAY, "previous")]


def test_only_an_ordered_card_can_be_cancelled():
    s = a_person()
    s = replace(s, cards=(HealthCard("c1", CardStatus.ORDERED, TODAY, Fee(False)),
                          HealthCard("c2", CardStatus.PRODUCED, TODAY, Fee(False))))
    assert codes(s, op(s, "card_cancel", card_id="c1")) == []
    assert codes(s, op(s, "card_cancel", card_id="c2")) == ["rule.card_not_cancellable"]
    assert apply(s, op(s, "card_cancel", card_id="c1"), CTX).cards[0].status == CardStatus.CANCELLED


def test_closing_a_task_twice_is_refused():
    s = a_person()
    s = replace(s, tasks=(a_task(s.cpr),))
    o = op(s, "task_close", task_id="t-1", reason="statsudsendt")
    s2 = apply(s, o, CTX)
    assert s2.tasks[0].status == TaskStatus.CLOSED
    assert codes(s2, o) == ["rule.task_closed"]


def test_malformed_payloads_raise_payload_error_not_a_crash():
    s = a_person()
    with pytest.raises(PayloadError):
        check(s, op(s, "group_switch", group=5, effective="25/11"), CTX)
    with pytest.raises(PayloadError):
        check(s, op(s, "doctor_choice", provider_number=OPEN.provider_number, reason="x", effective="2026-11-25",
                     fee={"paid": "yes"}), CTX)
    with pytest.raises(PayloadError):
        check(s, op(s, "explode"), CTX)


def test_apply_is_deterministic_so_desk_and_server_reach_the_same_state():
    s = a_person()
    o = op(s, "doctor_choice", provider_number=FAR.provider_number, reason="selvvalgt", effective="2026-11-25",
           fee={"paid": True, "amount": 225, "reason": "eget valg", "code": "own_choice"})
    assert apply(s, o, CTX) == apply(s, o, CTX)


def test_evolve_gives_what_dataclasses_replace_gives_and_refuses_an_unknown_field():
    from sygesikring_tui.domain.model import evolve

    st = a_person()
    new = evolve(st, version=st.version + 3, tasks=(a_task(st.cpr),))
    assert new == replace(st, version=st.version + 3, tasks=(a_task(st.cpr),))
    assert type(new) is type(st) and new is not st and st.tasks != new.tasks  # the original untouched
    with pytest.raises(TypeError):
        evolve(st, nonsense=1)
