"""Rules about groups, doctor choices, fees and distances (DOMAIN.md, the guide's section 4).

Pure functions: tables that come from ``data/`` (fees per year, municipalities) are passed
in by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from .model import Address, PersonState, Provider, RelationKind

# Attention point 1: a future switch to one of these groups blocks a new doctor choice.
BLOCKING_FUTURE_GROUPS = frozenset({2, 4, 5, 7, 8, 9})
VALID_GROUPS = frozenset({1, 2, 4, 5, 6, 7, 8, 9})

# The capital-area municipalities with the 5 km rule: København, Frederiksberg, Tårnby, Dragør.
FIVE_KM_MUNICIPALITIES = frozenset({101, 147, 185, 155})
DISTANCE_KM = 15.0
DISTANCE_KM_CAPITAL = 5.0

# Relations between two persons (a relation is held by each of them, seen from that side).
PARENT_CHILD = frozenset({RelationKind.PARENT, RelationKind.CHILD, RelationKind.RESIDENCE_PARENT,
                          RelationKind.RESIDENCE_CHILD})
PARENTS = (RelationKind.PARENT, RelationKind.RESIDENCE_PARENT)


def parent_cprs(state: PersonState) -> list[str]:
    """The CPR numbers of a person's parents (either kind of parent relation), once each."""
    return list(dict.fromkeys(r.other_cpr for r in state.relations if r.kind in PARENTS))
PARTNER = frozenset({RelationKind.SPOUSE, RelationKind.COHABITANT})

PROVISIONAL_DAYS = 14  # a dispensation choice stands approved this long (2.6.1)


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Straight-line distance (haversine), the app's stand-in for road distance."""
    r = 6371.0
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(min(1.0, h)))


def distance_limit_km(municipality_code: int) -> float:
    return DISTANCE_KM_CAPITAL if municipality_code in FIVE_KM_MUNICIPALITIES else DISTANCE_KM


@dataclass(frozen=True)
class RankedProvider:
    provider: Provider
    km: float
    within_limit: bool


def rank_providers(home: Address, providers: Iterable[Provider]) -> list[RankedProvider]:
    """Providers by distance from home: within the distance rule first, then beyond."""
    limit = distance_limit_km(home.municipality_code)
    ranked = [
        RankedProvider(p, d, d <= limit)
        for p in providers
        for d in (distance_km(home.lat, home.lon, p.lat, p.lon),)
    ]
    ranked.sort(key=lambda r: (not r.within_limit, r.km, r.provider.provider_number))
    return ranked


def blocking_future_switch(state: PersonState, today: date):
    """Attention point 1: the first future switch to 2, 4, 5, 7, 8 or 9, if any."""
    return next((g for g in state.future_groups(today) if g.group in BLOCKING_FUTURE_GROUPS), None)


def card_fee(year: int, fees: Mapping[int, int]) -> int:
    """The health-card / doctor-change fee for ``year``: the newest year in the table <= year."""
    known = [y for y in fees if y <= year]
    if not known:
        known = [min(fees)]
    return int(fees[max(known)])


def group1_problem(state: PersonState, on: date) -> tuple[str, dict] | None:
    """A doctor choice needs group 1 on the day it takes effect: None, or the rule's key and
    parameters (the one place this rule is written)."""
    g = state.current_group(on)
    if g is None or g.group != 1:
        return "rule.choice_needs_group1", {"group": g.group if g else "-"}
    return None
