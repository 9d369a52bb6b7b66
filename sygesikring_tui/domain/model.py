"""The domain model: plain, typed dataclasses with the one JSON codec (msgspec).

Everything the desk store holds about a person is gathered in :class:`PersonState`, the
unit that operations change, that the server versions and that a pull delivers. Dates are
``datetime.date``; timestamps are ISO strings made by the client when an operation is
created, so applying an operation is deterministic on the desk and on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

# --- codes -----------------------------------------------------------------------------


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


class RelationKind(StrEnum):
    """A relation seen from the person who holds it: ``other`` is my <kind>."""

    SPOUSE = "spouse"
    COHABITANT = "cohabitant"
    PARENT = "parent"  # other is my parent
    CHILD = "child"  # other is my child
    RESIDENCE_PARENT = "residence_parent"  # other is the parent I live with (bopælsforælder)
    RESIDENCE_CHILD = "residence_child"  # other is a child living with me
    GUARDIAN = "guardian"  # other is my guardian (værge)
    WARD = "ward"  # other is under my guardianship


class CardStatus(StrEnum):
    ORDERED = "ordered"
    PRODUCED = "produced"
    SENT = "sent"
    CANCELLED = "cancelled"


class ChoiceStatus(StrEnum):
    APPROVED = "approved"
    PROVISIONAL = "provisional"  # dispensation pending, stands approved for 14 days (2.6.1)
    MISSING = "missing"  # "manglende lægevalg" (2.7.3)
    ENDED = "ended"


class TaskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# CPR person status codes (DOMAIN.md)
CPR_STATUS = {
    "01": "active",
    "03": "active_special_road",
    "05": "greenland",
    "07": "greenland_special",
    "20": "no_address",
    "30": "annulled",
    "50": "deleted",
    "60": "changed_number",
    "70": "missing",
    "80": "emigrated",
    "90": "dead",
}

# Insurance groups (sikringsgrupper) known to the rules.
GROUPS = {1: "group1", 2: "group2", 4: "prison", 5: "military", 6: "institution", 7: "emigrated",
          8: "ceased", 9: "deceased"}

# --- records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    city: str
    municipality_code: int
    lat: float
    lon: float

    def same_place(self, other: Address | None) -> bool:
        return other is not None and (self.street, self.postcode) == (other.street, other.postcode)


@dataclass(frozen=True)
class AddressEntry:
    """One line of the address history: lived at ``address`` from ``start``."""

    start: date
    address: Address
    supplementary: bool = False  # a supplementary address (2.5.1 / 2.7.6)


@dataclass(frozen=True)
class Person:
    cpr: str
    name: str
    birth_date: date
    sex: Sex
    address: Address
    cpr_status: str = "01"
    luna_known: bool = True
    supplementary_address: str | None = None
    name_changed_on: date | None = None
    married_on: date | None = None


@dataclass(frozen=True)
class Relation:
    kind: RelationKind
    other_cpr: str
    other_name: str
    since: date | None = None


@dataclass(frozen=True)
class CprNumberChange:
    """Renumbering: ``old_cpr`` became ``new_cpr`` on ``changed_on``."""

    old_cpr: str
    new_cpr: str
    changed_on: date


@dataclass(frozen=True)
class GroupRegistration:
    id: str
    group: int
    effective: date
    end: date | None = None
    reason: str = ""

    def status(self, today: date) -> str:
        if self.effective > today:
            return "future"
        if self.end is not None and self.end <= today:
            return "previous"
        return "current"


@dataclass(frozen=True)
class Fee:
    paid: bool
    amount: int = 0  # kroner
    reason: str = ""  # why free, or why paid, in words
    code: str = ""  # the reason code (domain.fees.DOCTOR_REASONS / CARD_REASONS)


@dataclass(frozen=True)
class Provider:
    provider_number: str
    practice_name: str
    open: bool
    municipality_code: int
    lat: float
    lon: float
    address: str = ""


@dataclass(frozen=True)
class DoctorChoice:
    id: str
    provider_number: str
    practice_name: str
    reason: str
    effective: date
    end: date | None = None
    status: ChoiceStatus = ChoiceStatus.APPROVED
    forced: bool = False
    force_rule: str | None = None
    fee: Fee = field(default_factory=lambda: Fee(False, 0, ""))
    provisional_until: date | None = None

    def state(self, today: date) -> str:
        if self.effective > today:
            return "future"
        if self.end is not None and self.end <= today:
            return "previous"
        return "current"


@dataclass(frozen=True)
class HealthCard:
    id: str
    status: CardStatus
    ordered_on: date
    fee: Fee
    reason: str = ""


@dataclass(frozen=True)
class CprEvent:
    id: str
    code: str
    event_date: date
    received: date
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    id: str
    cpr: str
    event_code: str
    event_id: str | None
    received: date
    due: date
    status: TaskStatus = TaskStatus.OPEN
    assignee: str | None = None
    closed_reason: str | None = None
    workaround_id: str | None = None  # suggested wizard, from the catalogue
    claimed_at: str | None = None  # ISO timestamp the assignee claimed it (None: not claimed)


@dataclass(frozen=True)
class Note:
    id: str
    created: str  # ISO timestamp
    author: str
    text: str
    case_id: str | None = None


@dataclass(frozen=True)
class FollowUp:
    id: str
    created: str
    text: str
    due: date | None = None
    done: str | None = None  # ISO date (or timestamp) when ticked off
    case_id: str | None = None
    done_by: str | None = None  # the caseworker who ticked it off


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    action: str
    detail: str
    case_id: str | None = None


@dataclass(frozen=True)
class PersonState:
    """Everything held about one person; the unit operations change and sync moves."""

    person: Person
    version: int = 0
    relations: tuple[Relation, ...] = ()
    addresses: tuple[AddressEntry, ...] = ()
    cpr_changes: tuple[CprNumberChange, ...] = ()
    groups: tuple[GroupRegistration, ...] = ()
    doctors: tuple[DoctorChoice, ...] = ()
    cards: tuple[HealthCard, ...] = ()
    events: tuple[CprEvent, ...] = ()
    tasks: tuple[Task, ...] = ()
    notes: tuple[Note, ...] = ()
    followups: tuple[FollowUp, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    training: bool = False

    @property
    def cpr(self) -> str:
        return self.person.cpr

    # -- derived views ------------------------------------------------------------------
    def current_group(self, today: date) -> GroupRegistration | None:
        cur = [g for g in self.groups if g.status(today) == "current"]
        return max(cur, key=lambda g: g.effective) if cur else None

    def future_groups(self, today: date) -> list[GroupRegistration]:
        return sorted((g for g in self.groups if g.status(today) == "future"), key=lambda g: g.effective)

    def current_doctor(self, today: date) -> DoctorChoice | None:
        # By dates alone: a choice whose end lies ahead (a future choice is registered, or
        # it was ended as of a later date) is still the current doctor until then.
        cur = [d for d in self.doctors if d.state(today) == "current"]
        return max(cur, key=lambda d: d.effective) if cur else None

    def relations_of(self, *kinds: RelationKind) -> list[Relation]:
        return [r for r in self.relations if r.kind in kinds]

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.status == TaskStatus.OPEN]

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)


@dataclass(frozen=True)
class Operation:
    """One change to one person, as written to the outbox and pushed to the server.

    ``op_id`` is a client-made UUID and the idempotency key; ``base_version`` is the
    person's version the operation was made against.
    """

    op_id: str
    kind: str
    cpr: str
    payload: dict[str, Any]
    base_version: int
    case_id: str | None = None


@dataclass(frozen=True)
class Case:
    """One wizard run: its draft while open, its operations once committed."""

    id: str
    workaround_id: str
    cpr: str
    task_id: str | None
    status: str  # draft | committed | discarded
    step: int
    draft: dict[str, Any]
    created: str
    committed: str | None = None


# --- JSON codec ------------------------------------------------------------------------
#
# The one codec of the model (desk store, server, sync, training): msgspec, which encodes
# the dataclasses, enums, dates and tuples above in C and validates every field on decode
# (a wrong type raises ``msgspec.ValidationError``, a ValueError). The text is compact UTF-8
# JSON; the same object always gives the same text, on the desk and on the server.

_ENCODER = msgspec.json.Encoder()


def dumps(obj: Any) -> str:
    """The JSON text of a model object or of JSON-ready values."""
    return _ENCODER.encode(obj).decode("utf-8")


def loads(cls: type[T], text: str | bytes) -> T:
    """A ``cls`` from its JSON text, every field validated."""
    return msgspec.json.decode(text, type=cls)


def to_json(obj: Any) -> Any:
    """Dataclasses, enums, dates and tuples to JSON-ready values (dicts, lists, str, numbers)."""
    return msgspec.json.decode(_ENCODER.encode(obj))


def from_json(cls: type[T], data: Any) -> T:
    """Inverse of :func:`to_json` for a type, every field validated; unknown keys are ignored."""
    return msgspec.convert(data, type=cls)


_FIELDS: dict[type, frozenset[str] | None] = {}


def evolve(obj: T, **changes: Any) -> T:
    """``dataclasses.replace`` for the frozen records above, ~4x faster (a PersonState: ~3 us
    instead of ~14 us; the server applies thousands a push): the fields are copied, not passed
    through ``__init__`` again. Unknown names are refused like replace refuses them; a class
    with a ``__post_init__`` or without a ``__dict__`` goes through replace."""
    cls = type(obj)
    names = _FIELDS.get(cls, ())
    if names == ():
        plain = not hasattr(cls, "__post_init__") and hasattr(obj, "__dict__")
        names = _FIELDS[cls] = frozenset(f.name for f in fields(cls) if f.init) if plain else None
    if names is None:
        return replace(obj, **changes)  # type: ignore[type-var]
    if not names.issuperset(changes):
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(set(changes) - names))}")
    new = object.__new__(cls)
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new
