"""2.2.1 Moves to and from Greenland: to Greenland group 7, the running choice ended, the
future registrations removed; from Greenland a follow-up on group 1 and the automatic doctor.

(2.2.1) – moves to and from Greenland. Denmark → Greenland (CPR 013): group 7
(udrejst) from the move date, the doctor choice active on that date ended, every
registration after it removed (future doctor choices and group switches, listed before
the caseworker goes on), a note, the task closed. Greenland → Denmark (CPR 034): the next
day's CPR event gives group 1 and an automatic doctor, so the wizard only records a
follow-up to check that, and closes the task.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from ..model import CPR_STATUS, DoctorChoice, GroupRegistration, PersonState
from ..operations import PlannedOp
from ..workarounds import condition_value, is_greenland
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, parse_date
from .common import address_lines, doctor_line, event_date, group_line, person_lines, task_line
from .force_step import iso, note_field, task_event
from .texts import (
    GL_CLOSE_FROM,
    GL_CLOSE_TO,
    GL_REASON_GROUP7,
    followup_from_greenland,
    note_to_greenland,
    with_note,
)
from .texts import d


DIRECTIONS = ("to_greenland", "from_greenland")


def suggest_direction(ctx: WizardContext) -> str:
    """The evidence's direction: the conditions of domain.workarounds, the task's event first."""
    s = ctx.state
    to_gl = condition_value("to_greenland", s, ctx.today, ctx.provider)
    from_gl = condition_value("from_greenland", s, ctx.today, ctx.provider)
    code = ctx.task.event_code if ctx.task else ""
    if code == "034" and from_gl:
        return "from_greenland"
    if code == "013" and to_gl:
        return "to_greenland"
    if from_gl and not to_gl:
        return "from_greenland"
    if to_gl and not from_gl:
        return "to_greenland"
    return "from_greenland" if code == "034" else "to_greenland"


def _direction_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option(v, Msg(f"wizard.greenland.opt.{v}")) for v in DIRECTIONS]


def _direction_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("wizard.greenland.ev.cpr_status", {"status": s.person.cpr_status,
                                                      "status_key": f"cpr_status.{CPR_STATUS.get(s.person.cpr_status, 'other')}"}))
    out += [group_line(s, ctx.today), doctor_line(s, ctx)]
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    sug = suggest_direction(ctx)
    to_gl = condition_value("to_greenland", s, ctx.today, ctx.provider)
    from_gl = condition_value("from_greenland", s, ctx.today, ctx.provider)
    why = ("wizard.greenland.why.to" if sug == "to_greenland" and to_gl else
           "wizard.greenland.why.from" if sug == "from_greenland" and from_gl else "wizard.greenland.why.event")
    out.append(Msg("wizard.greenland.ev.suggestion", {"direction_key": f"wizard.greenland.opt.{sug}",
                                                      "why_key": why}, "heading"))
    return out


def _is_direction(direction: str):
    return lambda draft, ctx: draft.get("direction") == direction


def _moved_default(draft: Draft, ctx: WizardContext) -> str:
    ev = task_event(ctx)
    if ev is not None and ev.code == "013":
        return iso(ev.event_date)
    gl = [a for a in ctx.state.addresses if is_greenland(a.address.municipality_code) and a.start <= ctx.today]
    if gl:
        return iso(max(a.start for a in gl))
    return iso(event_date(ctx) or ctx.today)


def future_after(state: PersonState, moved: date) -> tuple[list[GroupRegistration], list[DoctorChoice]]:
    """The registrations a ``remove_future`` as of ``moved`` deletes (domain.operations.apply)."""
    return ([g for g in sorted(state.groups, key=lambda g: g.effective) if g.effective > moved],
            [x for x in sorted(state.doctors, key=lambda x: x.effective) if x.effective > moved])


def active_choices(state: PersonState, on: date) -> list[DoctorChoice]:
    """Doctor choices running on ``on`` (the ones the move to Greenland ends), also one whose
    end a future choice has scheduled after ``on`` (that future choice is removed)."""
    return [x for x in sorted(state.doctors, key=lambda x: x.effective)
            if x.effective <= on and (x.end is None or x.end > on)]


def _to_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    moved = draft_date(draft, "moved", ctx.today)
    out = [group_line(s, ctx.today), Msg("wizard.greenland.ev.to_plan", {"date": d(moved)})]
    ended = active_choices(s, moved)
    if not ended:
        out.append(Msg("wizard.greenland.ev.no_choice"))
    for x in ended:
        out.append(_choice_line("wizard.greenland.ev.end_choice", x, ctx))
    groups, doctors = future_after(s, moved)
    out.append(Msg("wizard.greenland.ev.remove_heading", {"date": d(moved)}, "heading"))
    if not groups and not doctors:
        out.append(Msg("wizard.greenland.ev.remove_none"))
    for g in groups:
        out.append(Msg("wizard.greenland.ev.remove_group", {"group": g.group, "date": d(g.effective)}, "warning"))
    for x in doctors:
        out.append(_choice_line("wizard.greenland.ev.remove_choice", x, ctx, "warning"))
    if not is_greenland(s.person.address.municipality_code) and s.person.cpr_status not in ("05", "07"):
        out.append(Msg("wizard.greenland.ev.not_greenland_address", level="warning"))
    return out


def _choice_line(key: str, x: DoctorChoice, ctx: WizardContext, level: str = "info") -> Msg:
    if not x.provider_number:
        return Msg(key, {"practice_key": "wizard.events.missing_choice", "number": "-", "date": d(x.effective)}, level)
    return Msg(key, {"practice_key": "wizard.events.practice", "practice": x.practice_name,
                     "number": x.provider_number, "date": d(x.effective)}, level)


def _to_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    moved = parse_date(draft["moved"])
    if moved > ctx.today:
        return [FieldError("moved", "wizard.greenland.error.moved_future", {"date": d(ctx.today)})]
    # the state after removing what lies beyond the move date: is the person already in 7 then?
    g = [x for x in ctx.state.groups if x.effective <= moved and (x.end is None or x.end > moved)]
    if g and max(g, key=lambda x: x.effective).group == 7:
        return [FieldError("moved", "wizard.greenland.error.already7", {"date": d(moved)})]
    return []


def _from_due_default(draft: Draft, ctx: WizardContext) -> str:
    """The day after the event (the task's CPR event, else the day the task came); today when
    that day has passed (a follow-up is never due in the past)."""
    base = event_date(ctx) or ctx.today
    return iso(max(base + timedelta(days=1), ctx.today))


def _from_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = [Msg("wizard.greenland.ev.from_plan"), group_line(s, ctx.today), doctor_line(s, ctx)]
    g = s.current_group(ctx.today)
    doc = s.current_doctor(ctx.today)
    if g is not None and g.group == 1 and doc is not None and doc.provider_number:
        out.append(Msg("wizard.greenland.ev.from_done", {"since": d(g.effective)}))
    else:
        out.append(Msg("wizard.greenland.ev.from_pending", level="warning"))
    if is_greenland(s.person.address.municipality_code):
        out.append(Msg("wizard.greenland.ev.still_greenland", level="warning"))
    return out


def _from_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    due = parse_date(draft["due"])
    if due < ctx.today:
        return [FieldError("due", "wizard.greenland.error.due_past", {"date": d(ctx.today)})]
    return []


def plan_greenland(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    ops: list[PlannedOp] = []
    if draft.get("direction") == "to_greenland":
        moved = parse_date(draft["moved"])
        groups, doctors = future_after(s, moved)
        ops.append(PlannedOp(cpr, "remove_future", {"as_of": iso(moved)}))
        ops.append(PlannedOp(cpr, "group_switch", {"group": 7, "effective": iso(moved),
                                                   "reason": GL_REASON_GROUP7}))
        ended = active_choices(s, moved)
        for x in ended:
            ops.append(PlannedOp(cpr, "doctor_choice_end", {"choice_id": x.id, "end": iso(moved)}))
        ops.append(PlannedOp(cpr, "note_add", {"text": with_note(
            note_to_greenland(moved, ended, len(groups), len(doctors)), draft)}))
        reason = GL_CLOSE_TO
    elif draft.get("direction") == "from_greenland":
        ev = task_event(ctx)
        moved = ev.event_date if ev else None
        ops.append(PlannedOp(cpr, "followup_add", {"text": followup_from_greenland(moved),
                                                   "due": iso(parse_date(draft["due"]))}))
        reason = GL_CLOSE_FROM
    else:
        raise ValueError(f"no direction in the draft: {draft.get('direction')!r}")
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": reason}))
    return ops


GREENLAND = Wizard(
    key="greenland",
    workaround_ids=("2.2.1",),
    title="wizard.greenland.title",
    steps=(
        Step("direction", "wizard.greenland.step.direction",
             (Field("direction", "choice", "wizard.greenland.field.direction", options=_direction_options,
                    default=lambda draft, ctx: suggest_direction(ctx)),),
             evidence=_direction_evidence),
        Step("to_greenland", "wizard.greenland.step.to_greenland",
             (Field("moved", "date", "wizard.greenland.field.moved", default=_moved_default,
                    hint="wizard.hint.date"),
              note_field()),
             validate=_to_validate, evidence=_to_evidence, applies=_is_direction("to_greenland")),
        Step("from_greenland", "wizard.greenland.step.from_greenland",
             (Field("due", "date", "wizard.greenland.field.due", default=_from_due_default,
                    hint="wizard.hint.date"),),
             validate=_from_validate, evidence=_from_evidence, applies=_is_direction("from_greenland")),
    ),
    plan_fn=plan_greenland,
)
