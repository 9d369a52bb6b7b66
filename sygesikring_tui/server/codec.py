"""Person documents as the server stores them, in the model's one codec (``domain.model``).

A person is stored as two texts: ``core`` (the state with ``tasks`` empty, the very text the
desk's ``Store.save_person`` stores in ``persons.doc``) and ``tasks`` (the JSON list of its
tasks). A pull hands both to the desk without decoding them; a write encodes the new state
(msgspec, in C) and a read decodes and validates it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..domain import model
from ..domain.model import dumps, from_json, to_json

__all__ = ["STATE_FIELDS", "Encoded", "core_text", "decode_person", "doc_text", "dumps", "encode_person",
           "from_json", "tasks_text", "to_json"]

STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(model.PersonState))


@dataclasses.dataclass
class Encoded:
    """A person state as the server holds it between reads and writes (``raw``: unused, kept
    for callers that still pass the decoded JSON along)."""

    state: model.PersonState
    raw: dict[str, Any] | None = None


def _raw_of(state: model.PersonState, raw: dict[str, Any] | None = None) -> dict[str, Any] | None:
    return raw


def encode_person(state: model.PersonState, base: Encoded | None = None) -> Encoded:
    """``state`` ready to be written (``base``, the state it was derived from, is not needed)."""
    return Encoded(state)


def core_text(enc: Encoded) -> str:
    """The state without tasks: the text the desk stores in ``persons.doc``."""
    return dumps(model.evolve(enc.state, tasks=()))


def tasks_text(enc: Encoded) -> str:
    return dumps(enc.state.tasks)


def doc_text(enc: Encoded) -> str:
    """The whole state."""
    return dumps(enc.state)


_TASKS = tuple[model.Task, ...]


def decode_person(core: str, tasks: str) -> Encoded:
    """A stored person (core and tasks texts) decoded and validated."""
    state = model.loads(model.PersonState, core)
    return Encoded(model.evolve(state, tasks=model.loads(_TASKS, tasks)))
