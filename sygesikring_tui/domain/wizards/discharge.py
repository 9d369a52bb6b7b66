"""2.4.1 / 3.1.7 Discharge (CPR 039): group 5 -> 1, the doctor after the service, a new card
when it was taken in, the guide's closing note.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..model import GroupRegistration, PersonState
from ..operations import PlannedOp
from . import doctor_after_group45 as after45
from . import texts
from .base import Draft, Field, FieldError, Msg, Step, Wizard, WizardContext, draft_date, yes
from .callup import event_day, task_required
from .common import (
    address_lines,
    blocking_line,
    doctor_line,
    fee_dict,
    group_line,
    person_lines,
    previous_doctor_line,
    task_line,
)
from .texts import d


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
    return task_required(draft, ctx)


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
             (Field("effective", "date", "wizard.field.effective", default=event_day, hint="wizard.hint.date"),),
             validate=_discharge_validate, evidence=_discharge_evidence),
        Step("doctor", "wizard.discharge.step.doctor",
             (after45.field("wizard.discharge.field.new_doctor", after45.on_date),
              Field("new_card", "confirm", "wizard.discharge.field.new_card", default=lambda dr, cx: "no",
                    required=False)),
             validate=after45.validate, evidence=_doctor_evidence),
    ),
    plan_fn=plan_discharge,
)
