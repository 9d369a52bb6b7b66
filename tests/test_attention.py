from dataclasses import replace
from datetime import date

from sygesikring_tui.domain import attention
from sygesikring_tui.domain.model import CprEvent, DoctorChoice, Fee, GroupRegistration, Relation, RelationKind
from sygesikring_tui.domain.operations import PlannedOp
from tests.factories import CLOSED, OPEN, a_cpr, a_person

TODAY = date(2026, 11, 25)


def test_ap1_blocks_for_a_future_switch_to_group_5_and_is_silent_for_group_1():
    p = a_person()
    assert attention.future_switch_block(p, TODAY) is None
    five = replace(p, groups=p.groups + (GroupRegistration("f", 5, date(2027, 2, 1)),))
    flag = attention.future_switch_block(five, TODAY)
    assert flag is not None and flag.params == {"group": 5, "date": "2027-02-01"}
    one = replace(p, groups=p.groups + (GroupRegistration("f", 1, date(2027, 2, 1)),))
    assert attention.future_switch_block(one, TODAY) is None


def test_ap2_reminds_for_each_letter_and_not_for_notes_or_task_closing():
    c = a_cpr()
    planned = [PlannedOp(c, "note_add", {}), PlannedOp(c, "group_switch", {"group": 5}),
               PlannedOp(c, "task_close", {}), PlannedOp(c, "card_order", {})]
    assert [f.params["index"] for f in attention.letter_reminders(planned)] == [2, 4]
    assert attention.letter_reminders([PlannedOp(c, "note_add", {})]) == []


def _family():
    parent = a_person(a_cpr(date(1980, 4, 5), seed=4), doctor=CLOSED)
    parent = replace(parent, doctors=(DoctorChoice("pd", CLOSED.provider_number, CLOSED.practice_name, "selvvalgt",
                                                   date(2015, 1, 2), fee=Fee(False)),))
    child = a_person(a_cpr(date(2016, 8, 9), seed=5))
    child = replace(child, relations=(Relation(RelationKind.RESIDENCE_PARENT, parent.cpr, parent.person.name),))
    return parent, child


def test_ap3_flags_a_minor_choosing_a_parents_closed_doctor():
    parent, child = _family()
    flag = attention.parent_closed_doctor_flag(child, CLOSED, TODAY, [parent])
    assert flag is not None and flag.code == "attention.ap3"


def test_ap3_is_silent_for_an_open_doctor_an_adult_or_a_doctor_no_parent_has():
    parent, child = _family()
    assert attention.parent_closed_doctor_flag(child, OPEN, TODAY, [parent]) is None
    adult = a_person(a_cpr(date(1990, 4, 5), seed=6))
    adult = replace(adult, relations=child.relations)
    assert attention.parent_closed_doctor_flag(adult, CLOSED, TODAY, [parent]) is None
    other_parent = replace(parent, doctors=())
    assert attention.parent_closed_doctor_flag(child, CLOSED, TODAY, [other_parent]) is None


def test_ap4_lists_040_and_041_newest_first_and_asks_only_for_group_4():
    p = a_person()
    p = replace(p, events=(CprEvent("e1", "040", date(2026, 10, 1), date(2026, 10, 2)),
                           CprEvent("e2", "041", date(2026, 10, 3), date(2026, 10, 4)),
                           CprEvent("e3", "038", date(2026, 10, 5), date(2026, 10, 6))))
    assert [e.id for e in attention.group4_history(p)] == ["e2", "e1"]
    assert attention.group4_needs_confirmation([PlannedOp(p.cpr, "group_switch", {"group": 4})])
    assert not attention.group4_needs_confirmation([PlannedOp(p.cpr, "group_switch", {"group": 5})])


def test_a_040_task_suggests_the_group_4_switch_with_the_attention_point_4_check() -> None:
    from sygesikring_tui.catalogue import load_catalogue

    cat = load_catalogue()
    s = cat.suggest("040", a_person(), date(2026, 11, 25))
    assert (s.workaround_id, s.wizard, s.attention) == ("AP4", "prison_switch", "AP4")
    assert cat.attention_points[s.workaround_id].title()  # the inbox names it, not "ingen"
