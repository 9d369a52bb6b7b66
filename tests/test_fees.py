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
