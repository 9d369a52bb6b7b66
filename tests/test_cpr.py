import random
from datetime import date

import pytest

from sygesikring_tui.domain import cpr
from sygesikring_tui.logs import mask_text


def test_validate_accepts_numbers_without_a_valid_modulus11_check_digit():
    number = cpr.synthetic(date(1985, 6, 12), True, random.Random(3))
    assert cpr.is_synthetic(number)  # checksum fails by construction
    assert cpr.validate(number) == number


@pytest.mark.parametrize(
    ("typed", "code"),
    [("12ab561234", "cpr.format"), ("120656123", "cpr.length"), ("3213621234", "cpr.date"),
     ("3102801234", "cpr.date"), ("0101364001", "cpr.future")],  # digit 7 = 4, YY 36 -> 2036
)
def test_validate_rejects_format_length_date_and_future_with_a_translatable_code(typed, code):
    with pytest.raises(cpr.CprError) as err:
        cpr.validate(typed)
    assert err.value.code == code


def test_century_follows_digit_seven_and_the_year():
    assert cpr.birth_date("0101370000").year == 1937  # digit 7 = 0
    assert cpr.birth_date("0101374000").year == 1937  # digit 7 = 4, YY >= 37
    assert cpr.birth_date("0101364000").year == 2036  # digit 7 = 4, YY <= 36
    assert cpr.birth_date("0101585000").year == 1858  # digit 7 = 5, YY >= 58
    assert cpr.birth_date("0101105000").year == 2010  # digit 7 = 5, YY <= 57


def test_synthetic_numbers_are_valid_synthetic_and_carry_sex_and_birth_date():
    rng = random.Random(11)
    for i in range(500):
        born = date(1930 + i % 96, 1 + i % 12, 2 + i % 27)  # 1930-2025
        male = i % 2 == 0
        n = cpr.synthetic(born, male, rng)
        assert cpr.is_valid(n) and cpr.is_synthetic(n)
        assert cpr.birth_date(n) == born and cpr.is_male(n) == male


def test_mask_hides_the_serial_number_in_logs():
    assert cpr.mask("1403801721") == "140380-XXXX"
    assert mask_text("opgave for 140380-1721 og 1503812156") == "opgave for 140380-XXXX og 150381-XXXX"
