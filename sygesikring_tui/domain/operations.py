"""Operations: the only way a person's state changes, on the desk and on the server.

``check`` says which rules an operation breaks (empty: allowed); ``apply`` returns the new
state. Both are pure and deterministic: new record ids derive from the ``op_id`` and every
timestamp comes from the payload, so the desk and the server reach the same state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from . import fees as fees_mod
from . import closing, forcing, rules
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
    Task,
    TaskStatus,
    evolve,
)

def _nobody(_cpr: str) -> PersonState | None:
    return None


def _no_providers() -> Iterable[Provider]:
    return ()


def _no_lead(_initials: str) -> bool:
    return False


@dataclass(frozen=True)
class RuleContext:
    """What the rules may look at besides the person's own state.

    ``person`` gives another person's state (the cohabitant, the old number, a parent) when
    the caller holds it; ``providers`` every provider (the distance rule); ``fees`` the fee
    per year (``data/fees.json`` unless given); ``team_lead`` whether the caseworker with
    these initials leads the team (may release or reassign another's claim).
    """

    today: date
    provider: Callable[[str], Provider | None]
    person: Callable[[str], PersonState | None] = _nobody
    providers: Callable[[], Iterable[Provider]] = _no_providers
    fees: Mapping[int, int] = dataclasses.field(default_factory=fees_mod.fee_table)
    team_lead: Callable[[str], bool] = _no_lead


@dataclass(frozen=True)
class Violation:
    """A rule an operation breaks: ``code`` is a translation key, ``params`` fill it in."""

    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class PayloadError(ValueError):
    """The operation's payload is malformed (missing, mistyped, too long or unknown field)."""


# --- the payload's shape: every field of every kind, typed and bounded ------------------------
#
# Text limits: notes and follow-up texts at most NOTE_MAX characters; reasons and names
# SHORT_MAX; ids, numbers and timestamps ID_MAX. Text never holds NUL or an unpaired
# surrogate (it could not be stored or sent as UTF-8). Anything else is refused before a
# rule is looked at, so ``apply`` never meets a value it cannot handle.

NOTE_MAX = 10_000
SHORT_MAX = 1_000
ID_MAX = 100
INITIALS_MAX = 16
FEE_MAX = 100_000  # kroner

_TEXT, _DATE, _BOOL, _INT, _FEE = "text", "date", "bool", "int", "fee"
# field -> (type, required, max length for text / None)
_COMMON = {"at": (_TEXT, False, ID_MAX), "author": (_TEXT, False, SHORT_MAX)}
SCHEMA: dict[str, dict[str, tuple[str, bool, int | None]]] = {
    "group_switch": {"group": (_INT, True, None), "effective": (_DATE, True, None),
                     "reason": (_TEXT, False, SHORT_MAX)},
    "doctor_choice": {"provider_number": (_TEXT, True, ID_MAX), "practice_name": (_TEXT, False, SHORT_MAX),
                      "reason": (_TEXT, True, SHORT_MAX), "effective": (_DATE, True, None),
                      "forced": (_BOOL, False, None), "force_rule": (_TEXT, False, ID_MAX),
                      "via_cpr": (_TEXT, False, ID_MAX), "force_basis": (_TEXT, False, SHORT_MAX),
                      "status": (_TEXT, False, ID_MAX), "provisional_until": (_DATE, False, None),
                      "fee": (_FEE, True, None)},
    "doctor_choice_end": {"choice_id": (_TEXT, True, ID_MAX), "end": (_DATE, True, None)},
    "remove_future": {"as_of": (_DATE, True, None)},
    "card_order": {"ordered_on": (_DATE, True, None), "fee": (_FEE, True, None), "reason": (_TEXT, False, SHORT_MAX)},
    "card_cancel": {"card_id": (_TEXT, True, ID_MAX)},
    "note_add": {"text": (_TEXT, True, NOTE_MAX)},
    "task_close": {"task_id": (_TEXT, True, ID_MAX), "reason": (_TEXT, True, SHORT_MAX),
                   "reason_code": (_TEXT, False, ID_MAX), "note": (_TEXT, False, NOTE_MAX)},
    "followup_add": {"text": (_TEXT, True, NOTE_MAX), "due": (_DATE, False, None)},
    "followup_done": {"followup_id": (_TEXT, True, ID_MAX), "done": (_TEXT, False, ID_MAX)},
    # Claiming: ``claimant`` takes the task (the author, or anyone when the author is the
    # present claimant or a team lead: a hand-over or reassignment); release gives it back.
    "task_claim": {"task_id": (_TEXT, True, ID_MAX), "claimant": (_TEXT, True, INITIALS_MAX)},
    "task_release": {"task_id": (_TEXT, True, ID_MAX)},
    # The caseworker's time in the wizard of the case it comes with (open -> commit, summed
    # over the sessions of the draft): the fault-cost report's figure, on every desk and the server.
    "case_time": {"workaround_id": (_TEXT, True, ID_MAX), "seconds": (_INT, True, None),
                  "sessions": (_INT, True, None)},
}
KINDS = tuple(SCHEMA)
FEE_FIELDS = {"paid": (_BOOL, True, None), "amount": (_INT, False, None), "reason": (_TEXT, False, SHORT_MAX),
              "code": (_TEXT, True, ID_MAX), "waiver": (_TEXT, False, SHORT_MAX)}
CHOICE_STATUSES = frozenset({ChoiceStatus.APPROVED.value, ChoiceStatus.PROVISIONAL.value,
                             ChoiceStatus.MISSING.value})


def clean_text(value: Any, name: str, limit: int) -> str:
    """``value`` if it is storable text of at most ``limit`` characters; PayloadError otherwise."""
    if not isinstance(value, str):
        raise PayloadError(f"{name}: expected text")
    if len(value) > limit:
        raise PayloadError(f"{name}: at most {limit} characters")
    if "\x00" in value:
        raise PayloadError(f"{name}: NUL is not allowed in text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PayloadError(f"{name}: not valid Unicode text (unpaired surrogate)") from exc
    return value


def _check_fields(obj: Any, spec: Mapping[str, tuple[str, bool, int | None]], where: str) -> None:
    if not isinstance(obj, dict):
        raise PayloadError(f"{where}: expected an object")
    for key in obj:
        if not isinstance(key, str) or key not in spec:
            raise PayloadError(f"{where}: unknown field {str(key)[:40]!r}")
    for name, (kind, required, limit) in spec.items():
        v = obj.get(name)
        if v is None:
            if required:
                raise PayloadError(f"{name}: required")
            continue
        if kind == _TEXT:
            clean_text(v, name, limit or SHORT_MAX)
            if required and not v.strip():
                raise PayloadError(f"{name}: expected text")
        elif kind == _DATE:
            if not isinstance(v, str) or len(v) > 10:
                raise PayloadError(f"{name}: expected an ISO date")
            try:
                date.fromisoformat(v)
            except ValueError as exc:
                raise PayloadError(f"{name}: expected an ISO date") from exc
        elif kind == _BOOL:
            if not isinstance(v, bool):
                raise PayloadError(f"{name}: expected true or false")
        elif kind == _INT:
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= FEE_MAX:
                raise PayloadError(f"{name}: expected a whole number from 0 to {FEE_MAX}")
        elif kind == _FEE:
            _check_fields(v, FEE_FIELDS, name)


def check_shape(op: Operation) -> None:
    """Raise :class:`PayloadError` unless every field of ``op`` has its kind's type and bounds."""
    if not isinstance(op.kind, str) or op.kind not in SCHEMA:
        raise PayloadError(f"unknown operation kind {str(op.kind)[:40]!r}")
    if op.case_id is not None:
        clean_text(op.case_id, "case_id", ID_MAX)
    clean_text(op.op_id, "op_id", ID_MAX)
    _check_fields(op.payload, {**_COMMON, **SCHEMA[op.kind]}, "payload")
    status = op.payload.get("status")
    if status is not None and status not in CHOICE_STATUSES:
        raise PayloadError(f"status: one of {', '.join(sorted(CHOICE_STATUSES))}")


def _date(payload: dict[str, Any], key: str) -> date:
    return date.fromisoformat(payload[key])


def _opt_date(payload: dict[str, Any], key: str) -> date | None:
    v = payload.get(key)
    return date.fromisoformat(v) if v else None


def _fee(payload: dict[str, Any]) -> Fee:
    f = payload["fee"]
    reason = str(f.get("reason") or "")
    waiver = str(f.get("waiver") or "").strip()
    if waiver and waiver not in reason:
        reason = f"{reason}; fritaget: {waiver}" if reason else f"fritaget: {waiver}"
    return Fee(f["paid"], int(f.get("amount") or 0), reason, str(f["code"]))


# --- check -----------------------------------------------------------------------------


def check(state: PersonState, op: Operation, ctx: RuleContext) -> list[Violation]:
    """The rules ``op`` breaks against ``state`` (empty list: allowed).

    Raises :class:`PayloadError` for a malformed payload. Anything this accepts, :func:`apply`
    handles.
    """
    check_shape(op)
    if op.cpr != state.cpr:
        raise PayloadError("operation is for another person")
    p = op.payload
    out: list[Violation] = []
    if op.kind == "group_switch":
        group = p["group"]
        if group not in rules.VALID_GROUPS:
            out.append(Violation("rule.group_invalid", {"group": group}))
        cur = state.current_group(_date(p, "effective"))
        if cur is not None and cur.group == group:
            out.append(Violation("rule.group_same", {"group": group}))
    elif op.kind == "doctor_choice":
        out.extend(_check_doctor_choice(state, p, ctx))
    elif op.kind == "doctor_choice_end":
        end = _date(p, "end")
        ch = next((d for d in state.doctors if d.id == p["choice_id"]), None)
        # A choice can be ended while it runs, also one already due to end later (a future
        # choice scheduled its end): ending it earlier is allowed (2.2.1), later is not.
        if ch is None or (ch.end is not None and ch.end <= end) or end < ch.effective:
            out.append(Violation("rule.choice_not_active"))
    elif op.kind == "card_order":
        out.extend(_check_fee(state, "card_order", p, _date(p, "ordered_on"), ctx))
    elif op.kind == "card_cancel":
        card = next((c for c in state.cards if c.id == p["card_id"]), None)
        if card is None:
            out.append(Violation("rule.card_unknown"))
        elif card.status != CardStatus.ORDERED:
            out.append(Violation("rule.card_not_cancellable", {"status": card.status.value}))
    elif op.kind == "task_close":
        t = state.task(p["task_id"])
        if t is None:
            out.append(Violation("rule.task_unknown"))
        elif t.status != TaskStatus.OPEN:
            out.append(Violation("rule.task_closed"))
        out.extend(Violation(code) for code in closing.close_problems(p.get("reason_code"), p.get("note")))
    elif op.kind == "followup_done":
        f = next((f for f in state.followups if f.id == p["followup_id"]), None)
        if f is None:
            out.append(Violation("rule.followup_unknown"))
        elif f.done:
            out.append(Violation("rule.followup_done"))
    elif op.kind in ("task_claim", "task_release"):
        out.extend(_check_claim(state, op.kind, p, ctx))
    return out


def claim_holder(task: Task) -> dict[str, Any]:
    """Who holds ``task`` and since when, as a violation's params (``since`` an ISO date)."""
    return {"by": task.assignee or "", "since": (task.claimed_at or "")[:10]}


def _check_claim(state: PersonState, kind: str, p: dict[str, Any], ctx: RuleContext) -> list[Violation]:
    """A claim never overwrites another's: taking a task someone else holds is refused
    (whose, since when) unless the author holds it or leads the team; so is releasing it."""
    t = state.task(p["task_id"])
    if t is None:
        return [Violation("rule.task_unknown")]
    if t.status != TaskStatus.OPEN:
        return [Violation("rule.task_closed")]
    author = str(p.get("author") or "")
    may_move = bool(author) and (author == t.assignee or ctx.team_lead(author))
    if kind == "task_release":
        if t.assignee is None:
            return [Violation("rule.task_not_claimed")]
        if author and not may_move:
            return [Violation("rule.task_claimed", claim_holder(t))]
        return []
    claimant = p["claimant"]
    if t.assignee == claimant:
        return [Violation("rule.task_claimed_already", claim_holder(t))]
    if t.assignee is not None and not may_move:
        return [Violation("rule.task_claimed", claim_holder(t))]
    if author and claimant != author and not may_move:
        # Giving an unclaimed task to someone else is the team lead's.
        return [Violation("rule.task_assign_lead_only")]
    return []


def _check_fee(state: PersonState, kind: str, p: dict[str, Any], on: date, ctx: RuleContext) -> list[Violation]:
    f = p["fee"]
    return [Violation(code, params) for code, params in fees_mod.fee_problems(
        kind, _fee(p), str(f["code"]), str(f.get("waiver") or ""), state, on, ctx.fees)]


def _check_doctor_choice(state: PersonState, p: dict[str, Any], ctx: RuleContext) -> list[Violation]:
    out: list[Violation] = []
    effective = _date(p, "effective")
    provider = ctx.provider(p["provider_number"])
    if provider is None:
        return [Violation("rule.provider_unknown", {"provider": p["provider_number"]})]
    block = rules.blocking_future_switch(state, ctx.today)
    if block is not None:
        out.append(Violation("rule.future_switch_blocks", {"group": block.group,
                                                           "date": block.effective.isoformat()}))
    no_group1 = rules.group1_problem(state, effective)
    if no_group1 is not None:
        out.append(Violation(*no_group1))
    if p.get("status") == ChoiceStatus.PROVISIONAL.value and p.get("provisional_until") is None:
        out.append(Violation("rule.provisional_needs_date"))
    until = _opt_date(p, "provisional_until")
    if until is not None and until < effective:
        out.append(Violation("rule.provisional_before_effective"))
    if not provider.open:
        rule = p.get("force_rule")
        if not p.get("forced"):
            out.append(Violation("rule.provider_closed", {"practice": provider.practice_name}))
        elif rule not in forcing.RULES:
            out.append(Violation("rule.force_rule_unknown", {"rule": rule}))
        else:
            out.extend(_check_forcing(state, provider, rule, p, effective, ctx))
    out.extend(_check_fee(state, "doctor_choice", p, effective, ctx))
    return out


def _check_forcing(state: PersonState, provider: Provider, rule: str, p: dict[str, Any], effective: date,
                   ctx: RuleContext) -> list[Violation]:
    fr = forcing.RULES[rule]
    named = {"rule": rule, "rule_key": f"force.{rule}", "section": fr.section}
    facts = forcing.ForceFacts(state, provider, effective, p.get("via_cpr"), ctx.person, ctx.providers)
    why = fr.why_not(facts)
    out = [Violation(why, named)] if why is not None else []
    if fr.needs_basis and not str(p.get("force_basis") or "").strip():
        out.append(Violation("rule.force.basis_missing", named))
    return out


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
    new: dict[str, Any] = {}  # the fields this operation changes
    detail = op.kind
    if op.kind == "group_switch":
        eff = _date(p, "effective")
        reg = GroupRegistration(op.op_id, int(p["group"]), eff, None, str(p.get("reason", "")))
        new["groups"] = _end_current_group(s.groups, eff) + (reg,)
        detail = f"{p['group']}@{eff.isoformat()}"
    elif op.kind == "doctor_choice":
        eff = _date(p, "effective")
        prov = ctx.provider(p["provider_number"])
        name = prov.practice_name if prov else str(p.get("practice_name", ""))
        status = ChoiceStatus(p.get("status") or ChoiceStatus.APPROVED.value)
        # The running choice ends where the new one begins; until then it stays current (its
        # state is read from the dates), so a choice effective later does not end it today.
        doctors = tuple(replace(d, end=eff) if d.effective <= eff and (d.end is None or d.end > eff) else d
                        for d in s.doctors)
        choice = DoctorChoice(op.op_id, p["provider_number"], name, p["reason"], eff, None, status,
                              bool(p.get("forced")), p.get("force_rule"), _fee(p), _opt_date(p, "provisional_until"))
        new["doctors"] = doctors + (choice,)
        detail = f"{p['provider_number']}@{eff.isoformat()}"
    elif op.kind == "doctor_choice_end":
        end = _date(p, "end")
        new["doctors"] = tuple(replace(d, end=end) if d.id == p["choice_id"] else d for d in s.doctors)
        detail = p["choice_id"]
    elif op.kind == "remove_future":
        s = _remove_future(s, _date(p, "as_of"))
    elif op.kind == "card_order":
        card = HealthCard(op.op_id, CardStatus.ORDERED, _date(p, "ordered_on"), _fee(p), str(p.get("reason", "")))
        new["cards"] = s.cards + (card,)
    elif op.kind == "card_cancel":
        new["cards"] = tuple(
            replace(c, status=CardStatus.CANCELLED) if c.id == p["card_id"] else c for c in s.cards
        )
    elif op.kind == "note_add":
        note = Note(op.op_id, at, str(p.get("author", "")), p["text"], op.case_id)
        new["notes"] = s.notes + (note,)
    elif op.kind == "task_close":
        new["tasks"] = tuple(
            replace(t, status=TaskStatus.CLOSED, closed_reason=p["reason"]) if t.id == p["task_id"] else t
            for t in s.tasks
        )
        detail = p["task_id"]
    elif op.kind in ("task_claim", "task_release"):
        who = p.get("claimant") if op.kind == "task_claim" else None
        new["tasks"] = tuple(
            replace(t, assignee=who, claimed_at=at if who else None) if t.id == p["task_id"] else t
            for t in s.tasks
        )
        detail = f"{p['task_id']}:{who or '-'}"
    elif op.kind == "case_time":
        detail = case_time_detail(p["workaround_id"], p["seconds"], p["sessions"])
    elif op.kind == "followup_add":
        due = _opt_date(p, "due")
        new["followups"] = s.followups + (FollowUp(op.op_id, at, p["text"], due, None, op.case_id),)
    elif op.kind == "followup_done":
        new["followups"] = tuple(
            replace(f, done=str(p.get("done", at)), done_by=str(p.get("author", "")) or None)
            if f.id == p["followup_id"] else f for f in s.followups
        )
    # one copy for the whole change (dataclasses.replace costs ~14 us on a PersonState)
    return evolve(s, **new, version=s.version + 1,
                  history=s.history + (HistoryEntry(at, op.kind, detail, op.case_id),))


def case_time_detail(workaround_id: str, seconds: int, sessions: int) -> str:
    """The history entry's detail of a ``case_time`` operation (read by :func:`parse_case_time`)."""
    return f"{workaround_id};{int(seconds)};{int(sessions)}"


def parse_case_time(detail: str) -> tuple[str, int, int] | None:
    """(workaround id, seconds, sessions) of a ``case_time`` history detail; None if malformed."""
    parts = detail.rsplit(";", 2)
    if len(parts) != 3 or not parts[0]:
        return None
    try:
        return parts[0], int(parts[1]), int(parts[2])
    except ValueError:
        return None


def _remove_future(s: PersonState, as_of: date) -> PersonState:
    """2.2.1: drop the registrations that start after ``as_of``, and the end dates they had put
    on the registrations running then (so the person keeps a group and a doctor after them)."""
    gone_groups = {g.effective for g in s.groups if g.effective > as_of}
    gone_doctors = {d.effective for d in s.doctors if d.effective > as_of}
    return replace(
        s,
        groups=tuple(replace(g, end=None) if g.end is not None and g.end > as_of and g.end in gone_groups else g
                     for g in s.groups if g.effective <= as_of),
        doctors=tuple(replace(d, end=None) if d.end is not None and d.end > as_of and d.end in gone_doctors else d
                      for d in s.doctors if d.effective <= as_of),
    )


def provisional_until(effective: date) -> date:
    return effective + timedelta(days=rules.PROVISIONAL_DAYS)


@dataclass(frozen=True)
class PlannedOp:
    """An operation a wizard plans, before it gets its ``op_id`` and base version at commit."""

    cpr: str
    kind: str
    payload: dict[str, Any]
