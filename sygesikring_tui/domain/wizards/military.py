"""CPR event 038 "call-up" (2.4.1 / 2.5.1 / 2.7.6), 039 "discharge" (2.4.1, 3.1.7) and the
2.5.1 note written before the event.

A 038 cannot tell a conscript from a state-posted citizen or a short stay abroad with a
supplementary address: the caseworker decides with the evidence on screen; the wizard
suggests an answer from the evidence (a state-posted note; a supplementary address).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..model import GroupRegistration, PersonState
from ..operations import PlannedOp
from ..workarounds import has_state_posted_note
from . import doctor_after_group45 as after45
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, yes
from .common import (
    address_lines,
    blocking_line,
    doctor_line,
    event_date,
    fee_dict,
    group_line,
    note_lines,
    person_lines,
    previous_doctor_line,
    provider_options,
    task_line,
)
from .texts import d

DECISIONS = ("conscript", "state_posted", "short_stay")


def has_supplementary_address(state: PersonState) -> bool:
    """A supplementary address now, or one in the address history."""
    return bool(state.person.supplementary_address) or any(e.supplementary for e in state.addresses)


def suggest_callup(state: PersonState) -> str:
    """The evidence's suggestion: a state-posted note → 2.5.1; a supplementary address without
    one → 2.7.6; otherwise a conscript (2.4.1). The caseworker decides."""
    if has_state_posted_note(state):
        return "state_posted"
    if has_supplementary_address(state):
        return "short_stay"
    return "conscript"


def _event_day(draft: Draft, ctx: WizardContext) -> str:
    return (event_date(ctx) or ctx.today).isoformat()


def _task_required(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    return [] if ctx.task is not None else [FieldError("", "wizard.error.no_task")]


# == call-up (038) ==========================================================================

def _decide_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today)]
    out.append(Msg("wizard.ev.notes_heading", level="heading"))
    out += note_lines(s)
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    sug = suggest_callup(s)
    why = {"state_posted": "wizard.callup.why.note", "short_stay": "wizard.callup.why.supplementary",
           "conscript": "wizard.callup.why.none"}[sug]
    out.append(Msg("wizard.callup.ev.suggestion", {"decision_key": f"wizard.callup.opt.{sug}", "why_key": why},
                   "heading"))
    return out


def _decision_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option(v, Msg(f"wizard.callup.opt.{v}")) for v in DECISIONS]


def _conscript_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = [group_line(s, ctx.today), Msg("wizard.callup.ev.conscript_plan")]
    g = s.current_group(ctx.today)
    if g is not None and g.group != 1:
        out.append(Msg("wizard.callup.ev.not_group1", {"group": g.group}, "warning"))
    return out


def _conscript_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = draft_date(draft, "effective", ctx.today)
    g = ctx.state.current_group(eff)
    if g is not None and g.group == 5:
        return [FieldError("effective", "wizard.callup.error.already5", {"date": d(eff)})]
    return _task_required(draft, ctx)


def _state_posted_note_default(draft: Draft, ctx: WizardContext) -> str:
    return texts.note_state_posted_after(event_date(ctx))


def _state_posted_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = [Msg("wizard.callup.ev.state_posted_plan")]
    if not has_state_posted_note(ctx.state):
        out.append(Msg("wizard.callup.ev.no_state_posted_note", level="warning"))
    return out


def _short_stay_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = [Msg("wizard.callup.ev.short_stay_plan")]
    if not has_supplementary_address(ctx.state):
        out.append(Msg("wizard.callup.ev.no_supplementary", level="warning"))
    return out


def plan_callup(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    decision = draft.get("decision")
    ops: list[PlannedOp] = []
    if decision == "conscript":
        eff = draft_date(draft, "effective", ctx.today)
        ops.append(PlannedOp(cpr, "group_switch", {"group": 5, "effective": eff.isoformat(),
                                                   "reason": texts.REASON_CALLUP}))
        reason = texts.CLOSE_CONSCRIPT
    elif decision == "state_posted":
        ops.append(PlannedOp(cpr, "note_add", {"text": draft["state_posted_note"].strip()}))
        reason = texts.CLOSE_STATE_POSTED
    elif decision == "short_stay":
        note = (draft.get("short_stay_note") or "").strip()
        if note:
            ops.append(PlannedOp(cpr, "note_add", {"text": note}))
        reason = texts.CLOSE_SHORT_STAY
    else:
        raise ValueError(f"no decision in the draft: {decision!r}")
    ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": reason}))
    return ops


def _is(decision: str):
    return lambda draft, ctx: draft.get("decision") == decision


CALLUP = Wizard(
    key="callup",
    workaround_ids=("2.4.1", "2.5.1", "2.7.6"),
    title="wizard.callup.title",
    steps=(
        Step("decide", "wizard.callup.step.decide",
             (Field("decision", "choice", "wizard.callup.field.decision", options=_decision_options,
                    default=lambda draft, ctx: suggest_callup(ctx.state)),),
             evidence=_decide_evidence),
        Step("conscript", "wizard.callup.step.conscript",
             (Field("effective", "date", "wizard.field.effective", default=_event_day, hint="wizard.hint.date"),),
             validate=_conscript_validate, evidence=_conscript_evidence, applies=_is("conscript")),
        Step("state_posted", "wizard.callup.step.state_posted",
             (Field("state_posted_note", "text", "wizard.field.note", default=_state_posted_note_default),),
             validate=_task_required, evidence=_state_posted_evidence, applies=_is("state_posted")),
        Step("short_stay", "wizard.callup.step.short_stay",
             (Field("short_stay_note", "text", "wizard.field.note_optional", default=lambda dr, cx: "",
                    required=False),),
             validate=_task_required, evidence=_short_stay_evidence, applies=_is("short_stay")),
    ),
    plan_fn=plan_callup,
    section=lambda draft: {"conscript": "2.4.1", "state_posted": "2.5.1", "short_stay": "2.7.6"}.get(
        draft.get("decision", "")),
)


# == discharge (039) ========================================================================

def service_start(state: PersonState, on: date) -> GroupRegistration | None:
    """The group-5 registration current on ``on`` (the military service)."""
    g = state.current_group(on)
    return g if g is not None and g.group == 5 else None


def moved_during_service(state: PersonState, on: date) -> bool:
    """Did the address change after the group-5 start? (the 2.4.1 warning)."""
    g = service_start(state, on)
    if g is None:
        return False
    return any(e.start > g.effective and not e.supplementary for e in state.addresses)


def _discharge_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    eff = draft_date(draft, "effective", ctx.today)
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today), doctor_line(s, ctx)]
    out += previous_doctor_line(s, ctx)
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    if moved_during_service(s, eff):
        g = service_start(s, eff)
        out.append(Msg("wizard.discharge.ev.moved", {"since": d(g.effective if g else None)}, "warning"))
    out.append(Msg("wizard.discharge.ev.plan"))
    return out


def _discharge_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = draft_date(draft, "effective", ctx.today)
    if service_start(ctx.state, eff) is None:
        g = ctx.state.current_group(eff)
        return [FieldError("effective", "wizard.discharge.error.not5", {"group": g.group if g else "-",
                                                                       "date": d(eff)})]
    return _task_required(draft, ctx)


def _doctor_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    eff = draft_date(draft, "effective", ctx.today)
    out = [doctor_line(s, ctx), *previous_doctor_line(s, ctx), *after45.evidence(draft, ctx, eff)]
    if moved_during_service(s, eff):
        out.append(Msg("wizard.discharge.ev.offer_choice", level="warning"))
        out.append(Msg("wizard.discharge.ev.fee_free"))
    else:
        out.append(Msg("wizard.discharge.ev.fee_paid", {"amount": ctx.card_fee}))
    return out + blocking_line(s, ctx.today)


def plan_discharge(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    eff = draft_date(draft, "effective", ctx.today)
    moved = moved_during_service(s, eff)
    ops = [PlannedOp(cpr, "group_switch", {"group": 1, "effective": eff.isoformat(),
                                           "reason": texts.REASON_DISCHARGE})]
    choice = draft.get(after45.FIELD, after45.KEEP)
    if choice == after45.RESTORE:
        restore = after45.restore_op(ctx, s, eff)
        if restore is not None:
            ops.append(restore)
    elif choice and choice not in (after45.KEEP, after45.NONE):
        prov = ctx.provider(choice)
        fee = (fee_dict(ctx, "doctor_choice", "moving", texts.FEE_FREE_MOVE, eff) if moved
               else fee_dict(ctx, "doctor_choice", "own_choice", texts.FEE_PAID_OWN, eff))
        ops.append(PlannedOp(cpr, "doctor_choice", {
            "provider_number": choice, "practice_name": prov.practice_name if prov else "",
            "reason": texts.REASON_CHOICE_MOVE if moved else texts.REASON_CHOICE_OWN,
            "effective": eff.isoformat(), "forced": False, "fee": fee}))
    if yes(draft, "new_card"):
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": max(eff, ctx.today).isoformat(),
                                                 "fee": fee_dict(ctx, "card_order", "leaving_group_4_5",
                                                                 texts.FEE_FREE_DISCHARGE),
                                                 "reason": texts.CARD_AFTER_DISCHARGE}))
    ops.append(PlannedOp(cpr, "note_add", {"text": texts.note_discharge(
        eff, after45.words(draft, ctx, eff), yes(draft, "new_card"))}))
    ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": texts.CLOSE_DISCHARGE}))
    return ops


DISCHARGE = Wizard(
    key="discharge",
    workaround_ids=("2.4.1", "3.1.7"),
    title="wizard.discharge.title",
    steps=(
        Step("discharge", "wizard.discharge.step.discharge",
             (Field("effective", "date", "wizard.field.effective", default=_event_day, hint="wizard.hint.date"),),
             validate=_discharge_validate, evidence=_discharge_evidence),
        Step("doctor", "wizard.discharge.step.doctor",
             (after45.field("wizard.discharge.field.new_doctor", after45.on_date),
              Field("new_card", "confirm", "wizard.discharge.field.new_card", default=lambda dr, cx: "no",
                    required=False)),
             validate=after45.validate, evidence=_doctor_evidence),
    ),
    plan_fn=plan_discharge,
)


# == 2.5.1 before the event: the note ======================================================

def _note_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + [group_line(s, ctx.today)] + address_lines(s)
    if has_state_posted_note(s):
        out.append(Msg("wizard.state_posted_note.ev.exists", level="warning"))
    out.append(Msg("wizard.ev.notes_heading", level="heading"))
    return out + note_lines(s)


def _note_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    # The 038 wizard finds the note by this word; without it the note would not be evidence.
    if texts.STATE_POSTED_MARK not in (draft.get("note") or "").lower():
        return [FieldError("note", "wizard.state_posted_note.error.mark")]
    return []


def plan_state_posted_note(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    return [PlannedOp(ctx.cpr, "note_add", {"text": draft["note"].strip()})]


STATE_POSTED_NOTE = Wizard(
    key="state_posted_note",
    workaround_ids=("2.5.1",),
    title="wizard.state_posted_note.title",
    steps=(
        Step("note", "wizard.state_posted_note.step.note",
             (Field("note", "text", "wizard.field.note",
                    default=lambda draft, ctx: texts.note_state_posted_before()),),
             validate=_note_validate, evidence=_note_evidence),
    ),
    plan_fn=plan_state_posted_note,
)
