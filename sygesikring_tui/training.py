"""The deterministic synthetic training store.

``build(path, tasks=N, seed=S)`` (re)builds a case store full of synthetic persons, practices
and open manual tasks, so a caseworker can practise every workaround without touching a real
person. The same seed, task count and reference date give the same content, byte for byte:
every random choice comes from one ``random.Random(seed)`` and every date is relative to
``today``.

Every CPR number is made by :func:`domain.cpr.synthetic` (a number no real person holds).
Each task's person is put in the state the guide describes for its event (a conscript in
group 1, a state-posted citizen with a supplementary address and the caseworker's note, a
renumbered person whose old number is still in the store, ...) and the task's suggested
workaround comes from the catalogue's own suggestion rules, never from this module.

The store is built into a temporary file next to ``path`` and moved into place atomically,
so a crash mid-build never leaves half a store behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import queue
import random
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from . import i18n
from .catalogue import Catalogue, load_catalogue
from .domain import cpr as cprmod
from .domain import rules
from .domain.cpr_event_tasks import task_for_event
from .domain.operations import case_time_detail
from .domain.model import (
    Address,
    AddressEntry,
    CardStatus,
    ChoiceStatus,
    CprEvent,
    CprNumberChange,
    DoctorChoice,
    Fee,
    GroupRegistration,
    HealthCard,
    HistoryEntry,
    Note,
    Person,
    PersonState,
    Provider,
    Relation,
    RelationKind,
    Sex,
    Task,
    TaskStatus,
)
from .store.db import open_store, person_row, task_row, write_person_rows

ProgressFn = Callable[[int, int], None]

# Greenland has no entry in municipalities.json; CPR's codes for Greenland are 9xx
# (domain.workarounds.is_greenland). The towns come from municipalities.json.
GREENLAND_CODE_BASE = 955

# Places abroad for supplementary addresses and emigration (synthetic street names).
ABROAD = (
    ("Calle Mayor 12", "Málaga", "ES", "Spanien", 36.721, -4.421),
    ("Rue de Rivoli 40", "Paris", "FR", "Frankrig", 48.857, 2.352),
    ("Friedrichstraße 88", "Berlin", "DE", "Tyskland", 52.520, 13.405),
    ("Via Roma 7", "Rom", "IT", "Italien", 41.903, 12.496),
    ("Drottninggatan 21", "Stockholm", "SE", "Sverige", 59.329, 18.069),
    ("Karl Johans gate 5", "Oslo", "NO", "Norge", 59.913, 10.752),
    ("Baker Street 19", "London", "GB", "Storbritannien", 51.507, -0.128),
    ("Main Street 301", "Washington", "US", "USA", 38.907, -77.037),
)
EMBASSIES = ("Berlin", "Paris", "London", "Washington", "Bruxelles", "Genève", "New York", "Tokyo",
             "Nairobi", "Kabul", "Beijing", "Stockholm")

AUTHORS = ("AH", "BKL", "CM", "DJ", "EP", "FN", "GS", "HT")

INVERSE = {
    RelationKind.SPOUSE: RelationKind.SPOUSE,
    RelationKind.COHABITANT: RelationKind.COHABITANT,
    RelationKind.PARENT: RelationKind.CHILD,
    RelationKind.CHILD: RelationKind.PARENT,
    RelationKind.RESIDENCE_PARENT: RelationKind.RESIDENCE_CHILD,
    RelationKind.RESIDENCE_CHILD: RelationKind.RESIDENCE_PARENT,
    RelationKind.GUARDIAN: RelationKind.WARD,
    RelationKind.WARD: RelationKind.GUARDIAN,
}

# Scenario weights: roughly how many tasks of each kind per 100.
SCENARIOS: tuple[tuple[str, int], ...] = (
    ("conscript", 8),
    ("state_posted", 5),
    ("short_stay", 5),
    ("discharge", 9),
    ("renumbering", 4),  # one task on the new number, one per relation
    ("rediscovery", 8),
    ("immigration", 6),
    ("to_greenland", 2),
    ("emigrated", 2),
    ("from_greenland", 3),
    ("host_move", 8),
    ("child_home", 2),
    ("sentence_start", 3),
    ("sentence_end", 4),
    ("guardianship", 4),
    ("name_change", 4),
    ("marriage", 3),
    ("luna_forced", 5),
    ("luna_dispensation", 4),
    ("practice_transfer", 4),
    ("plo_free_choice", 3),
)

CLOSED_SHARE = 0.12
# The team on the training inbox (initials, name, team lead): the trainee (the fixed identity
# of training mode, store.session.TRAINEE) and two colleagues. A share of the open tasks is
# claimed by one of them, so the inbox's Mine / Ikke taget / Alle filters have something to show.
TEAM = (("KUR", "Kursist", True), ("AB", "Anne Bech", False), ("CD", "Carl Dam", False))
CLAIMED_SHARE = 0.3
# How often a scenario is followed by a background household (2.3.1 state, no task).
BACKGROUND_SHARE = 0.02
SUPPLEMENTARY_NOTE = ("Supplerende adresse oprettet i CPR ({place}). Den kommende CPR-hændelse 038 "
                      "'Indkaldelse til militæret' vedrører en statsudsendt borger og ikke en værnepligtig "
                      "– intet sikringsgruppeskift.")


# --- the mutable person under construction ------------------------------------------------


@dataclass
class _P:
    cpr: str
    name: str
    birth: date
    sex: Sex
    address: Address
    cpr_status: str = "01"
    luna_known: bool = True
    supplementary_address: str | None = None
    name_changed_on: date | None = None
    married_on: date | None = None
    relations: list[tuple[RelationKind, str, date | None]] = field(default_factory=list)
    addresses: list[AddressEntry] = field(default_factory=list)
    cpr_changes: list[CprNumberChange] = field(default_factory=list)
    groups: list[GroupRegistration] = field(default_factory=list)
    doctors: list[DoctorChoice] = field(default_factory=list)
    cards: list[HealthCard] = field(default_factory=list)
    events: list[CprEvent] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # (event_code, event_id, received, closed_reason or None)
    task_specs: list[tuple[str, str | None, date, str | None]] = field(default_factory=list)

    @property
    def last_name(self) -> str:
        return self.name.rsplit(" ", 1)[-1]


def person_doc(state: PersonState) -> str:
    """The ``persons.doc`` text Store.save_person writes for ``state`` (tasks live in ``tasks``)."""
    return person_row(state)[4]


# --- the generator ---------------------------------------------------------------------


class _Gen:
    def __init__(self, cat: Catalogue, rng: random.Random, today: date, shard: int = 0, shards: int = 1) -> None:
        self.cat = cat
        self.rng = rng
        self.today = today
        # Shards are built in parallel; each uses only birth dates whose ordinal is its own
        # residue modulo ``shards``, so no two shards can ever make the same CPR number.
        self.shard = shard
        self.shards = shards
        self.shard_tag = f"{shard:03d}"
        self._random = rng.random
        self.names = cat.names
        self.munis = list(cat.municipalities)
        self.greenland = [
            (GREENLAND_CODE_BASE + i, t) for i, t in enumerate(getattr(cat, "greenland_towns", None) or [])
        ] or [(GREENLAND_CODE_BASE, {"name": "Nuuk", "lat": 64.181, "lon": -51.694, "postcode": "3900"})]
        self.persons: dict[str, _P] = {}
        self.order: list[str] = []
        self.providers: dict[str, Provider] = {}
        self.open_by_muni: dict[int, list[Provider]] = {}
        self.closed_by_muni: dict[int, list[Provider]] = {}
        self.counter = 0
        self.tasks_made = 0
        self.retired = cat.retired()
        # The youngest birth date a synthetic CPR number allows, and the oldest.
        self.latest_birth = min(today - timedelta(days=2), date(getattr(cprmod, "SYNTHETIC_LAST_YEAR", 9999), 12, 31))
        self.earliest_birth = date(cprmod.SYNTHETIC_FIRST_YEAR, 1, 2)

    # -- small helpers ------------------------------------------------------------------
    def nid(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.shard_tag}{self.counter:08d}"

    # ``random.Random.randint`` and ``choice`` cost a few Python calls each; the build makes
    # millions of draws. These take one ``random()`` each (the same seed, the same draws).
    def ri(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return lo + int(self._random() * (hi - lo + 1))

    def pick(self, seq: Any) -> Any:
        return seq[int(self._random() * len(seq))]

    def days_ago(self, lo: int, hi: int) -> date:
        return self.today - timedelta(days=self.ri(lo, hi))

    def ts(self, d: date) -> str:
        r = self.rng
        return f"{d.isoformat()}T{self.ri(8, 15):02d}:{self.ri(0, 59):02d}:00+01:00"

    def birth(self, lo_age: int, hi_age: int) -> date:
        """A birth date giving an age in [lo_age, hi_age] today, inside the synthetic range."""
        t = self.today
        latest = min(_years_before(t, lo_age), self.latest_birth)
        earliest = max(_years_before(t, hi_age + 1) + timedelta(days=1), self.earliest_birth)
        if earliest > latest:  # the synthetic range cannot give this age: the nearest year it can
            if latest == self.latest_birth:
                earliest = self.latest_birth - timedelta(days=364)
            else:
                earliest, latest = self.earliest_birth, self.earliest_birth + timedelta(days=364)
        d = earliest + timedelta(days=self.ri(0, (latest - earliest).days))
        n = self.shards
        step = timedelta(days=n)
        d += timedelta(days=(self.shard - d.toordinal()) % n)  # this shard's dates only
        if d.day == 1:
            d += step
        while d > latest or d.day == 1:
            d -= step
        return d

    def age(self, p: _P) -> int:
        t, b = self.today, p.birth
        return t.year - b.year - ((t.month, t.day) < (b.month, b.day))

    def new_cpr(self, born: date, male: bool) -> str:
        while True:
            c = cprmod.synthetic(born, male, self.rng)
            if c not in self.persons:  # every number made so far, kept after its person is written
                return c

    def first_name(self, sex: Sex) -> str:
        return self.pick(self.names["first_male"] if sex == Sex.MALE else self.names["first_female"])

    def muni(self):
        return self.pick(self.munis)

    def address(self, m, near: Address | None = None) -> Address:
        r = self.rng
        street = f"{self.pick(self.names['streets'])} {self.ri(1, 160)}"
        if r.random() < 0.3:
            street += f", {self.ri(1, 5)}. {self.pick(('th', 'tv', 'mf'))}"
        return Address(street, m.postcode, m.city, m.code, round(m.lat + r.uniform(-0.03, 0.03), 5),
                       round(m.lon + r.uniform(-0.05, 0.05), 5))

    def greenland_address(self) -> Address:
        code, town = self.pick(self.greenland)
        r = self.rng
        return Address(f"{self.pick(('Aqqusinersuaq', 'Imaneq', 'Qullilerfik', 'Issortarfimmut'))} {self.ri(1, 60)}",
                       str(town.get("postcode", "3900")), town["name"], code,
                       round(town["lat"] + r.uniform(-0.01, 0.01), 5), round(town["lon"] + r.uniform(-0.02, 0.02), 5))

    def abroad_address(self, muni_code: int) -> tuple[Address, str]:
        street, city, _cc, country, lat, lon = self.pick(ABROAD)
        return Address(street, "", f"{city}, {country}", muni_code, lat, lon), f"{street}, {city}, {country}"

    def fee(self, paid: bool, when: date, reason: str) -> Fee:
        return Fee(True, self.cat.card_fee(when.year), reason) if paid else Fee(False, 0, reason)

    # -- providers ------------------------------------------------------------------------
    def make_providers(self, r: random.Random) -> None:
        prefixes = self.names["practice_prefix"]
        streets = self.names["streets"]
        used: set[str] = set()
        for m in self.munis:
            n = r.randint(4, 10) + (20 if m.code in rules.FIVE_KM_MUNICIPALITIES else 0)
            for _ in range(n):
                while True:
                    number = f"{r.randint(10000, 99999):06d}"
                    if number not in used:
                        used.add(number)
                        break
                street = r.choice(streets)
                addr = f"{street} {r.randint(1, 120)}, {m.postcode} {m.city}"
                p = Provider(number, f"{r.choice(prefixes)} {street}", r.random() >= 0.3, m.code,
                             round(m.lat + r.uniform(-0.025, 0.025), 5), round(m.lon + r.uniform(-0.04, 0.04), 5),
                             addr)
                self.providers[number] = p
                (self.open_by_muni if p.open else self.closed_by_muni).setdefault(m.code, []).append(p)
        self._provider_list = list(self.providers.values())

    def provider_in(self, code: int, open_: bool | None = True) -> Provider:
        """A practice in municipality ``code`` (open, closed, or either)."""
        if code not in self.open_by_muni and code not in self.closed_by_muni:  # Greenland: any Danish
            code = self.pick(self.munis).code
        opened = self.open_by_muni.get(code, [])
        closed = self.closed_by_muni.get(code, [])
        pool = opened if open_ else closed if open_ is False else opened + closed
        if not pool:  # none of that kind here: one from anywhere
            pool = [p for p in self._provider_list if open_ is None or p.open == open_]
        return self.pick(pool)

    # -- persons ------------------------------------------------------------------------
    def person(self, lo_age: int, hi_age: int, sex: Sex | None = None, last: str | None = None,
               m=None, address: Address | None = None) -> _P:
        r = self.rng
        sex = sex or (Sex.MALE if r.random() < 0.5 else Sex.FEMALE)
        born = self.birth(lo_age, hi_age)
        c = self.new_cpr(born, sex == Sex.MALE)
        last = last or self.pick(self.names["last"])
        name = f"{self.first_name(sex)} {last}"
        if r.random() < 0.15:
            middle = self.first_name(sex)
            if not name.startswith(f"{middle} "):  # never "Erik Erik Rasmussen"
                name = f"{middle} {name}"
        m = m or self.muni()
        address = address or self.address(m)
        p = _P(c, name, born, sex, address)
        self.persons[c] = p
        self.order.append(c)
        return p

    def base_history(self, p: _P, *, moved_in: date | None = None, group: int = 1,
                     doctor_open: bool | None = True, with_doctor: bool = True,
                     future_switch: bool = False, lean: bool = False) -> None:
        """Address, group, doctor and card history of an ordinary insured person.

        ``lean`` is for the people around a task's person (partners, children, hosts,
        guardians): only what they hold now (address, group, doctor and card, a future
        switch if asked), without the earlier address, group episodes, doctor and note.
        """
        r = self.rng
        adult_at = _years_after(p.birth, 18)
        moved_in = moved_in or max(adult_at, self.today - timedelta(days=self.ri(200, 6000)))
        moved_in = max(moved_in, p.birth + timedelta(days=1))
        if moved_in > self.today:
            moved_in = self.today - timedelta(days=self.ri(30, 300))
        # For half of them an earlier address in another municipality, and the move into this one.
        if lean or r.random() < 0.5:
            first_start = moved_in
        else:
            first_start = max(p.birth, moved_in - timedelta(days=self.ri(400, 4000)))
        if first_start < moved_in:
            p.addresses.append(AddressEntry(first_start, self.address(self.muni())))
        p.addresses.append(AddressEntry(moved_in, p.address))
        if first_start < moved_in:
            p.events.append(CprEvent(self.nid("E"), "034", moved_in, moved_in + timedelta(days=1),
                                     {"municipality_code": p.address.municipality_code}))
        # Groups: group 1 since the move, sometimes an episode of 2 or (young men) 5 before it.
        start = moved_in
        if lean:
            pass
        elif r.random() < 0.08:
            g2 = moved_in - timedelta(days=self.ri(400, 2000))
            if g2 > p.birth:
                p.groups.append(GroupRegistration(self.nid("G"), 2, g2, moved_in, "Eget valg"))
        elif p.sex == Sex.MALE and r.random() < 0.1:
            s5 = moved_in - timedelta(days=self.ri(200, 500))
            if s5 > adult_at:
                p.groups.append(GroupRegistration(self.nid("G"), 1, max(adult_at, s5 - timedelta(days=800)), s5, ""))
                p.groups.append(GroupRegistration(self.nid("G"), 5, s5, moved_in, "Indkaldt til værnepligt"))
        elif r.random() < 0.02:
            s4 = moved_in - timedelta(days=self.ri(200, 700))
            if s4 > adult_at:
                p.groups.append(GroupRegistration(self.nid("G"), 4, s4, moved_in, "Afsoning"))
        if group == 2:
            g2 = self.today - timedelta(days=self.ri(30, 900))
            g2 = max(g2, moved_in + timedelta(days=1))
            p.groups.append(GroupRegistration(self.nid("G"), 1, start, g2, "Tilflytning"))
            p.groups.append(GroupRegistration(self.nid("G"), 2, g2, None, "Eget valg"))
        else:
            p.groups.append(GroupRegistration(self.nid("G"), 1, start, None, "Tilflytning"))
        if with_doctor and group == 1:
            if not lean and r.random() < 0.25:  # an earlier doctor in the same municipality
                mid = moved_in + timedelta(days=self.ri(0, max(0, (self.today - moved_in).days - 40)))
                if mid > moved_in:
                    old = self.provider_in(p.address.municipality_code, None)
                    self.choose(p, old, moved_in, "Flytning", paid=False, end=mid)
                    self.choose(p, self.provider_in(p.address.municipality_code, doctor_open), mid, "Selvvalgt",
                                paid=True)
                else:
                    self.choose(p, self.provider_in(p.address.municipality_code, doctor_open), moved_in, "Flytning",
                                paid=False)
            else:
                self.choose(p, self.provider_in(p.address.municipality_code, doctor_open), moved_in, "Flytning",
                            paid=False)
        if future_switch:
            eff = self.today + timedelta(days=self.ri(5, 60))
            p.groups.append(GroupRegistration(self.nid("G"), self.pick((2, 2, 2, 4, 7)), eff, None,
                                              "Fremtidigt sikringsgruppeskift"))
        if not lean and r.random() < 0.1:
            self.note(p, self.days_ago(40, 400), self.pick((
                "Borger ringede og spurgte til sit sundhedskort.",
                "Borger oplyst om reglerne for lægevalg inden for 15 km.",
                "Borger henvist til selvbetjening på borger.dk.",
                "Kopi af sundhedskort bestilt efter henvendelse.",
            )))

    def choose(self, p: _P, prov: Provider, eff: date, reason: str, *, paid: bool, end: date | None = None,
               status: ChoiceStatus | None = None, card: CardStatus | None = CardStatus.SENT,
               forced: bool = False, force_rule: str | None = None, fee_reason: str | None = None) -> DoctorChoice:
        """Record a doctor choice from ``eff`` (ending the one before it) and its health card."""
        for i, d in enumerate(p.doctors):
            if d.end is None and d.effective <= eff:
                p.doctors[i] = dataclasses.replace(d, end=eff, status=ChoiceStatus.ENDED)
        fee = self.fee(paid, eff, fee_reason or ("Eget ønske" if paid else reason))
        st = status or (ChoiceStatus.ENDED if end is not None else ChoiceStatus.APPROVED)
        until = eff + timedelta(days=rules.PROVISIONAL_DAYS) if st == ChoiceStatus.PROVISIONAL else None
        ch = DoctorChoice(self.nid("D"), prov.provider_number, prov.practice_name, reason, eff, end, st,
                          forced, force_rule, fee, until)
        p.doctors.append(ch)
        if card is not None:
            p.cards.append(HealthCard(self.nid("K"), card, eff, fee, f"Lægevalg: {reason}"))
        return ch

    def note(self, p: _P, when: date, text: str) -> None:
        p.notes.append(Note(self.nid("N"), self.ts(when), self.pick(AUTHORS), text))

    def link(self, a: _P, b: _P, kind: RelationKind, since: date | None) -> None:
        """A relation recorded on both persons: ``b`` is ``a``'s <kind>."""
        a.relations.append((kind, b.cpr, since))
        b.relations.append((INVERSE[kind], a.cpr, since))

    def household(self, p: _P, *, partner: bool | None = None, children: int | None = None) -> list[_P]:
        """A spouse or cohabitant at the same address and children (at home or moved out)."""
        r = self.rng
        made: list[_P] = []
        age = self.age(p)
        if partner is None:
            partner = age >= 22 and r.random() < 0.25
        if partner:
            sex = Sex.FEMALE if p.sex == Sex.MALE else Sex.MALE
            if r.random() < 0.05:
                sex = p.sex
            spouse = r.random() < 0.6
            q = self.person(max(19, age - 6), min(95, age + 6), sex, p.last_name if spouse else None,
                            address=p.address)
            self.base_history(q, moved_in=p.addresses[-1].start if p.addresses else None,
                              doctor_open=None, group=2 if r.random() < 0.1 else 1, lean=True)
            since = max(p.birth, q.birth) + timedelta(days=365 * 20 + self.ri(0, 3000))
            since = min(since, self.today - timedelta(days=30))
            if spouse:
                q.married_on = p.married_on = p.married_on or since
                self.link(p, q, RelationKind.SPOUSE, since)
            else:
                self.link(p, q, RelationKind.COHABITANT, since)
            made.append(q)
        if children is None:
            children = self.pick((0, 0, 0, 0, 1, 2)) if 40 <= age <= 75 else 0
        for _ in range(children):
            c_hi = max(19, age - 20)
            c = self.person(19, max(19, min(c_hi, 45)), last=p.last_name, address=None)
            at_home = self.age(c) < 23 and r.random() < 0.6
            if at_home:
                c.address = p.address
            self.base_history(c, moved_in=None if not at_home else p.addresses[-1].start, doctor_open=None,
                              group=2 if r.random() < 0.05 else 1, future_switch=r.random() < 0.03, lean=True)
            self.link(c, p, RelationKind.PARENT, c.birth)
            for q in made:
                if q.relations and any(k == RelationKind.SPOUSE and o == p.cpr for k, o, _ in q.relations):
                    self.link(c, q, RelationKind.PARENT, c.birth)
            if at_home:
                self.link(c, p, RelationKind.RESIDENCE_PARENT, c.birth)
            made.append(c)
        return made

    def task(self, p: _P, code: str, received: date, data: dict[str, Any] | None = None,
             closed: str | None = None, event_date: date | None = None) -> CprEvent:
        ev = self.cat.events.get(code)
        source = ev.source if ev else "CPR"
        if event_date is None:
            event_date = received - timedelta(days=1) if source == "CPR" else received
        e = CprEvent(self.nid("E"), code, event_date, received, data or {})
        p.events.append(e)
        p.task_specs.append((code, e.id, received, closed))
        self.tasks_made += 1
        return e

    def received(self) -> tuple[date, str | None]:
        """A received date in the last 30 days, and a closed reason for some older tasks."""
        r = self.rng
        if r.random() < CLOSED_SHARE:
            return self.days_ago(8, 29), self.pick(("Behandlet", "Behandlet – intet at foretage",
                                                   "Løst efter vejledning", "Lukket efter telefonisk kontakt"))
        return self.days_ago(0, 29), None

    # -- scenarios ------------------------------------------------------------------------
    def sc_conscript(self) -> None:
        """038 for a young man in group 1: a real call-up (2.4.1)."""
        rec, closed = self.received()
        p = self.person(18, 24, Sex.MALE)
        self.base_history(p)
        self.household(p, partner=False, children=0)
        self.task(p, "038", rec, {"type": "indkaldelse"}, closed)

    def _supplementary(self, p: _P, start: date, place: str, addr: Address) -> None:
        p.supplementary_address = place
        p.addresses.append(AddressEntry(start, addr, supplementary=True))

    def sc_state_posted(self) -> None:
        """038 after a supplementary address for a state-posted citizen, with the note (2.5.1)."""
        rec, closed = self.received()
        p = self.person(26, 62)
        self.base_history(p)
        self.household(p)
        city = self.pick(EMBASSIES)
        addr = Address(f"c/o Danmarks Ambassade {city}", "", city, p.address.municipality_code,
                       p.address.lat, p.address.lon)
        entered = rec - timedelta(days=1)
        self._supplementary(p, entered, f"c/o Danmarks Ambassade, {city}", addr)
        self.note(p, entered, SUPPLEMENTARY_NOTE.format(place=f"Danmarks Ambassade, {city}"))
        self.task(p, "038", rec, {"type": "indkaldelse"}, closed)

    def sc_short_stay(self) -> None:
        """038 after a supplementary address for a short stay abroad, no note (2.7.6)."""
        rec, closed = self.received()
        p = self.person(20, 85)
        self.base_history(p)
        self.household(p)
        addr, text = self.abroad_address(p.address.municipality_code)
        self._supplementary(p, rec - timedelta(days=1), text, addr)
        self.task(p, "038", rec, {"type": "indkaldelse"}, closed)

    def sc_discharge(self) -> None:
        """039 for a person in group 5; some moved during service (2.4.1, 3.1.7)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(19, 27, Sex.MALE if r.random() < 0.85 else Sex.FEMALE)
        s5 = rec - timedelta(days=self.ri(120, 400))
        self.base_history(p, moved_in=s5 - timedelta(days=self.ri(200, 1500)))
        cur = p.groups[-1]
        p.groups[-1] = dataclasses.replace(cur, end=s5)
        p.groups.append(GroupRegistration(self.nid("G"), 5, s5, None, "Indkaldt til værnepligt"))
        for i, d in enumerate(p.doctors):
            if d.end is None:
                p.doctors[i] = dataclasses.replace(d, end=s5, status=ChoiceStatus.ENDED)
        taken = r.random() < 0.5
        if taken and p.cards:
            p.cards[-1] = dataclasses.replace(p.cards[-1], status=CardStatus.CANCELLED,
                                              reason="Inddraget ved indkaldelse")
        if r.random() < 0.35:  # moved during service: a new municipality after the group 5 start
            moved = s5 + timedelta(days=self.ri(20, max(21, (rec - s5).days - 5)))
            m = self.muni()
            while m.code == p.address.municipality_code:
                m = self.muni()
            p.address = self.address(m)
            p.addresses.append(AddressEntry(moved, p.address))
            p.events.append(CprEvent(self.nid("E"), "034", moved, moved + timedelta(days=1),
                                     {"municipality_code": m.code}))
        self.household(p, partner=False, children=0)
        self.task(p, "039", rec, {"type": "hjemsendelse"}, closed)

    def sc_renumbering(self) -> None:
        """P03 on a new number (old number still in group 1 with a doctor) and on its relations."""
        r = self.rng
        rec, closed = self.received()
        changed = rec - timedelta(days=1)
        old = self.person(20, 80)
        self.base_history(old, doctor_open=False if r.random() < 0.4 else True)
        old.cpr_status = "60"
        new_cpr = self.new_cpr(old.birth, old.sex == Sex.MALE)
        new = _P(new_cpr, old.name, old.birth, old.sex, old.address)
        self.persons[new_cpr] = new
        self.order.append(new_cpr)
        change = CprNumberChange(old.cpr, new_cpr, changed)
        old.cpr_changes.append(change)
        new.cpr_changes.append(change)
        new.addresses = list(old.addresses)
        new.groups.append(GroupRegistration(self.nid("G"), 1, changed, None, "Omnummerering"))
        self.note(old, changed, f"Personnummeret er ændret til {cprmod.format_cpr(new_cpr)}.")
        fam = self.household(new, partner=r.random() < 0.7, children=self.pick((0, 1, 1, 2)))
        self.task(new, "P03", rec, {"old_cpr": old.cpr, "new_cpr": new_cpr}, closed)
        for q in fam:
            rec_q = rec
            self.task(q, "P03", rec_q, {"related_cpr": new_cpr}, closed)

    def sc_rediscovery(self) -> None:
        """011 (due the same day): previous doctor closed; some already with a missing choice (2.7.3)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(20, 80)
        missing_since = rec - timedelta(days=self.ri(120, 900))
        self.base_history(p, moved_in=missing_since - timedelta(days=self.ri(300, 3000)), doctor_open=False)
        p.events.append(CprEvent(self.nid("E"), "010", missing_since, missing_since + timedelta(days=1), {}))
        for i, d in enumerate(p.doctors):
            if d.end is None:
                p.doctors[i] = dataclasses.replace(d, end=missing_since, status=ChoiceStatus.ENDED)
        # The group stays 1 (rediscovery restores it); the address may be new.
        if r.random() < 0.4:
            p.address = self.address(self.pick(self.munis))
            p.addresses.append(AddressEntry(rec - timedelta(days=1), p.address))
        if rec < self.today and r.random() < 0.6:  # not solved the same day
            p.doctors.append(DoctorChoice(self.nid("D"), "", "", "Manglende lægevalg", rec + timedelta(days=1),
                                          None, ChoiceStatus.MISSING))
        self.household(p, partner=False, children=0)
        self.task(p, "011", rec, {}, closed)

    def sc_immigration(self) -> None:
        """014: re-immigrated, doctor given automatically, card ordered with it (2.1.1)."""
        r = self.rng
        rec, closed = self.received()
        arrived = rec - timedelta(days=1)
        p = self.person(20, 70)
        left = arrived - timedelta(days=self.ri(300, 3000))
        self.base_history(p, moved_in=left - timedelta(days=self.ri(300, 3000)))
        p.groups[-1] = dataclasses.replace(p.groups[-1], end=left)
        p.groups.append(GroupRegistration(self.nid("G"), 7, left, arrived, "Udrejst"))
        p.groups.append(GroupRegistration(self.nid("G"), 1, arrived, None, "Indrejse"))
        for i, d in enumerate(p.doctors):
            if d.end is None:
                p.doctors[i] = dataclasses.replace(d, end=left, status=ChoiceStatus.ENDED)
        _s, _c, cc, country, _la, _lo = self.pick(ABROAD)
        p.events.append(CprEvent(self.nid("E"), "013", left, left + timedelta(days=1), {"country": cc}))
        m = self.muni()
        p.address = self.address(m)
        p.addresses.append(AddressEntry(arrived, p.address))
        # The card is produced some days after ordering: recent arrivals can still cancel it.
        age_days = (self.today - arrived).days
        card = CardStatus.ORDERED if age_days <= 3 or r.random() < 0.3 else self.pick(
            (CardStatus.PRODUCED, CardStatus.SENT))
        self.choose(p, self.provider_in(m.code, True), arrived, "Automatisk tildelt", paid=False, card=card,
                    fee_reason="Indrejse")
        self.household(p, partner=r.random() < 0.3, children=0)
        self.task(p, "014", rec, {"country": cc, "country_name": country}, closed)

    def sc_to_greenland(self) -> None:
        """013 to Greenland: still in group 1 with a doctor, some with future registrations (2.2.1)."""
        r = self.rng
        rec, closed = self.received()
        moved = rec - timedelta(days=1)
        p = self.person(20, 75)
        self.base_history(p)
        if r.random() < 0.5:
            p.groups.append(GroupRegistration(self.nid("G"), 2, self.today + timedelta(days=self.ri(5, 40)), None,
                                              "Eget valg"))
        if r.random() < 0.4:
            self.choose(p, self.provider_in(p.address.municipality_code, True),
                        self.today + timedelta(days=self.ri(3, 30)), "Selvvalgt", paid=True, card=None)
        p.address = self.greenland_address()
        p.addresses.append(AddressEntry(moved, p.address))
        p.cpr_status = "05"
        self.task(p, "013", rec, {"country": "GL", "country_name": "Grønland"}, closed)

    def sc_emigrated(self) -> None:
        """013 to another country (no workaround)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(20, 80)
        self.base_history(p)
        _s, _c, cc, country, _la, _lo = self.pick(ABROAD)
        p.cpr_status = "80"
        self.task(p, "013", rec, {"country": cc, "country_name": country}, closed)

    def sc_from_greenland(self) -> None:
        """034 after a move from Greenland: group 1 with an automatic doctor, or not yet (2.2.1)."""
        r = self.rng
        rec, closed = self.received()
        back = rec - timedelta(days=1)
        p = self.person(20, 70)
        went = back - timedelta(days=self.ri(300, 3000))
        self.base_history(p, moved_in=went - timedelta(days=self.ri(300, 3000)))
        p.groups[-1] = dataclasses.replace(p.groups[-1], end=went)
        p.groups.append(GroupRegistration(self.nid("G"), 7, went, None, "Udrejst til Grønland"))
        for i, d in enumerate(p.doctors):
            if d.end is None:
                p.doctors[i] = dataclasses.replace(d, end=went, status=ChoiceStatus.ENDED)
        p.addresses.append(AddressEntry(went, self.greenland_address()))
        m = self.muni()
        p.address = self.address(m)
        p.addresses.append(AddressEntry(back, p.address))
        if rec < self.today and r.random() < 0.7:  # the next day's event did its work
            g7 = p.groups[-1]
            p.groups[-1] = dataclasses.replace(g7, end=rec)
            p.groups.append(GroupRegistration(self.nid("G"), 1, rec, None, "Tilflytning fra Grønland"))
            self.choose(p, self.provider_in(m.code, True), rec, "Automatisk tildelt", paid=False,
                        card=CardStatus.ORDERED, fee_reason="Tilflytning")
        self.task(p, "034", rec, {"from": "GL", "municipality_code": m.code}, closed)

    def sc_host_move(self) -> None:
        """034/036: moved in with a host whose doctor is (mostly) closed (2.3.2, 2.3.1)."""
        r = self.rng
        rec, closed = self.received()
        moved = rec - timedelta(days=1)
        host = self.person(25, 80)
        self.base_history(host, doctor_open=r.random() < 0.2, lean=True)
        within = r.random() < 0.4
        if within:
            m_old = next(m for m in self.munis if m.code == host.address.municipality_code)
        else:
            m_old = self.muni()
        p = self.person(20, 80, Sex.FEMALE if host.sex == Sex.MALE else Sex.MALE, m=m_old)
        self.base_history(p, future_switch=r.random() < 0.04)
        p.address = host.address
        p.addresses.append(AddressEntry(moved, host.address))
        self.link(p, host, RelationKind.COHABITANT, moved)
        self.task(p, "036" if within else "034", rec,
                  {"municipality_code": host.address.municipality_code, "host": True}, closed)

    def sc_child_home(self) -> None:
        """036: a parent takes home a child who did not live with them (2.7.8)."""
        r = self.rng
        rec, closed = self.received()
        moved = rec - timedelta(days=1)
        parent = self.person(40, 60)
        self.base_history(parent, lean=True)
        child = self.person(0, 20, last=parent.last_name, m=next(
            m for m in self.munis if m.code == parent.address.municipality_code))
        self.base_history(child)
        self.link(child, parent, RelationKind.PARENT, child.birth)
        child.address = parent.address
        child.addresses.append(AddressEntry(moved, parent.address))
        self.link(child, parent, RelationKind.RESIDENCE_PARENT, moved)
        self.task(child, "036", rec, {"municipality_code": parent.address.municipality_code,
                                      "to_parent": parent.cpr}, closed)

    def sc_sentence_start(self) -> None:
        """040: note lines 3/4 filled in CPR (attention point 4); some undone by a 041."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(19, 60, Sex.MALE if r.random() < 0.85 else Sex.FEMALE)
        self.base_history(p)
        self.task(p, "040", rec, {"note_lines": [3, 4]}, closed)
        if rec < self.today - timedelta(days=1) and r.random() < 0.25:  # filled by mistake, deleted again
            self.task(p, "041", rec + timedelta(days=1), {"note_lines": [3, 4]}, closed)

    def sc_sentence_end(self) -> None:
        """041 for a person serving a sentence in group 4; the card may have been taken in (3.1.7)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(20, 60, Sex.MALE if r.random() < 0.85 else Sex.FEMALE)
        s4 = rec - timedelta(days=self.ri(100, 900))
        self.base_history(p, moved_in=s4 - timedelta(days=self.ri(200, 2000)))
        p.groups[-1] = dataclasses.replace(p.groups[-1], end=s4)
        p.groups.append(GroupRegistration(self.nid("G"), 4, s4, None, "Afsoning over 3 måneder"))
        p.events.append(CprEvent(self.nid("E"), "040", s4 - timedelta(days=1), s4, {"note_lines": [3, 4]}))
        for i, d in enumerate(p.doctors):
            if d.end is None:
                p.doctors[i] = dataclasses.replace(d, end=s4, status=ChoiceStatus.ENDED)
        if p.cards and r.random() < 0.6:
            p.cards[-1] = dataclasses.replace(p.cards[-1], status=CardStatus.CANCELLED,
                                              reason="Inddraget ved afsoning")
        self.task(p, "041", rec, {"note_lines": [3, 4]}, closed)

    def sc_guardianship(self) -> None:
        """021: placed under guardianship, the guardian a relative or another person (2.6.2, 3.1.3)."""
        r = self.rng
        rec, closed = self.received()
        ward = self.person(19, 95) if r.random() < 0.5 else self.person(75, 95)
        self.base_history(ward)
        age = self.age(ward)
        if age >= 60 and r.random() < 0.7:
            g = self.person(max(19, age - 45), max(19, age - 20), last=ward.last_name)
            self.base_history(g, lean=True)
            self.link(g, ward, RelationKind.PARENT, g.birth)
        else:
            g = self.person(30, 70)
            self.base_history(g, lean=True)
        self.link(ward, g, RelationKind.GUARDIAN, rec - timedelta(days=1))
        if r.random() < 0.3:  # a guardian for more than one person (3.1.3)
            w2 = self.person(19, 95)
            self.base_history(w2, lean=True)
            self.link(w2, g, RelationKind.GUARDIAN, self.days_ago(60, 900))
        self.task(ward, "021", rec, {"guardian_cpr": g.cpr}, closed)

    def _marry(self, p: _P, on: date) -> _P:
        q = self.person(max(19, self.age(p) - 5), self.age(p) + 8,
                        Sex.MALE if p.sex == Sex.FEMALE else Sex.FEMALE, address=p.address)
        self.base_history(q, moved_in=p.addresses[-1].start, lean=True)
        q.married_on = p.married_on = on
        self.link(p, q, RelationKind.SPOUSE, on)
        return q

    def sc_name_change(self) -> None:
        """004: a name change, mostly after a marriage within 3 months; the marriage may come later (2.7.7)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(22, 60, Sex.FEMALE if r.random() < 0.8 else Sex.MALE)
        self.base_history(p)
        changed = rec - timedelta(days=1)
        roll = r.random()
        if roll < 0.6:
            q = self._marry(p, changed - timedelta(days=self.ri(3, 85)))
            new_last = q.last_name
        elif roll < 0.8:  # married, but the civil status event has not come yet
            q = self.person(22, 65, Sex.MALE if p.sex == Sex.FEMALE else Sex.FEMALE, address=p.address)
            self.base_history(q, moved_in=p.addresses[-1].start, lean=True)
            self.link(p, q, RelationKind.COHABITANT, self.days_ago(200, 2000))
            new_last = q.last_name
        else:
            new_last = self.pick(self.names["last"])
        p.name = p.name.rsplit(" ", 1)[0] + " " + new_last
        p.name_changed_on = changed
        self.task(p, "004", rec, {"new_name": p.name}, closed)

    def sc_marriage(self) -> None:
        """028: the marriage arrives after the name change (2.7.7)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(22, 60, Sex.FEMALE if r.random() < 0.8 else Sex.MALE)
        self.base_history(p)
        wed = rec - timedelta(days=1)
        q = self._marry(p, wed)
        if r.random() < 0.7:
            p.name = p.name.rsplit(" ", 1)[0] + " " + q.last_name
            p.name_changed_on = wed - timedelta(days=self.ri(1, 20))
            p.events.append(CprEvent(self.nid("E"), "004", p.name_changed_on,
                                     p.name_changed_on + timedelta(days=1), {"new_name": p.name}))
        self.task(p, "028", rec, {"spouse_cpr": q.cpr}, closed)

    def _luna(self, forced: bool) -> None:
        """L01/L02: LUNA rejected a choice because the person is unknown there (2.6.5, 2.6.1).

        The person keeps the doctor they had; the wanted practice is in the event's data:
        a closed one for a forced choice (L01), an open one beyond the distance rule that
        needs dispensation (L02).
        """
        r = self.rng
        rec, closed = self.received()
        p = self.person(20, 75)
        arrived = rec - timedelta(days=self.ri(5, 60))
        self.base_history(p, moved_in=arrived)
        p.luna_known = False
        if forced:
            prov = self.provider_in(p.address.municipality_code, False)
            if r.random() < 0.6:  # the closed doctor is a cohabitant's (2.3.1)
                host = self.person(25, 80, address=p.address)
                self.base_history(host, moved_in=p.addresses[-1].start, lean=True)
                last = max((d.effective for d in host.doctors), default=arrived)
                self.choose(host, prov, min(rec, last + timedelta(days=self.ri(1, 30))), "Selvvalgt", paid=True)
                self.link(p, host, RelationKind.COHABITANT, arrived)
            data = {"provider_number": prov.provider_number, "forced": True, "reason": "unknown_in_luna"}
            code = "L01"
        else:
            limit = rules.distance_limit_km(p.address.municipality_code)
            every = self._provider_list
            prov = self.provider_in(p.address.municipality_code, True)
            for _ in range(100):
                q = every[r.randrange(len(every))]
                if q.open and rules.distance_km(p.address.lat, p.address.lon, q.lat, q.lon) > limit:
                    prov = q
                    break
            data = {"provider_number": prov.provider_number, "dispensation": True, "reason": "unknown_in_luna"}
            code = "L02"
        self.note(p, rec, f"Ønsket lægevalg: {prov.practice_name} ({prov.provider_number}).")
        self.task(p, code, rec, data, closed)

    def sc_luna_forced(self) -> None:
        self._luna(True)

    def sc_luna_dispensation(self) -> None:
        self._luna(False)

    def sc_practice_transfer(self) -> None:
        """PLO1: the person's practice is transferred to a new owner (2.6.7)."""
        r = self.rng
        rec, closed = self.received()
        p = self.person(20, 90)
        self.base_history(p, doctor_open=None)
        cur = next((d for d in reversed(p.doctors) if d.end is None), None)
        if cur is None:
            self.choose(p, self.provider_in(p.address.municipality_code, None), self.days_ago(300, 3000),
                        "Flytning", paid=False)
            cur = p.doctors[-1]
        to = self.provider_in(p.address.municipality_code, True)
        on = rec + timedelta(days=self.ri(-10, 30))
        self.task(p, "PLO1", rec, {"from_provider": cur.provider_number, "to_provider": to.provider_number,
                                   "transfer_date": on.isoformat()}, closed)

    def sc_plo_free_choice(self) -> None:
        """PLO2: a free choice; the child living with the residence parent is on another doctor (2.6.8)."""
        r = self.rng
        rec, closed = self.received()
        parent = self.person(35, 55)
        self.base_history(parent, lean=True)
        child = self.person(0, 14, last=parent.last_name, address=parent.address)
        self.base_history(child, moved_in=parent.addresses[-1].start if child.birth < parent.addresses[-1].start
                          else None)
        self.link(child, parent, RelationKind.PARENT, child.birth)
        self.link(child, parent, RelationKind.RESIDENCE_PARENT, child.birth)
        pd = next((d for d in reversed(parent.doctors) if d.end is None), None)
        cd = next((d for d in reversed(child.doctors) if d.end is None), None)
        if pd is not None and cd is not None and pd.provider_number == cd.provider_number:
            self.choose(child, self.provider_in(child.address.municipality_code, True), self.days_ago(60, 600),
                        "Selvvalgt", paid=True)
        self.task(child, "PLO2", rec, {"provider_number": pd.provider_number if pd else "",
                                       "reason": self.pick(("Praksis lukker", "Praksis deles"))}, closed)

    # -- background -----------------------------------------------------------------------
    def bg_cohabitant_closed(self) -> None:
        """Cohabitants where one is on a closed doctor (the state of 2.3.1), and a guardian pair."""
        p = self.person(25, 85)
        self.base_history(p, doctor_open=False, future_switch=self.rng.random() < 0.1, lean=True)
        self.household(p, partner=True, children=0)

    # -- freeze ---------------------------------------------------------------------------
    def freeze(self, p: _P) -> PersonState:
        names = self.persons
        doctors, cards = list(p.doctors), list(p.cards)
        for bad in [d for d in doctors if d.end is not None and d.end < d.effective]:
            # A change of doctor drawn after the line of doctors had ended (e.g. in prison):
            # it took place halfway between the choice before it and that end instead.
            prev = next((d for d in doctors if d.end == bad.effective and d is not bad), None)
            start = prev.effective if prev else bad.end
            on = start + (bad.end - start) / 2
            doctors = [dataclasses.replace(d, effective=on) if d is bad else
                       dataclasses.replace(d, end=on) if d is prev else d for d in doctors]
            cards = [dataclasses.replace(c, ordered_on=on)
                     if c.ordered_on == bad.effective and c.reason == f"Lægevalg: {bad.reason}" else c for c in cards]
        person = Person(p.cpr, p.name, p.birth, p.sex, p.address, p.cpr_status, p.luna_known,
                        p.supplementary_address, p.name_changed_on, p.married_on)
        return PersonState(
            person=person,
            relations=tuple(Relation(k, o, names[o].name, s) for k, o, s in p.relations),
            addresses=tuple(sorted(p.addresses, key=lambda a: a.start)),
            cpr_changes=tuple(p.cpr_changes),
            groups=tuple(sorted(p.groups, key=lambda g: g.effective)),
            doctors=tuple(sorted(doctors, key=lambda d: d.effective)),
            cards=tuple(cards),
            events=tuple(sorted(p.events, key=lambda e: (e.received, e.id))),
            notes=tuple(p.notes),
            training=True,
        )

    def tasks_for(self, p: _P, state: PersonState, tid: Callable[[], str]) -> tuple[Task, ...]:
        out = []
        for code, event_id, rec, closed in p.task_specs:
            # The server's CPR-event -> task rule (due date, suggested workaround), shared.
            out.append(task_for_event(tid(), code, event_id, rec, self.cat.events.get(code), state, self.today,
                                      self.cat.suggestion_rules, self.providers.get, self.retired,
                                      TaskStatus.CLOSED if closed else TaskStatus.OPEN, closed))
        return tuple(_claimed(t, self.today) for t in out)


def _claimed(task: Task, today: date) -> Task:
    """``task``, claimed by a member of :data:`TEAM` for a share of the open ones. The draw is
    a hash of the task's id alone (cheap, and the rest of the content is the same with or
    without claims)."""
    if task.status != TaskStatus.OPEN:
        return task
    h = zlib.crc32(task.id.encode("ascii"))
    if h % 1000 >= CLAIMED_SHARE * 1000:
        return task
    h //= 1000
    who = TEAM[h % len(TEAM)][0]
    since = max(task.received, today - timedelta(days=h // 7 % 5))
    return dataclasses.replace(task, assignee=who,
                               claimed_at=f"{since.isoformat()}T{8 + h // 41 % 8:02d}:{h // 331 % 60:02d}:00+01:00")


# The caseworker's minutes in a wizard, by workaround: the simple ones (a group switch) are
# quick, the ones with a forced doctor choice and a fee take longer. Others: DEFAULT_MINUTES.
WIZARD_MINUTES = {"2.1.1": 9, "2.2.1": 7, "2.3.1": 11, "2.3.2": 10, "2.4.1": 4, "2.5.1": 5, "2.6.5": 12,
                  "2.7.1": 8, "2.7.3": 9, "2.7.7": 6}
DEFAULT_MINUTES = 7


def closing_history(state: PersonState, tasks: tuple[Task, ...], today: date) -> PersonState:
    """The history a desk would have written when it closed ``state``'s closed tasks: the
    ``task_close`` entry (0-6 days after the task came in, never after ``today``) and the
    ``case_time`` of the wizard (one to three sessions, minutes around the workaround's
    typical time) — the fault-cost report's synthetic past. Drawn per task from its own
    seed, so the rest of the training data stays as it was."""
    closed = [t for t in tasks if t.status == TaskStatus.CLOSED]
    if not closed:
        return state
    entries = []
    for t in closed:
        r = random.Random(t.id)
        day = min(today, t.received + timedelta(days=min(6, int(r.expovariate(0.45)))))
        at = f"{day.isoformat()}T{r.randint(8, 15):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}+01:00"
        case_id = f"C-{t.id}"
        if t.workaround_id:
            sessions = 1 if r.random() < 0.7 else 2 if r.random() < 0.85 else 3
            minutes = WIZARD_MINUTES.get(t.workaround_id, DEFAULT_MINUTES) * r.lognormvariate(0, 0.35)
            seconds = max(60, int(minutes * 60 * (1 + 0.3 * (sessions - 1))))
            entries.append(HistoryEntry(at, "case_time", case_time_detail(t.workaround_id, seconds, sessions), case_id))
        entries.append(HistoryEntry(at, "task_close", t.id, case_id))
    entries.sort(key=lambda h: h.at)
    return dataclasses.replace(state, history=state.history + tuple(entries))


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _years_after(d: date, years: int) -> date:
    return _years_before(d, -years)


# --- building the store ----------------------------------------------------------------


def _pick_scenarios(rng: random.Random) -> Callable[[], str]:
    names = [n for n, _w in SCENARIOS]
    weights = [w for _n, w in SCENARIOS]
    cum = []
    total = 0
    for w in weights:
        total += w
        cum.append(total)

    def pick() -> str:
        x = rng.random() * total
        for n, c in zip(names, cum):
            if x < c:
                return n
        return names[-1]

    return pick


class Training:
    """The training content, made scenario by scenario: ``providers``, then ``people()``."""

    def __init__(self, tasks: int, seed: int, today: date, cat: Catalogue | None = None,
                 shard: int = 0, shards: int = 1) -> None:
        self.tasks = tasks
        self.seed = seed
        self.gen = _Gen(cat or load_catalogue(), random.Random(f"{seed}/{shard}"), today, shard, shards)
        self.gen.make_providers(random.Random(seed))  # the same practices in every shard
        self.providers: list[Provider] = list(self.gen.providers.values())

    def people(self) -> Iterator[tuple[PersonState, tuple[Task, ...]]]:
        """Each person's state and tasks, in a fixed order, until exactly ``tasks`` tasks exist.

        Every scenario is made once first (when ``tasks`` allows), the rest drawn by weight.
        A scenario's persons are only ever linked to each other, so each is final (and
        yielded, then forgotten) as soon as its scenario is done.
        """
        g, tasks, seed = self.gen, self.tasks, self.seed
        pick = _pick_scenarios(g.rng)
        first = [n for n, _w in SCENARIOS]
        i = 0
        counter = 0

        def tid() -> str:
            nonlocal counter
            counter += 1
            return f"T{seed % 1000:03d}-{g.shard:03d}{counter:05d}"

        while g.tasks_made < tasks:
            name = first[i] if i < len(first) else pick()
            i += 1
            before = len(g.order)
            getattr(g, f"sc_{name}")()
            if g.rng.random() < BACKGROUND_SHARE:
                g.bg_cohabitant_closed()
            made = g.order[before:]
            # A scenario may overshoot (P03 makes one task per relation): drop the extra tasks.
            over = g.tasks_made - tasks
            for c in reversed(made):
                p = g.persons[c]
                while over > 0 and p.task_specs:
                    p.task_specs.pop()
                    over -= 1
                    g.tasks_made -= 1
            for c in made:
                p = g.persons[c]
                state = g.freeze(p)
                tasks_of = g.tasks_for(p, state, tid)
                yield closing_history(state, tasks_of, g.today), tasks_of
            for c in made:
                g.persons[c] = None  # type: ignore[assignment]  # number kept as used, person dropped
            del g.order[before:]


def build(path: Path | str, *, tasks: int, seed: int, progress: ProgressFn | None = None,
          today: date | None = None) -> str:
    """(Re)build the training store at ``path``; returns a short line of statistics.

    The store is written to a temporary file next to ``path`` and moved over ``path``
    atomically; stale ``-wal``/``-shm`` files of the old store are removed first. While it
    is being filled, the temporary file has no journal and no syncs (a crash only ever
    loses that file), the tasks' indexes are made once after the bulk insert, and a writer
    thread overlaps SQLite with the generation; then it is switched to WAL and synced.
    ``today`` fixes the reference date (default: the real today).
    """
    t0 = time.perf_counter()
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    today = today or date.today()
    shards = max(1, -(-tasks // SHARD_TASKS))
    workers = min(os.cpu_count() or 1, shards, MAX_WORKERS)
    providers = Training(0, seed, today).providers
    tmp = path.with_name(f".{path.name}.build-{os.getpid()}")
    _remove_db(tmp)
    n_persons = n_tasks = 0
    try:
        _create_with_page_size(tmp, PAGE_SIZE)
        store = open_store(tmp, training=True)
        writer = _Writer(store)
        conn = store.conn
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute(f"PRAGMA cache_size=-{BUILD_CACHE_KIB}")
            indexes = _drop_task_indexes(conn)
            with store.transaction():
                store.upsert_providers(providers)
                store.set_meta("training_seed", str(seed))
                store.set_meta("training_tasks", str(tasks))
                store.set_meta("training_today", today.isoformat())
            # Worker processes are forked before the writer thread exists.
            pool = _pool(workers) if workers > 1 else None  # same content either way
            writer.start()
            step = max(1, min(2000, tasks // 50))
            next_report = step
            try:
                if pool is None:
                    size = max(20, min(1000, tasks // 40))  # persons a batch: progress stays regular
                    batches = (b for k in range(shards) for b in _shard_batches(tasks, seed, today, k, shards, size))
                else:
                    batches = pool.imap(_shard_rows, [(tasks, seed, today, k, shards) for k in range(shards)])
                for person_rows, task_rows in batches:
                    writer.put(person_rows, task_rows)
                    n_persons += len(person_rows)
                    n_tasks += len(task_rows)
                    if progress and n_tasks >= next_report:
                        progress(min(n_tasks, tasks - 1), tasks)  # the total only once the store is in place
                        next_report = n_tasks + step
            finally:
                if pool is not None:
                    pool.terminate()
                    pool.join()
            writer.finish()
            with store.transaction():
                for sql in indexes:
                    conn.execute(sql)
            conn.execute("PRAGMA synchronous=FULL")
            if str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower() != "wal":
                raise OSError(f"{tmp}: cannot switch the training store to WAL")
        finally:
            writer.stop()
            store.close()
        _fsync_file(tmp)  # everything on disk before the rename makes it the store
        os.chmod(tmp, 0o600)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path.with_name(path.name + suffix))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        _remove_db(tmp)
        raise
    _remove_db(tmp)  # the temp file's own -wal/-shm, if any were left
    if progress:
        progress(n_tasks, tasks)
    secs = time.perf_counter() - t0
    return i18n.t("training.stats", persons=_num(n_persons), tasks=_num(n_tasks),
                  providers=_num(len(providers)), seconds=f"{secs:.1f}")


SHARD_TASKS = 5000  # tasks per shard: a fixed size, so the content never depends on the machine
MAX_WORKERS = 4


def _shard_batches(tasks: int, seed: int, today: date, shard: int, shards: int,
                   size: int) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """The rows of one shard (its share of ``tasks``), in batches of ``size`` persons."""
    mine = tasks // shards + (1 if shard < tasks % shards else 0)
    person_rows: list[tuple[Any, ...]] = []
    task_rows: list[tuple[Any, ...]] = []
    for state, ts in Training(mine, seed, today, shard=shard, shards=shards).people():
        p = state.person
        person_rows.append(person_row(state))
        task_rows.extend(task_row(t, p.name) for t in ts)
        if len(person_rows) >= size:
            yield person_rows, task_rows
            person_rows, task_rows = [], []
    if person_rows or task_rows:
        yield person_rows, task_rows


def _shard_rows(args: tuple[int, int, date, int, int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A worker process: all rows of one shard."""
    persons: list[tuple[Any, ...]] = []
    tasks: list[tuple[Any, ...]] = []
    for p, t in _shard_batches(*args, size=10**9):
        persons.extend(p)
        tasks.extend(t)
    return persons, tasks


def _pool(workers: int) -> Any:
    """A process pool, or None where processes cannot be made (the build then runs in-process)."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    try:
        return ctx.Pool(workers)
    except (OSError, ImportError):  # e.g. no semaphores in a sandbox
        return None


BUILD_CACHE_KIB = 64 * 1024  # page cache while building: the persons' key index stays in memory
PAGE_SIZE = 16384  # a person's document is ~2 KB: small pages would hold one each and waste half


def _create_with_page_size(path: Path, page_size: int) -> None:
    """An empty WAL database with ``page_size`` (fixed once the file has a header), mode 0600."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA page_size = {int(page_size)}")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _num(n: int) -> str:
    return f"{n:,}".replace(",", ".")


class _Writer:
    """Writes batches of rows on its own thread (SQLite releases the GIL while it works)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.queue: queue.Queue[tuple[list[Any], list[Any]] | None] = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="training-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            persons, tasks = item
            try:
                with self.store.transaction() as conn:
                    write_person_rows(conn, persons, tasks)
            except BaseException as exc:  # handed to the building thread
                self.error = exc

    def put(self, persons: list[Any], tasks: list[Any]) -> None:
        if self.error is not None:
            raise self.error
        if persons or tasks:
            self.queue.put((persons, tasks))

    def finish(self) -> None:
        """Wait until every batch is written; raise the writer's error, if any."""
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()


def _remove_db(p: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(p.with_name(p.name + suffix))


def _drop_task_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the ``tasks`` indexes (the schema's own), returning the SQL that makes them again."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' "
                        "AND sql IS NOT NULL ORDER BY rowid").fetchall()
    for name, _sql in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


def _fsync_file(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
