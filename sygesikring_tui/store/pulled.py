"""A page of pulled changes as the desk reads it: typed records, checked while they are decoded.

``GET /v1/changes`` answers ``{changes, cursor, more}`` (see the server's ``CHANGES_DOC``).
The desk decodes the body straight into these records with msgspec, in C: every field's
type (and a task's dates and status) is checked as it is read, so a page that is not what
the server promises is refused whole, with the place of the fault (``$.changes[3].version``),
before anything is written. A person's ``doc`` is the server's text of the state without
tasks, stored as it is (the server encoded it from a state it checked); a task's fields
come in the column order of the desk's ``tasks`` table, so a row is one ``astuple`` away.

Held records (``sync_held``) are these records' JSON, the same shape as the page's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec.structs import astuple

CPR = Annotated[str, msgspec.Meta(min_length=10, max_length=10)]
VERSION = Annotated[int, msgspec.Meta(ge=0)]


class PulledTask(msgspec.Struct, kw_only=True):
    """A task as pulled. Field order = :data:`PULLED_TASK_COLUMNS` (the person's name and
    search text follow)."""

    id: str
    cpr: CPR
    event_code: str
    event_id: str | None = None
    received: date  # a real date (checked in C as fast as a length; a pattern cost 2 us a field)
    due: date
    status: Literal["open", "closed"] = "open"
    assignee: str | None = None
    closed_reason: str | None = None
    workaround_id: str | None = None
    claimed_at: str | None = None


PULLED_TASK_COLUMNS = ("id", "cpr", "event_code", "event_id", "received", "due", "status", "assignee",
                       "closed_reason", "workaround_id", "claimed_at", "name", "search")


class PulledPerson(msgspec.Struct, tag_field="kind", tag="person"):
    """A person's latest state: ``doc`` is the state without tasks in the domain codec (JSON text)."""

    cpr: CPR
    version: VERSION
    municipality: int
    name: str
    doc: str
    tasks: list[PulledTask] = []

    def task_rows(self) -> list[tuple[Any, ...]]:
        """The ``tasks`` rows (columns :data:`PULLED_TASK_COLUMNS`)."""
        # Python's lower(), as in store.db.task_row: SQLite's lower() leaves Æ, Ø and Å.
        tail = (self.name, f"{self.cpr} {self.name.lower()}")
        rows = []
        for t in self.tasks:
            r = astuple(t)  # received and due are dates: the table keeps their ISO text
            rows.append(r[:4] + (r[4].isoformat(), r[5].isoformat()) + r[6:] + tail)
        return rows


class PulledRemoval(msgspec.Struct, tag_field="kind", tag="removal"):
    """The person left the desk's municipality."""

    cpr: CPR
    version: VERSION


class PulledProvider(msgspec.Struct, tag_field="kind", tag="provider"):
    doc: dict[str, Any]


Record = Union[PulledPerson, PulledRemoval]


class Page(msgspec.Struct):
    changes: list[Union[PulledPerson, PulledRemoval, PulledProvider]]
    cursor: Annotated[int, msgspec.Meta(ge=0)]
    more: bool


_PAGE = msgspec.json.Decoder(Page)
_ENC = msgspec.json.Encoder()


def decode_page(body: bytes | str) -> Page:
    """The page in ``body``; raises ``msgspec.DecodeError`` (a ValueError) naming what is wrong."""
    return _PAGE.decode(body)


def record_of(item: dict[str, Any]) -> PulledPerson | PulledRemoval:
    """A record given as JSON values (``{"kind": ...}``), checked like a page's."""
    return msgspec.convert(item, Record)


def held_text(rec: PulledPerson | PulledRemoval) -> str:
    return _ENC.encode(rec).decode("utf-8")
