from datetime import date

import pytest

from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain import fees

FEES = {2023: 220, 2024: 225}


def test_a_change_by_own_choice_costs_the_year_fee_and_later_years_use_the_newest_known():
    assert fees.doctor_fee("own_choice", date(2023, 5, 1), FEES).amount == 220
    assert fees.doctor_fee("own_choice", date(2024, 5, 1), FEES).amount == 225
    assert fees.doctor_fee("own_choice", date(2026, 11, 25), FEES).amount == 225
    assert fees.doctor_fee("own_choice", date(2026, 11, 25), FEES).paid


@pytest.mark.parametrize("reason", ["moving", "practice_closes", "turning_15", "practice_transfer", "renumbering"])
def test_free_doctor_change_reasons_cost_nothing_and_say_why(reason):
    f = fees.doctor_fee(reason, date(2026, 1, 5), FEES)
    assert (f.paid, f.amount, f.reason) == (False, 0, reason)


def test_a_written_waiver_makes_a_paid_change_free_and_records_the_reason():
    f = fees.doctor_fee("cohabitant", date(2026, 1, 5), FEES, waiver="aftalt med regionen")
    assert not f.paid and "aftalt med regionen" in f.reason
    assert fees.doctor_fee("cohabitant", date(2026, 1, 5), FEES, waiver="  ").paid


def test_card_fees_follow_the_domain_rules():
    assert not fees.card_fee("leaving_group_4_5", date(2026, 1, 5), FEES).paid
    assert not fees.card_fee("name_change_marriage", date(2026, 1, 5), FEES).paid
    assert fees.card_fee("lost", date(2026, 1, 5), FEES).amount == 225
    with pytest.raises(KeyError):
        fees.card_fee("because", date(2026, 1, 5), FEES)


def test_name_change_within_three_months_of_marriage():
    assert fees.within_three_months(date(2026, 6, 10), date(2026, 9, 9))
    assert not fees.within_three_months(date(2026, 6, 10), date(2026, 9, 10))
    assert fees.within_three_months(date(2026, 9, 1), date(2026, 8, 20))  # event arrived after the name change


def test_the_fee_table_comes_from_data():
    assert load_catalogue().card_fee(2024) == 225


# -- check verifies the fee: the reason applies to the person on the date, the amount is the year's --

def _reason_cases():
    """(kind, reason code, a person the reason applies to, one it does not apply to), on DAY."""
    from dataclasses import replace

    from sygesikring_tui.domain.model import (
        AddressEntry,
        CardStatus,
        CprEvent,
        CprNumberChange,
        Fee,
        GroupRegistration,
        HealthCard,
    )
    from tests.factories import AARHUS, a_cpr, a_person

    plain = a_person(a_cpr(date(1980, 6, 6), seed=201))
    moved = replace(plain, addresses=(AddressEntry(date(2026, 1, 10), AARHUS),))
    plo1 = replace(plain, events=(CprEvent("e1", "PLO1", date(2026, 2, 1), date(2026, 2, 2)),))
    plo2 = replace(plain, events=(CprEvent("e2", "PLO2", date(2026, 2, 1), date(2026, 2, 2)),))
    fifteen = a_person(a_cpr(date(2011, 1, 4), seed=202))
    renumbered = replace(plain, cpr_changes=(CprNumberChange("0101010101", plain.cpr, date(2026, 2, 1)),))
    immigrated = replace(plain, events=(CprEvent("e3", "014", date(2026, 2, 1), date(2026, 2, 2)),))
    back = replace(plain, groups=(GroupRegistration("a", 1, date(2010, 1, 2), date(2025, 1, 1)),
                                  GroupRegistration("b", 4, date(2025, 1, 1), date(2026, 2, 1)),
                                  GroupRegistration("c", 1, date(2026, 2, 1))))
    married = replace(plain, person=replace(plain.person, married_on=date(2026, 1, 5),
                                            name_changed_on=date(2026, 2, 20)))
    late = replace(plain, person=replace(plain.person, married_on=date(2025, 1, 5),
                                         name_changed_on=date(2026, 2, 20)))
    carded = replace(plain, cards=(HealthCard("k", CardStatus.SENT, date(2015, 1, 1), Fee(False)),))
    new_card = replace(plain, cards=(HealthCard("k", CardStatus.SENT, date(2025, 6, 1), Fee(False)),))
    return [
        ("doctor_choice", "moving", moved, plain), ("doctor_choice", "practice_transfer", plo1, plain),
        ("doctor_choice", "practice_closes", plo2, plain), ("doctor_choice", "turning_15", fifteen, plain),
        ("doctor_choice", "renumbering", renumbered, plain), ("doctor_choice", "first_choice", immigrated, plain),
        ("doctor_choice", "group_return", back, plain),
        ("card_order", "first_card", replace(plain, cards=()), carded),
        ("card_order", "leaving_group_4_5", back, plain), ("card_order", "moving", moved, plain),
        ("card_order", "name_change_marriage", married, late), ("card_order", "cpr_changed", renumbered, plain),
        ("card_order", "cracked_old_card", carded, new_card), ("card_order", "turning_15", fifteen, plain),
        ("card_order", "practice_closes", plo2, plain),
    ]


DAY = date(2026, 3, 2)
TABLE = {2023: 220, 2024: 225}


@pytest.mark.parametrize("case", _reason_cases(), ids=lambda c: f"{c[0]}-{c[1]}")
def test_a_free_reason_is_accepted_only_where_the_register_bears_it_out(case):
    from sygesikring_tui.domain.model import Fee

    kind, code, applies, not_applies = case
    free = Fee(False, 0, "gratis", code)
    assert fees.fee_problems(kind, free, code, "", applies, DAY, TABLE) == []
    problems = fees.fee_problems(kind, free, code, "", not_applies, DAY, TABLE)
    assert problems and problems[0][0].startswith("rule.") and problems[0][1]["code"] == code


def test_a_free_reason_is_never_charged_and_an_unknown_reason_is_refused():
    from sygesikring_tui.domain.model import Fee
    from tests.factories import a_person

    p = a_person()
    assert fees.fee_problems("card_order", Fee(True, 225, "", "first_card"), "first_card", "", p, DAY, TABLE) == [
        ("rule.fee.should_be_free", {"code": "first_card"})]
    assert fees.fee_problems("doctor_choice", Fee(True, 225), "lost", "", p, DAY, TABLE)[0][0] == \
        "rule.fee.reason_unknown"  # a card reason on a doctor choice


def test_a_charged_reason_costs_the_years_amount_or_is_waived_only_with_a_written_reason():
    from sygesikring_tui.domain.model import Fee
    from tests.factories import a_person

    p = a_person()
    own = "own_choice"
    assert fees.fee_problems("doctor_choice", Fee(True, 225, "", own), own, "", p, DAY, TABLE) == []
    assert fees.fee_problems("doctor_choice", Fee(True, 220, "", own), own, "", p, DAY, TABLE) == [
        ("rule.fee.amount", {"amount": 225, "year": 2026})]
    assert fees.fee_problems("doctor_choice", Fee(True, 220, "", own), own, "", p, date(2023, 5, 1), TABLE) == []
    assert fees.fee_problems("doctor_choice", Fee(False, 0, "", own), own, " ", p, DAY, TABLE) == [
        ("rule.fee.free_needs_reason", {"code": own})]
    assert fees.fee_problems("doctor_choice", Fee(False, 0, "", own), own, "fejlvejledt", p, DAY, TABLE) == []


def test_check_refuses_a_doctor_choice_whose_fee_reason_does_not_apply():
    from sygesikring_tui.domain.model import Operation
    from sygesikring_tui.domain.operations import RuleContext, check
    from tests.factories import OPEN2, PROVIDERS, a_person

    p = a_person()
    ctx = RuleContext(DAY, {x.provider_number: x for x in PROVIDERS}.get)
    payload = {"provider_number": OPEN2.provider_number, "reason": "flytning", "effective": DAY.isoformat(),
               "fee": {"paid": False, "amount": 0, "reason": "flytning – gratis", "code": "moving"}}
    assert [v.code for v in check(p, Operation("o", "doctor_choice", p.cpr, payload, 1), ctx)] == ["rule.fee.no_move"]
