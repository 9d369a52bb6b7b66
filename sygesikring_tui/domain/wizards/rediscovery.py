"""2.7.3 Rediscovery (CPR 011): the missing doctor choice ended, a doctor chosen (open by
distance, a closed last group 1 GP only on a real return), the task closed.

(2.7.3, CPR 011, due the same day) – the missing doctor choice ended if
present, a doctor chosen, the task closed. The previous doctor is closed: open doctors are
offered by distance. DOMAIN.md allows a closed practice only with the doctor's acceptance
or for the listed cases; "return to the last group 1 GP" is a return from group 2 or 4/5,
not a rediscovery, so it is offered only when the group history really shows such a
return. The choice is free: the person gets a doctor again as on a return
(``first_choice``); the system would have re-assigned one free of charge.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import DoctorChoice, PersonState
from ..operations import PlannedOp
from . import doctor_choice as dc
from .base import Draft, FieldError, Msg, Step, Wizard, WizardContext
from .common import address_lines, group_line, person_lines, previous_doctor_line, task_line
from .force_step import (
    REDISCOVERY_RULES,
    choice_payload_for,
    event_fee,
    force_note_part,
    force_step,
    iso,
    open_nearest,
    provider_field,
    validate_doctor,
)
from .texts import REDISCOVERY_CLOSE, REDISCOVERY_FEE_REASON, REDISCOVERY_REASON
from .texts import d


def missing_choice(state: PersonState) -> DoctorChoice | None:
    """The running "manglende lægevalg", if the person has one."""
    return next((x for x in sorted(state.doctors, key=lambda x: x.effective, reverse=True)
                 if x.status.value == "missing" and x.end is None), None)


def last_doctor(state: PersonState) -> DoctorChoice | None:
    real = [x for x in state.doctors if x.provider_number and x.end is not None]
    return max(real, key=lambda x: (x.end, x.effective)) if real else None


def _rediscovery_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    t = ctx.task
    if t is not None and t.due <= ctx.today:
        out.append(Msg("wizard.rediscovery.ev.due_today", {"due": d(t.due)}, "warning"))
    out.append(group_line(s, ctx.today))
    miss = missing_choice(s)
    if miss is not None:
        out.append(Msg("wizard.rediscovery.ev.missing", {"since": d(miss.effective)}, "warning"))
    else:
        out.append(Msg("wizard.rediscovery.ev.no_missing"))
    last = last_doctor(s)
    if last is not None:
        prov = ctx.provider(last.provider_number)
        out.append(Msg("wizard.ev.doctor_previous", {
            "practice": last.practice_name, "number": last.provider_number,
            "open_key": "wizard.ev.provider_unknown" if prov is None else
            "wizard.ev.open" if prov.open else "wizard.ev.closed", "end": d(last.end)}))
    else:
        out += previous_doctor_line(s, ctx)
    out += address_lines(s)[:1]
    out.append(Msg("wizard.rediscovery.ev.plan"))
    return out + dc.distance_lines(draft, ctx, REDISCOVERY_RULES[-1])


def _rediscovery_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    return validate_doctor(draft, ctx, REDISCOVERY_RULES, ctx.today)


def _rediscovery_default(draft: Draft, ctx: WizardContext) -> str:
    last = last_doctor(ctx.state)
    prov = ctx.provider(last.provider_number) if last else None
    if prov is not None and prov.open:  # reopened since: the system's own first choice
        return prov.provider_number
    return open_nearest(ctx)


def plan_rediscovery(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    ops: list[PlannedOp] = []
    miss = missing_choice(s)
    if miss is not None:
        ops.append(PlannedOp(cpr, "doctor_choice_end", {"choice_id": miss.id, "end": iso(ctx.today)}))
    ops.append(PlannedOp(cpr, "doctor_choice", choice_payload_for(
        draft, ctx, REDISCOVERY_RULES, reason=REDISCOVERY_REASON, effective=ctx.today,
        fee=event_fee("first_choice", ctx.today, ctx, REDISCOVERY_FEE_REASON))))
    force = force_note_part(draft, ctx).strip()
    if force:
        ops.append(PlannedOp(cpr, "note_add", {"text": force + " (2.7.3)"}))
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": REDISCOVERY_CLOSE}))
    return ops


REDISCOVERY = Wizard(
    key="rediscovery",
    workaround_ids=("2.7.3",),
    title="wizard.rediscovery.title",
    steps=(
        Step("doctor", "wizard.rediscovery.step.doctor",
             (provider_field(REDISCOVERY_RULES[-1], _rediscovery_default),),
             validate=_rediscovery_validate, evidence=_rediscovery_evidence),
        force_step(REDISCOVERY_RULES),
    ),
    plan_fn=plan_rediscovery,
)
