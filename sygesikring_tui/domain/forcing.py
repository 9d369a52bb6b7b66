"""The forcing rules: when a practice closed to new patients may still be chosen ("gennemtving").

Each rule is ONE definition: its key, the guide (or DOMAIN.md) section it comes from, and a
predicate over the facts of the choice (the person's state, the provider, the date, the
person the rule goes through, every provider, the other persons' states). ``operations.check``
refuses a forced choice whose predicate does not hold, on the desk and on the server; the
wizards offer, default and validate closed practices through the same predicates
(:func:`why_not`), so no condition is written twice.

A predicate returns ``None`` when the rule covers the choice, else the translation key that
says why not. ``needs_basis`` rules (the doctor's acceptance) also need the caseworker's
written basis in the operation (``force_basis``): the fact is not in the register.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from . import cpr as cpr_mod
from . import rules
from .model import PersonState, Provider

PersonLookup = Callable[[str], PersonState | None]


def _nobody(_cpr: str) -> PersonState | None:
    return None


def _no_providers() -> Iterable[Provider]:
    return ()


@dataclass(frozen=True)
class ForceFacts:
    """What a forcing rule may look at for one doctor choice."""

    state: PersonState  # the person who gets the doctor
    provider: Provider  # the closed practice chosen
    effective: date  # when the choice takes effect
    via: str | None = None  # the person the rule goes through (the cohabitant)
    person: PersonLookup = _nobody  # other persons' states (cohabitant, old number, parents)
    providers: Callable[[], Iterable[Provider]] = _no_providers


Predicate = Callable[[ForceFacts], "str | None"]


@dataclass(frozen=True)
class ForcingRule:
    key: str
    section: str  # the guide section, or "DOMAIN" for DOMAIN.md's list
    why_not: Predicate
    needs_basis: bool = False  # the operation must carry the caseworker's written basis


# --- the predicates ------------------------------------------------------------------------

def cohabitant_relation_problem(state: PersonState, via: str | None) -> str | None:
    """2.3.1's relation test: ``via`` is a spouse or cohabitant, and ANY parent/child relation
    between the two (CPR may hold both) keeps self-service's block."""
    if not via:
        return "rule.cohabitant_unknown"
    kinds = {r.kind for r in state.relations if r.other_cpr == via}
    if kinds & rules.PARENT_CHILD:
        return "rule.cohabitant_parent_child"
    if not kinds & rules.PARTNER:
        return "rule.cohabitant_unknown"
    return None


def _cohabitant(f: ForceFacts) -> str | None:
    """2.3.1: a spouse's or cohabitant's closed doctor, living at the same address."""
    why = cohabitant_relation_problem(f.state, f.via)
    if why is not None:
        return why
    other = f.person(f.via)
    if other is None:
        return "rule.force.via_unknown"
    if not other.person.address.same_place(f.state.person.address):
        return "rule.force.cohabitant_address"
    doc = other.current_doctor(f.effective)
    if doc is None or doc.provider_number != f.provider.provider_number:
        return "rule.force.not_their_doctor"
    return None


def old_number_doctor(old: PersonState, on: date) -> str | None:
    """The old number's doctor on ``on``: its latest choice that had started by then."""
    started = [d for d in old.doctors if d.provider_number and d.effective <= on]
    return max(started, key=lambda d: d.effective).provider_number if started else None


def _renumbering(f: ForceFacts) -> str | None:
    """2.7.5: the old number's doctor moves to the new number."""
    changes = [c for c in f.state.cpr_changes if c.new_cpr == f.state.cpr]
    if not changes:
        return "rule.renumbering_no_change"
    olds = [s for s in (f.person(c.old_cpr) for c in changes) if s is not None]
    if not olds:
        return "rule.force.via_unknown"
    if all(old_number_doctor(s, f.effective) != f.provider.provider_number for s in olds):
        return "rule.force.not_their_doctor"
    return None


def _group2_to_1(f: ForceFacts) -> str | None:
    """2.6.5: the person came from group 2 into group 1 on the day the choice takes effect."""
    came_from_2 = any(g.end == f.effective and g.group == 2 for g in f.state.groups)
    cur = f.state.current_group(f.effective)
    if not came_from_2 or cur is None or cur.group != 1:
        return "rule.group2_to_1_missing"
    return None


def last_group1_gp(state: PersonState, on: date) -> str | None:
    """DOMAIN.md "return from group 2 or 4/5 to the last group 1 GP": the provider number of
    that GP when the group history shows such a return into group 1 current on ``on``."""
    cur = state.current_group(on)
    if cur is None or cur.group != 1:
        return None
    before = [g for g in state.groups if g.end == cur.effective and g.group in (2, 4, 5)]
    if not before:
        return None
    return gp_before(state, min(g.effective for g in before))


def gp_before(state: PersonState, left: date) -> str | None:
    """The GP of the person's latest doctor choice that began before ``left`` (the day they
    left group 1)."""
    earlier = [x for x in state.doctors if x.provider_number and x.effective < left]
    return max(earlier, key=lambda x: x.effective).provider_number if earlier else None


def _return_to_last_gp(f: ForceFacts) -> str | None:
    last = last_group1_gp(f.state, f.effective)
    if last is None:
        return "rule.force.no_return"
    if last != f.provider.provider_number:
        return "rule.force.not_last_gp"
    return None


def _turning_15(f: ForceFacts) -> str | None:
    """DOMAIN.md: a child turning 15 choosing a parent's GP."""
    try:
        age = cpr_mod.age_on(f.state.cpr, f.effective)
    except Exception:  # noqa: BLE001 - a number without a readable birth date
        b = f.state.person.birth_date
        age = f.effective.year - b.year - ((f.effective.month, f.effective.day) < (b.month, b.day))
    if age != 15:
        return "rule.force.not_15"
    for c in rules.parent_cprs(f.state):
        parent = f.person(c)
        doc = parent.current_doctor(f.effective) if parent else None
        if doc is not None and doc.provider_number == f.provider.provider_number:
            return None
    return "rule.force.not_their_doctor"


def open_within_reach(state: PersonState, providers: Iterable[Provider]) -> int:
    """Open practices within the distance rule of the person's address."""
    return sum(1 for r in rules.rank_providers(state.person.address, providers)
               if r.within_limit and r.provider.open)


def _no_open_within_reach(f: ForceFacts) -> str | None:
    """DOMAIN.md: no two open practices within reach (after a move)."""
    if open_within_reach(f.state, f.providers()) >= 2:
        return "rule.force.open_within_reach"
    return None


def _doctor_accepted(f: ForceFacts) -> str | None:
    """DOMAIN.md: the doctor has accepted the patient (the basis is written in the operation)."""
    return None


RULES: dict[str, ForcingRule] = {r.key: r for r in (
    ForcingRule("cohabitant", "2.3.1", _cohabitant),
    ForcingRule("renumbering", "2.7.5", _renumbering),
    ForcingRule("group2_to_1", "2.6.5", _group2_to_1),
    ForcingRule("return_to_last_gp", "DOMAIN", _return_to_last_gp),
    ForcingRule("turning_15", "DOMAIN", _turning_15),
    ForcingRule("no_open_within_reach", "DOMAIN", _no_open_within_reach),
    ForcingRule("doctor_accepted", "DOMAIN", _doctor_accepted, needs_basis=True),
)}


def why_not(rule: str, facts: ForceFacts) -> str | None:
    """None when ``rule`` lets ``facts.provider`` be chosen although closed; else why not."""
    r = RULES.get(rule)
    if r is None:
        return "rule.force_rule_unknown"
    return r.why_not(facts)


def covers(rule: str, facts: ForceFacts) -> bool:
    return why_not(rule, facts) is None
