"""2.6.7 Practice transfer (PLO1): a free doctor choice on the transfer date, with a note saying
why no fee was charged.

(2.6.7, PLO1) – a new doctor choice, reason "selvvalgt", effective on
the transfer date, free of charge (``fees.doctor_fee("practice_transfer")``), with a note
saying why no fee was charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..model import PersonState
from ..operations import PlannedOp
from . import doctor_choice as dc
from . import texts
from .base import Draft, Field, FieldError, Msg, Step, Wizard, WizardContext, draft_date, parse_date
from .common import doctor_line, group_line, person_lines, task_line
from .force_step import (
    TRANSFER_RULES,
    choice_payload_for,
    chosen_provider,
    event_data,
    event_fee,
    force_note_part,
    force_step,
    iso,
    note_field,
    open_nearest,
    provider_field,
    validate_doctor,
)
from .texts import TRANSFER_CLOSE, TRANSFER_FEE_REASON, note_transfer, with_note
from .texts import d


def transfer_date(ctx: WizardContext) -> date | None:
    """The transfer date in the PLO1 event's data, if any."""
    raw = event_data(ctx).get("transfer_date")
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _transfer_effective_default(draft: Draft, ctx: WizardContext) -> str:
    on = transfer_date(ctx)
    return iso(on) if on else ""


def _transfer_provider_default(draft: Draft, ctx: WizardContext) -> str:
    data = event_data(ctx)
    cur = ctx.state.current_doctor(ctx.today)
    exclude = [x for x in (data.get("from_provider"), data.get("to_provider"),
                           cur.provider_number if cur else None) if x]
    return open_nearest(ctx, exclude)


def _transfer_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today), doctor_line(s, ctx)]
    data = event_data(ctx)
    frm, to = ctx.provider(str(data.get("from_provider", ""))), ctx.provider(str(data.get("to_provider", "")))
    on = transfer_date(ctx)
    if frm or to or on:
        out.append(Msg("wizard.practice_transfer.ev.transfer", {
            "from": f"{frm.practice_name} ({frm.provider_number})" if frm else "?",
            "to": f"{to.practice_name} ({to.provider_number})" if to else "?", "date": d(on)}))
    else:
        out.append(Msg("wizard.practice_transfer.ev.no_data", level="warning"))
    out.append(Msg("wizard.practice_transfer.ev.plan"))
    return out + dc.distance_lines(draft, ctx, TRANSFER_RULES[-1])


def _transfer_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = parse_date(draft["effective"])
    on = transfer_date(ctx)
    if on is not None and eff != on:
        return [FieldError("effective", "wizard.practice_transfer.error.not_transfer_date", {"date": d(on)})]
    return validate_doctor(draft, ctx, TRANSFER_RULES, eff)


def _transfer_note_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    eff = draft_date(draft, "effective", ctx.today)
    return [Msg("wizard.events.ev.fee_free", {"why_key": "wizard.practice_transfer.why_free"}),
            Msg("wizard.events.ev.note_will_be", {"text": _transfer_note(draft, ctx, eff)})]


def _transfer_note(draft: Draft, ctx: WizardContext, eff: date) -> str:
    prov = chosen_provider(draft, ctx)
    frm = ctx.provider(str(event_data(ctx).get("from_provider", "")))
    old = f"{frm.practice_name} ({frm.provider_number})" if frm else None
    return note_transfer(eff, prov.practice_name if prov else "?", prov.provider_number if prov else "?", old) + \
        force_note_part(draft, ctx)


def plan_transfer(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    eff = parse_date(draft["effective"])
    ops = [PlannedOp(cpr, "doctor_choice", choice_payload_for(
        draft, ctx, TRANSFER_RULES, reason=texts.REASON_CHOICE_OWN, effective=eff,
        fee=event_fee("practice_transfer", eff, ctx, TRANSFER_FEE_REASON)))]
    ops.append(PlannedOp(cpr, "note_add", {"text": with_note(_transfer_note(draft, ctx, eff), draft)}))
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": TRANSFER_CLOSE}))
    return ops


PRACTICE_TRANSFER = Wizard(
    key="practice_transfer",
    workaround_ids=("2.6.7",),
    title="wizard.practice_transfer.title",
    steps=(
        Step("doctor", "wizard.practice_transfer.step.doctor",
             (provider_field(TRANSFER_RULES[-1], _transfer_provider_default),
              Field("effective", "date", "wizard.practice_transfer.field.effective",
                    default=_transfer_effective_default, hint="wizard.hint.date",
                    locked=lambda draft, ctx: transfer_date(ctx) is not None)),  # the PLO date, fixed
             validate=_transfer_validate, evidence=_transfer_evidence),
        force_step(TRANSFER_RULES),
        Step("note", "wizard.events.step.note", (note_field(),), evidence=_transfer_note_evidence),
    ),
    plan_fn=plan_transfer,
)
