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
