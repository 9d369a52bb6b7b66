"""Operations: the only way a person's state changes, on the desk and on the server.

``check`` says which rules an operation breaks (empty: allowed); ``apply`` returns the new
state. Both are pure and deterministic: new record ids derive from the ``op_id`` and every
timestamp comes from the payload, so the desk and the server reach the same state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from . import rules
from .model import (
    CardStatus,
    ChoiceStatus,
    DoctorChoice,
    Fee,
    FollowUp,
    GroupRegistration,
    HealthCard,
    HistoryEntry,
    Note,
    Operation,
    PersonState,
    Provider,
    RelationKind,
    TaskStatus,
)

KINDS = (
    "group_switch",
    "doctor_choice",
    "doctor_choice_end",
    "remove_future",
    "card_order",
    "card_cancel",
    "note_add",
    "task_close",
    "followup_add",
    "followup_done",
)


@dataclass(frozen=True)
class RuleContext:
    today: date
    provider: Callable[[str], Provider | None]


@dataclass(frozen=True)
class Violation:
    """A rule an operation breaks: ``code`` is a translation key, ``params`` fill it in."""

    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class PayloadError(ValueError):
    """The operation's payload is malformed (missing or mistyped field)."""


def _date(payload: dict[str, Any], key: str) -> date:
    try:
        return date.fromisoformat(str(payload[key]))
    except (KeyError, ValueError) as exc:
        raise PayloadError(f"{key}: expected an ISO date") from exc


def _str(payload: dict[str, Any], key: str, required: bool = True) -> str:
    v = payload.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise PayloadError(f"{key}: expected text")
    return v


def _fee(payload: dict[str, Any]) -> Fee:
    f = payload.get("fee") or {}
    if not isinstance(f, dict) or not isinstance(f.get("paid"), bool):
        raise PayloadError("fee: expected {paid, amount, reason}")
    amount = f.get("amount", 0)
    if not isinstance(amount, int) or amount < 0:
        raise PayloadError("fee.amount: expected a whole number of kroner")
    return Fee(f["paid"], amount, str(f.get("reason", "")))


# --- check -----------------------------------------------------------------------------


def check(state: PersonState, op: Operation, ctx: RuleContext) -> list[Violation]:
    """The rules ``op`` breaks against ``state`` (empty list: allowed).

    Raises :class:`PayloadError` for a malformed payload.
    """
    if op.kind not in KINDS:
        raise PayloadError(f"unknown operation kind {op.kind!r}")
    if op.cpr != state.cpr:
        raise PayloadError("operation is for another person")
    p = op.payload
    out: list[Violation] = []
    if op.kind == "group_switch":
        group = p.get("group")
        _date(p, "effective")
        if group not in rules.VALID_GROUPS:
            out.append(Violation("rule.group_invalid", {"group": group}))
        cur = state.current_group(_date(p, "effective"))
        if cur is not None and cur.group == group:
            out.append(Violation("rule.group_same", {"group": group}))
    elif op.kind == "doctor_choice":
        out.extend(_check_doctor_choice(state, p, ctx))
    elif op.kind == "doctor_choice_end":
        cid = _str(p, "choice_id")
        end = _date(p, "end")
        ch = next((d for d in state.doctors if d.id == cid), None)
        # A choice can be ended while it runs, also one already due to end later (a future
        # choice scheduled its end): ending it earlier is allowed (2.2.1), later is not.
        if ch is None or (ch.end is not None and ch.end <= end):
            out.append(Violation("rule.choice_not_active"))
    elif op.kind == "remove_future":
        _date(p, "as_of")
    elif op.kind == "card_order":
        _date(p, "ordered_on")
        _fee(p)
    elif op.kind == "card_cancel":
        card = next((c for c in state.cards if c.id == _str(p, "card_id")), None)
        if card is None:
            out.append(Violation("rule.card_unknown"))
        elif card.status != CardStatus.ORDERED:
            out.append(Violation("rule.card_not_cancellable", {"status": card.status.value}))
    elif op.kind == "note_add":
        _str(p, "text")
    elif op.kind == "task_close":
        t = state.task(_str(p, "task_id"))
        _str(p, "reason")
        if t is None:
            out.append(Violation("rule.task_unknown"))
        elif t.status != TaskStatus.OPEN:
            out.append(Violation("rule.task_closed"))
    elif op.kind == "followup_add":
        _str(p, "text")
    elif op.kind == "followup_done":
        f = next((f for f in state.followups if f.id == _str(p, "followup_id")), None)
        if f is None:
            out.append(Violation("rule.followup_unknown"))
        elif f.done:
            out.append(Violation("rule.followup_done"))
    return out


def _check_doctor_choice(state: PersonState, p: dict[str, Any], ctx: RuleContext) -> list[Violation]:
    out: list[Violation] = []
    effective = _date(p, "effective")
    _str(p, "reason")
    _fee(p)
    provider = ctx.provider(_str(p, "provider_number"))
    if provider is None:
        return [Violation("rule.provider_unknown", {"provider": p["provider_number"]})]
    block = rules.blocking_future_switch(state, ctx.today)
    if block is not None:
        out.append(Violation("rule.future_switch_blocks", {"group": block.group,
                                                           "date": block.effective.isoformat()}))
    cur = state.current_group(effective)
    if cur is None or cur.group != 1:
        out.append(Violation("rule.choice_needs_group1", {"group": cur.group if cur else "-"}))
    forced = bool(p.get("forced"))
    if not provider.open:
        rule = p.get("force_rule")
        if not forced:
            out.append(Violation("rule.provider_closed", {"practice": provider.practice_name}))
        elif rule not in rules.FORCE_RULES:
            out.append(Violation("rule.force_rule_unknown", {"rule": rule}))
        else:
            out.extend(_check_force_rule(state, rule, p, effective))
    return out


def _check_force_rule(state: PersonState, rule: str, p: dict[str, Any], effective: date) -> list[Violation]:
    if rule == "cohabitant":
        via = p.get("via_cpr")
        rel = next((r for r in state.relations if r.other_cpr == via), None)
        if rel is None:
            return [Violation("rule.cohabitant_unknown")]
        if rel.kind in (RelationKind.PARENT, RelationKind.CHILD, RelationKind.RESIDENCE_PARENT,
                        RelationKind.RESIDENCE_CHILD):
            return [Violation("rule.cohabitant_parent_child")]
        if rel.kind not in (RelationKind.SPOUSE, RelationKind.COHABITANT):
            return [Violation("rule.cohabitant_unknown")]
    elif rule == "renumbering":
        if not any(c.new_cpr == state.cpr for c in state.cpr_changes):
            return [Violation("rule.renumbering_no_change")]
    elif rule == "group2_to_1":
        # The person must have come from group 2 into group 1 on this date (2.6.5).
        prev = [g for g in state.groups if g.end == effective and g.group == 2]
        cur = state.current_group(effective)
        if not prev or cur is None or cur.group != 1:
            return [Violation("rule.group2_to_1_missing")]
    return []


# --- apply -----------------------------------------------------------------------------


def _end_current_group(groups: tuple[GroupRegistration, ...], at: date) -> tuple[GroupRegistration, ...]:
    return tuple(
        replace(g, end=at) if g.effective <= at and (g.end is None or g.end > at) else g for g in groups
    )


def apply(state: PersonState, op: Operation, ctx: RuleContext) -> PersonState:
    """The state after ``op`` (assumes :func:`check` passed). Bumps the version by one."""
    p = op.payload
    at = str(p.get("at", ""))
    s = state
    detail = op.kind
    if op.kind == "group_switch":
        eff = _date(p, "effective")
        reg = GroupRegistration(op.op_id, int(p["group"]), eff, None, str(p.get("reason", "")))
        s = replace(s, groups=_end_current_group(s.groups, eff) + (reg,))
        detail = f"{p['group']}@{eff.isoformat()}"
    elif op.kind == "doctor_choice":
        eff = _date(p, "effective")
        prov = ctx.provider(p["provider_number"])
        name = prov.practice_name if prov else str(p.get("practice_name", ""))
        status = ChoiceStatus(p.get("status", ChoiceStatus.APPROVED.value))
        until = date.fromisoformat(p["provisional_until"]) if p.get("provisional_until") else None
        doctors = tuple(
            replace(d, end=eff, status=ChoiceStatus.ENDED)
            if d.effective <= eff and d.end is None
            else d
            for d in s.doctors
        )
        choice = DoctorChoice(op.op_id, p["provider_number"], name, p["reason"], eff, None, status,
                              bool(p.get("forced")), p.get("force_rule"), _fee(p), until)
        s = replace(s, doctors=doctors + (choice,))
        detail = f"{p['provider_number']}@{eff.isoformat()}"
    elif op.kind == "doctor_choice_end":
        end = _date(p, "end")
        s = replace(s, doctors=tuple(
            replace(d, end=end, status=ChoiceStatus.ENDED) if d.id == p["choice_id"] else d for d in s.doctors
        ))
        detail = p["choice_id"]
    elif op.kind == "remove_future":
        as_of = _date(p, "as_of")
        s = replace(
            s,
            groups=tuple(g for g in s.groups if g.effective <= as_of),
            doctors=tuple(d for d in s.doctors if d.effective <= as_of),
        )
    elif op.kind == "card_order":
        card = HealthCard(op.op_id, CardStatus.ORDERED, _date(p, "ordered_on"), _fee(p), str(p.get("reason", "")))
        s = replace(s, cards=s.cards + (card,))
    elif op.kind == "card_cancel":
        s = replace(s, cards=tuple(
            replace(c, status=CardStatus.CANCELLED) if c.id == p["card_id"] else c for c in s.cards
        ))
    elif op.kind == "note_add":
        note = Note(op.op_id, at, str(p.get("author", "")), p["text"], op.case_id)
        s = replace(s, notes=s.notes + (note,))
    elif op.kind == "task_close":
        s = replace(s, tasks=tuple(
            replace(t, status=TaskStatus.CLOSED, closed_reason=p["reason"]) if t.id == p["task_id"] else t
            for t in s.tasks
        ))
        detail = p["task_id"]
    elif op.kind == "followup_add":
        due = date.fromisoformat(p["due"]) if p.get("due") else None
        s = replace(s, followups=s.followups + (FollowUp(op.op_id, at, p["text"], due, None, op.case_id),))
    elif op.kind == "followup_done":
        s = replace(s, followups=tuple(
            replace(f, done=str(p.get("done", at))) if f.id == p["followup_id"] else f for f in s.followups
        ))
    s = replace(s, version=s.version + 1,
                history=s.history + (HistoryEntry(at, op.kind, detail, op.case_id),))
    return s


def provisional_until(effective: date) -> date:
    return effective + timedelta(days=rules.PROVISIONAL_DAYS)


@dataclass(frozen=True)
class PlannedOp:
    """An operation a wizard plans, before it gets its ``op_id`` and base version at commit."""

    cpr: str
    kind: str
    payload: dict[str, Any]
