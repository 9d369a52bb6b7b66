"""Small builders of domain objects for unit tests (synthetic CPR numbers only)."""

from __future__ import annotations

import random
from datetime import date

from sygesikring_tui.domain import cpr
from sygesikring_tui.domain.model import (
    Address,
    DoctorChoice,
    Fee,
    GroupRegistration,
    Person,
    PersonState,
    Provider,
    Sex,
    Task,
)

AARHUS = Address("Vestergade 12", "8000", "Aarhus C", 751, 56.157, 10.205)
OPEN = Provider("012345", "Lægerne Vestergade", True, 751, 56.160, 10.200, "Vestergade 3")
CLOSED = Provider("054321", "Lægehuset Søndergade", False, 751, 56.150, 10.210, "Søndergade 9")
FAR = Provider("099999", "Klinik Skagen", True, 813, 57.720, 10.580, "Havnevej 1")


def a_cpr(born: date = date(1985, 6, 12), male: bool = True, seed: int = 1) -> str:
    return cpr.synthetic(born, male, random.Random(seed))


def a_person(number: str | None = None, *, group: int = 1, doctor: Provider | None = OPEN,
             luna_known: bool = True, tasks: tuple[Task, ...] = ()) -> PersonState:
    number = number or a_cpr()
    person = Person(number, "Mads Jensen", cpr.birth_date(number), Sex.MALE if cpr.is_male(number) else Sex.FEMALE,
                    AARHUS, luna_known=luna_known)
    groups = (GroupRegistration("g-" + number, group, date(2010, 1, 2)),)
    doctors = ()
    if doctor is not None and group == 1:
        doctors = (DoctorChoice("d-" + number, doctor.provider_number, doctor.practice_name, "selvvalgt",
                                date(2010, 1, 2), fee=Fee(False, 0, "første lægevalg")),)
    return PersonState(person, 1, groups=groups, doctors=doctors, tasks=tasks)


def a_task(number: str, code: str = "038", task_id: str = "t-1", received: date = date(2026, 11, 20)) -> Task:
    return Task(task_id, number, code, None, received, received)


# -- one scenario per forcing rule: the persons, and a forced choice that holds or not ---------

OPEN2 = Provider("023456", "Lægerne Åboulevarden", True, 751, 56.155, 10.207, "Åboulevarden 5")
CLOSED2 = Provider("054322", "Lægehuset Klostergade", False, 751, 56.158, 10.208, "Klostergade 2")
PROVIDERS = (OPEN, OPEN2, CLOSED, CLOSED2, FAR)
RULE_DAY = date(2026, 3, 2)  # the test server's "today"
PAID = {"paid": True, "amount": 225, "reason": "selvvalgt", "code": "own_choice"}
SKAGEN = Address("Havnevej 9", "9990", "Skagen", 751, 57.721, 10.583)


def with_doctor(state: PersonState, prov: Provider, since: date = date(2010, 1, 2), end: date | None = None,
                cid: str | None = None) -> PersonState:
    from dataclasses import replace

    choice = DoctorChoice(cid or f"d-{state.cpr}-{prov.provider_number}", prov.provider_number, prov.practice_name,
                          "selvvalgt", since, end, fee=Fee(False, 0, "første lægevalg"))
    return replace(state, doctors=state.doctors + (choice,))


def related(a: PersonState, b: PersonState, *pairs: tuple[str, str]) -> tuple[PersonState, PersonState]:
    """``a`` and ``b`` with the relations ``(a's kind of b, b's kind of a)``, registered on both sides."""
    from dataclasses import replace

    from sygesikring_tui.domain.model import Relation, RelationKind

    ra = tuple(Relation(RelationKind(k), b.cpr, b.person.name) for k, _ in pairs)
    rb = tuple(Relation(RelationKind(k), a.cpr, a.person.name) for _, k in pairs)
    return replace(a, relations=a.relations + ra), replace(b, relations=b.relations + rb)


class ForcingCase:
    """A forced doctor choice for ``cpr`` among ``states``: the rule holds (``ok``) or not."""

    def __init__(self, rule: str, ok: bool, states: list[PersonState], cpr: str, payload: dict) -> None:
        self.rule, self.ok, self.states, self.cpr, self.payload = rule, ok, states, cpr, payload

    def __repr__(self) -> str:
        return f"{self.rule}-{'holds' if self.ok else 'fails'}"


def _forced(prov: Provider, rule: str, **extra) -> dict:
    return {"provider_number": prov.provider_number, "practice_name": prov.practice_name, "reason": "selvvalgt",
            "effective": RULE_DAY.isoformat(), "forced": True, "force_rule": rule, "fee": dict(PAID), **extra}


def forcing_cases() -> list[ForcingCase]:
    """For every forcing rule in domain.forcing.RULES, one case where it holds, one where not."""
    from dataclasses import replace

    from sygesikring_tui.domain.model import CprNumberChange

    out: list[ForcingCase] = []
    # cohabitant (2.3.1): a spouse's closed doctor; a parent/child relation besides blocks it
    me, partner = a_person(a_cpr(seed=11)), with_doctor(a_person(a_cpr(date(1986, 2, 3), False, 12), doctor=None),
                                                        CLOSED)
    me_ok, partner_ok = related(me, partner, ("spouse", "spouse"))
    me_bad, partner_bad = related(me, partner, ("spouse", "spouse"), ("parent", "child"))
    pay = _forced(CLOSED, "cohabitant", via_cpr=partner.cpr)
    out += [ForcingCase("cohabitant", True, [me_ok, partner_ok], me.cpr, pay),
            ForcingCase("cohabitant", False, [me_bad, partner_bad], me.cpr, pay)]
    # renumbering (2.7.5): the old number's doctor moves to the new number
    old = with_doctor(a_person(a_cpr(date(1980, 4, 4), seed=21), doctor=None), CLOSED)
    new = a_person(a_cpr(date(1980, 4, 4), seed=22), doctor=None)
    changed = replace(new, cpr_changes=(CprNumberChange(old.cpr, new.cpr, date(2026, 2, 20)),))
    pay = _forced(CLOSED, "renumbering")
    out += [ForcingCase("renumbering", True, [old, changed], new.cpr, pay),
            ForcingCase("renumbering", False, [old, new], new.cpr, pay)]
    # group2_to_1 (2.6.5): from group 2 into group 1 on the day
    p = a_person(a_cpr(date(1975, 7, 7), seed=31), doctor=None)
    via2 = replace(p, groups=(GroupRegistration("g2", 2, date(2020, 1, 1), RULE_DAY),
                              GroupRegistration("g1", 1, RULE_DAY)))
    out += [ForcingCase("group2_to_1", True, [via2], p.cpr, _forced(CLOSED, "group2_to_1")),
            ForcingCase("group2_to_1", False, [p], p.cpr, _forced(CLOSED, "group2_to_1"))]
    # return_to_last_gp (DOMAIN): back from group 4 to the last group 1 GP, that GP only
    p = a_person(a_cpr(date(1970, 8, 8), seed=41), doctor=None)
    back = replace(p, groups=(GroupRegistration("g1a", 1, date(2010, 1, 2), date(2020, 1, 1)),
                              GroupRegistration("g4", 4, date(2020, 1, 1), date(2025, 6, 1)),
                              GroupRegistration("g1b", 1, date(2025, 6, 1))))
    back = with_doctor(back, CLOSED, end=date(2020, 1, 1))
    out += [ForcingCase("return_to_last_gp", True, [back], p.cpr, _forced(CLOSED, "return_to_last_gp")),
            ForcingCase("return_to_last_gp", False, [back], p.cpr, _forced(CLOSED2, "return_to_last_gp"))]
    # turning_15 (DOMAIN): a child of 15 choosing a parent's GP
    parent = with_doctor(a_person(a_cpr(date(1980, 1, 3), False, 51), doctor=None), CLOSED)
    for ok, born, seed in ((True, date(2011, 1, 5), 52), (False, date(2013, 1, 5), 53)):
        child, par = related(a_person(a_cpr(born, seed=seed)), parent, ("parent", "child"))
        out.append(ForcingCase("turning_15", ok, [child, par], child.cpr, _forced(CLOSED, "turning_15")))
    # no_open_within_reach (DOMAIN): at Skagen only one open practice is within 15 km
    far = a_person(a_cpr(date(1990, 9, 9), seed=61))
    far = replace(far, person=replace(far.person, address=SKAGEN))
    near = a_person(a_cpr(date(1990, 9, 9), seed=62))
    out += [ForcingCase("no_open_within_reach", True, [far], far.cpr, _forced(CLOSED, "no_open_within_reach")),
            ForcingCase("no_open_within_reach", False, [near], near.cpr, _forced(CLOSED, "no_open_within_reach"))]
    # doctor_accepted (DOMAIN): needs the written basis
    p = a_person(a_cpr(date(1960, 10, 10), seed=71))
    out += [ForcingCase("doctor_accepted", True, [p], p.cpr,
                        _forced(CLOSED, "doctor_accepted", force_basis="Læge Hansen accepterede 1. marts")),
            ForcingCase("doctor_accepted", False, [p], p.cpr, _forced(CLOSED, "doctor_accepted"))]
    return out
