"""The rule that turns a CPR event into a manual task, in one place.

The server applies it to every event the CPR feed sends; the training generator applies it
to the events of its synthetic persons, so a training task looks exactly like a real one:

- an event type marked ``creates_task`` in the catalogue makes one task;
- the task is due ``due_days`` (the event type's; 5 for an unknown code) after it was received;
- its suggested workaround is the first of the catalogue's suggestion rules that holds for the
  person on that day (retired workarounds skipped).

``event_type`` is any object with ``creates_task`` and ``due_days`` (the catalogue's
``EventType``); the domain does not import the catalogue.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .model import PersonState, Provider, Task, TaskStatus
from .workarounds import SuggestionRule, suggest

DEFAULT_DUE_DAYS = 5


def creates_task(event_type: Any) -> bool:
    return bool(event_type is not None and event_type.creates_task)


def due_date(event_type: Any, received: date) -> date:
    days = int(event_type.due_days) if event_type is not None else DEFAULT_DUE_DAYS
    return received + timedelta(days=days)


def task_id_for_event(event_id: str) -> str:
    """The same event always makes the same task id (a replayed event adds no second task)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "sygesikring-task:" + event_id))


def suggested_workaround(rules: list[SuggestionRule], code: str, state: PersonState, today: date,
                         provider: Callable[[str], Provider | None],
                         retired: frozenset[str] = frozenset()) -> str | None:
    return suggest(rules, code, state, today, provider, retired).workaround_id


def task_for_event(task_id: str, code: str, event_id: str | None, received: date, event_type: Any,
                   state: PersonState, today: date, rules: list[SuggestionRule],
                   provider: Callable[[str], Provider | None], retired: frozenset[str] = frozenset(),
                   status: TaskStatus = TaskStatus.OPEN, closed_reason: str | None = None) -> Task:
    """The task an event of ``code`` received on ``received`` makes for ``state``'s person."""
    return Task(task_id, state.cpr, code, event_id, received, due_date(event_type, received), status, None,
                closed_reason, suggested_workaround(rules, code, state, today, provider, retired))
