"""2.7.7 Name change at marriage: a new health card, free within 3 months of the wedding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from .. import fees as fees_mod
from ..model import PersonState, RelationKind
from ..operations import PlannedOp
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, parse_date
from .card_records import (
    CARD_REASON_MARRIAGE,
    CLOSE_MARRIAGE_CARD,
    CLOSE_MARRIAGE_NO_CARD,
    FEE_FREE_MARRIAGE,
    FEE_PAID_MARRIAGE,
    iso_or_empty,
    note_marriage,
)
from .common import event_date, fee_dict, person_lines, task_line
from .texts import d


def _spouse_line(state: PersonState) -> list[Msg]:
    rels = state.relations_of(RelationKind.SPOUSE)
    if not rels:
        return [Msg("wizard.marriage.ev.no_spouse")]
    r = rels[-1]
    return [Msg("wizard.marriage.ev.spouse", {"name": r.other_name, "since": d(r.since)})]


def _marriage_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    p = s.person
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("wizard.marriage.ev.married", {"date": d(p.married_on)}) if p.married_on
               else Msg("wizard.marriage.ev.married_missing", level="warning"))
    out.append(Msg("wizard.marriage.ev.changed", {"date": d(p.name_changed_on)}) if p.name_changed_on
               else Msg("wizard.marriage.ev.changed_missing", level="warning"))
    out += _spouse_line(s)
    out.append(Msg("wizard.marriage.ev.rule"))
    return out


def _dates_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    errs = []
    for key in ("married_on", "name_changed_on"):
        if parse_date(draft[key]) > ctx.today:
            errs.append(FieldError(key, "wizard.cards.error.future", {"date": d(ctx.today)}))
    return errs


def marriage_dates(draft: Draft, ctx: WizardContext) -> tuple[date, date]:
    return draft_date(draft, "married_on", ctx.today), draft_date(draft, "name_changed_on", ctx.today)


def marriage_within(draft: Draft, ctx: WizardContext) -> bool:
    married, changed = marriage_dates(draft, ctx)
    return fees_mod.within_three_months(married, changed)


def _order_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    first = "free" if marriage_within(draft, ctx) else "paid"
    return [Option(first, Msg(f"wizard.marriage.opt.{first}", {"amount": ctx.card_fee})),
            Option("none", Msg("wizard.marriage.opt.none"))]


def _order_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    married, changed = marriage_dates(draft, ctx)
    if marriage_within(draft, ctx):
        return [Msg("wizard.marriage.ev.within", {"married": d(married), "changed": d(changed)}, "heading")]
    return [Msg("wizard.marriage.ev.outside", {"married": d(married), "changed": d(changed),
                                               "amount": ctx.card_fee}, "warning")]


def _marriage_note_default(draft: Draft, ctx: WizardContext) -> str:
    married, changed = marriage_dates(draft, ctx)
    return note_marriage(draft.get("order", "none"), married, changed, ctx.card_fee)


def marriage_card_fee(order: str, ctx: WizardContext) -> dict:
    """The card's fee by domain.fees: free for a name change at marriage within 3 months,
    otherwise paid (a card by own choice)."""
    if order == "free":
        return fee_dict(ctx, "card_order", "name_change_marriage", FEE_FREE_MARRIAGE)
    return fee_dict(ctx, "card_order", "own_choice", FEE_PAID_MARRIAGE)


def plan_marriage(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    order = draft.get("order", "")
    if order not in ("free", "paid", "none"):
        raise ValueError(f"no card decision in the draft: {order!r}")
    ops: list[PlannedOp] = []
    if order != "none":
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": ctx.today.isoformat(),
                                                 "fee": marriage_card_fee(order, ctx),
                                                 "reason": CARD_REASON_MARRIAGE}))
    ops.append(PlannedOp(cpr, "note_add", {"text": draft["note"].strip()}))
    if ctx.task is not None:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": CLOSE_MARRIAGE_NO_CARD
                                                 if order == "none" else CLOSE_MARRIAGE_CARD}))
    return ops


def _changed_default(draft: Draft, ctx: WizardContext) -> str:
    p = ctx.state.person
    if p.name_changed_on:
        return p.name_changed_on.isoformat()
    t = ctx.task
    if t is not None and t.event_code == "004":
        return iso_or_empty(event_date(ctx))
    return ""


MARRIAGE_NAME_CARD = Wizard(
    key="marriage_name_card",
    workaround_ids=("2.7.7",),
    title="wizard.marriage.title",
    steps=(
        Step("dates", "wizard.marriage.step.dates",
             (Field("married_on", "date", "wizard.marriage.field.married_on", hint="wizard.hint.date",
                    default=lambda dr, cx: iso_or_empty(cx.state.person.married_on)),
              Field("name_changed_on", "date", "wizard.marriage.field.name_changed_on", hint="wizard.hint.date",
                    default=_changed_default)),
             validate=_dates_validate, evidence=_marriage_evidence),
        Step("order", "wizard.marriage.step.order",
             (Field("order", "choice", "wizard.marriage.field.order", options=_order_options,
                    default=lambda dr, cx: "free" if marriage_within(dr, cx) else "paid"),),
             evidence=_order_evidence),
        Step("note", "wizard.cards.step.note",
             (Field("note", "text", "wizard.field.note", default=_marriage_note_default),)),
    ),
    plan_fn=plan_marriage,
)
