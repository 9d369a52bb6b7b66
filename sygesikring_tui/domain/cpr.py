"""CPR numbers: validation (format, date, century — never the modulus-11 checksum),
masking for logs, and synthetic generation for training and tests.

Validation is python-stdnum's ``stdnum.dk.cpr``; we only translate its errors into
messages a caseworker can act on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from functools import cache
from types import ModuleType

UNKNOWN_CPR = "0000000000"


@cache
def _cpr() -> ModuleType:
    """python-stdnum's ``stdnum.dk.cpr``, imported on first use: masking a number for the
    inbox's first frame does not need it (start-up time)."""
    from stdnum.dk import cpr

    return cpr


class CprError(ValueError):
    """A typed CPR number is not usable. ``code`` is a translation key."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def compact(value: str) -> str:
    if len(value) == 10 and value.isdigit():  # a stored number is compact already
        return value
    return _cpr().compact(value)


def validate(value: str) -> str:
    """Return the 10-digit CPR number or raise :class:`CprError`.

    Numbers without a valid modulus-11 check digit are valid (issued since 2007).
    """
    from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError

    try:
        return _cpr().validate(value)
    except InvalidLength as exc:
        raise CprError("cpr.length", "CPR-nummeret skal have 10 cifre (DDMMÅÅ-SSSS).") from exc
    except InvalidFormat as exc:
        raise CprError("cpr.format", "CPR-nummeret må kun indeholde cifre (DDMMÅÅ-SSSS).") from exc
    except InvalidComponent as exc:
        if "not been born" in str(exc):
            raise CprError("cpr.future", "Fødselsdatoen i CPR-nummeret ligger i fremtiden.") from exc
        raise CprError("cpr.date", "CPR-nummeret indeholder ikke en gyldig fødselsdato.") from exc
    except ValidationError as exc:  # pragma: no cover - stdnum's catch-all
        raise CprError("cpr.invalid", "Ugyldigt CPR-nummer.") from exc


def is_valid(value: str) -> bool:
    try:
        validate(value)
    except CprError:
        return False
    return True


def birth_date(value: str) -> date:
    return _cpr().get_birth_date(compact(value))


def is_male(value: str) -> bool:
    return int(compact(value)[-1]) % 2 == 1


def format_cpr(value: str) -> str:
    v = compact(value)
    return f"{v[:6]}-{v[6:]}" if len(v) == 10 else value


def mask(value: str | None) -> str:
    """Mask a CPR number for logs: keep the birth date, hide the serial number."""
    if not value:
        return "<none>"
    v = compact(str(value))
    if len(v) != 10:
        return "<cpr?>"
    return f"{v[:6]}-XXXX"


def age_on(value: str, when: date) -> int:
    b = birth_date(value)
    return when.year - b.year - ((when.month, when.day) < (b.month, b.day))


# --- synthetic numbers -----------------------------------------------------------------
#
# Training and test data must never hold a real person's number. Every real number
# issued for a birth date before 1 Oct 2007 passes modulus 11; numbers without a valid
# check digit are issued only when a birth date's series runs out, which happens on
# crowded dates (immigrants' 1st-of-the-month dates above all). Synthetic numbers are
# therefore drawn so that the checksum FAILS, for birth dates from 1930 that are never the
# 1st of a month. For births up to Sep 2007 no real number can look like this; for later
# births the series would have to be exhausted on an ordinary day, which makes a clash
# very unlikely, though it cannot be ruled out — the training data is marked as such
# everywhere it appears.

SYNTHETIC_FIRST_YEAR = 1930


def _digit7_for(year: int, rng: random.Random) -> int:
    yy = year % 100
    if year < 2000:
        # 0-3 always give the 1900s; 4/9 only for YY >= 37.
        return rng.choice((0, 1, 2, 3) + ((4, 9) if yy >= 37 else ()))
    return rng.choice((4, 9, 5, 6, 7, 8)) if yy <= 36 else rng.choice((5, 6, 7, 8))


def is_synthetic(value: str) -> bool:
    """True for numbers of the synthetic range (checksum fails, never the 1st, born 1930+)."""
    v = compact(value)
    if len(v) != 10 or not v.isdigit() or not is_valid(v):
        return False
    b = birth_date(v)
    return b.year >= SYNTHETIC_FIRST_YEAR and b.day != 1 and _cpr().checksum(v) != 0


def synthetic(born: date, male: bool, rng: random.Random) -> str:
    """A synthetic CPR number for ``born`` (see :func:`is_synthetic`)."""
    if born.year < SYNTHETIC_FIRST_YEAR or born.day == 1 or born.year > 2057:
        raise ValueError("synthetic CPR numbers need a birth date from 1930 on, never the 1st of a month")
    head = born.strftime("%d%m%y")
    while True:
        d7 = _digit7_for(born.year, rng)
        mid = rng.randrange(100)
        last = rng.randrange(5) * 2 + (1 if male else 0)
        v = f"{head}{d7}{mid:02d}{last}"
        if _cpr().checksum(v) != 0 and _cpr().get_birth_date(v) == born:
            return v


@dataclass(frozen=True)
class CprFacts:
    cpr: str
    birth_date: date
    male: bool


def facts(value: str) -> CprFacts:
    v = validate(value)
    return CprFacts(v, birth_date(v), is_male(v))
