"""2.6.5: forced doctor choice for a person unknown in LUNA.

"Gennemtving" does not work for a person unknown in LUNA. Workaround: switch to group 2,
then from group 2 to group 1 choosing the closed doctor, approve the choice, and remember
to tell the provider to disregard the dispensation application (a follow-up that stays open
until ticked off). The guide is silent on the fee: as for any change by the person's own
choice it is charged by default; the caseworker may waive it with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import rules
from ..model import ChoiceStatus, PersonState
from ..operations import PlannedOp
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext
from .common import (
    address_lines,
    blocking_line,
    doctor_line,
    fee_dict,
    group_line,
    person_lines,
    provider_options,
    requested_provider,
    task_line,
)


def _doctor_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("wizard.forced.ev.luna_unknown") if not s.person.luna_known
               else Msg("wizard.forced.ev.luna_known", level="warning"))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), *address_lines(s)[:1]]
    out.append(Msg("wizard.forced.ev.plan"))
    return out + blocking_line(s, ctx.today)


def _provider_default(draft: Draft, ctx: WizardContext) -> str:
    """The closed practice the citizen asked for (the task's data or note); failing that the
    nearest closed one."""
    wanted = requested_provider(ctx)
    if wanted is not None and not wanted.open:
        return wanted.provider_number
    closed = provider_options(ctx, only_closed=True, limit=1)
    return closed[0].value if closed else ""


def _doctor_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    prov = ctx.provider(draft.get("provider", ""))
    if prov is None:
        return [FieldError("provider", "rule.provider_unknown", {"provider": draft.get("provider", "")})]
    if prov.open:
        return [FieldError("provider", "wizard.forced.error.open", {"practice": prov.practice_name})]
    g = ctx.state.current_group(ctx.today)
    if g is None or g.group not in (1, 2):
        return [FieldError("provider", "wizard.forced.error.group", {"group": g.group if g else "-"})]
    b = rules.blocking_future_switch(ctx.state, ctx.today)
    if b is not None:
        return [FieldError("provider", "rule.future_switch_blocks",
                           {"group": b.group, "date": b.effective.isoformat()})]
    return []


def _fee_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option("paid", Msg("wizard.forced.opt.paid", {"amount": ctx.card_fee})),
            Option("free", Msg("wizard.forced.opt.free"))]


def _fee_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if draft.get("fee") == "free" and not (draft.get("fee_reason") or "").strip():
        return [FieldError("fee_reason", "wizard.forced.error.fee_reason")]
    return []


def _fee_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    return [Msg("wizard.forced.ev.fee_help", {"amount": ctx.card_fee})]


def plan(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    today = ctx.today.isoformat()
    prov = ctx.provider(draft["provider"])
    if prov is None:
        raise ValueError("the provider is unknown")
    ops: list[PlannedOp] = []
    g = s.current_group(ctx.today)
    if g is None or g.group != 2:
        ops.append(PlannedOp(cpr, "group_switch", {"group": 2, "effective": today, "reason": texts.REASON_G2}))
    ops.append(PlannedOp(cpr, "group_switch", {"group": 1, "effective": today, "reason": texts.REASON_G1}))
    if draft.get("fee") == "free":
        waiver = draft.get("fee_reason", "").strip()
        fee = fee_dict(ctx, "doctor_choice", "own_choice", waiver, waiver=waiver)
    else:
        fee = fee_dict(ctx, "doctor_choice", "own_choice", texts.FEE_PAID_OWN)
    ops.append(PlannedOp(cpr, "doctor_choice", {
        "provider_number": prov.provider_number, "practice_name": prov.practice_name,
        "reason": texts.REASON_CHOICE_OWN, "effective": today, "forced": True, "force_rule": "group2_to_1",
        "status": ChoiceStatus.APPROVED.value, "fee": fee}))
    ops.append(PlannedOp(cpr, "followup_add", {"text": texts.followup_disregard(prov.practice_name,
                                                                                 prov.provider_number)}))
    ops.append(PlannedOp(cpr, "note_add", {"text": texts.note_forced(prov.practice_name, prov.provider_number)}))
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": texts.CLOSE_FORCED}))
    return ops


WIZARD = Wizard(
    key="forced_choice_luna",
    workaround_ids=("2.6.5",),
    title="wizard.forced.title",
    steps=(
        Step("doctor", "wizard.forced.step.doctor",
             (Field("provider", "provider", "wizard.forced.field.provider",
                    options=lambda draft, ctx: provider_options(ctx), default=_provider_default),),
             validate=_doctor_validate, evidence=_doctor_evidence),
        Step("fee", "wizard.forced.step.fee",
             (Field("fee", "choice", "wizard.forced.field.fee", options=_fee_options,
                    default=lambda draft, ctx: "paid"),
              Field("fee_reason", "text", "wizard.forced.field.fee_reason", required=False)),
             validate=_fee_validate, evidence=_fee_evidence),
    ),
    plan_fn=plan,
)
