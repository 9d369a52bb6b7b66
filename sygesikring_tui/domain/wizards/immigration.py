"""2.1.1 Immigration: a new doctor choice after arrival, the automatic choice's card cancelled
while it can be, a free first card.

Where the guide leaves room, decided: the card "ordered with the automatic doctor choice" is the newest card ordered on
or after the arrival (the 014 event's date) that is not cancelled. Status ``ordered`` →
``card_cancel``; ``produced``/``sent`` → cannot be cancelled, the note records the
accepted risk of two cards. The new choice's reason is first choice (free). The wizard
offers to order the new card (free, first card) that goes with the new choice; the
caseworker can untick it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ...fmt import free_reason
from ..model import CardStatus, HealthCard, PersonState
from ..operations import PlannedOp
from . import doctor_choice as dc
from . import fee_step as fs
from .base import Draft, Field, FieldError, Msg, Step, Wizard, WizardContext
from .common import doctor_line, event_date, fee_dict, group_line, person_lines, task_line
from .note_step import chosen_practice, close_task, note_step, with_extra_note
from .texts import d


def arrival(state: PersonState, ctx: WizardContext) -> date | None:
    """The immigration date: the task's 014 event, else the person's latest 014 event."""
    t = ctx.task
    if t is not None and t.event_code == "014":
        return event_date(ctx)
    evs = [e for e in state.events if e.code == "014"]
    return max(evs, key=lambda e: e.event_date).event_date if evs else None


def auto_card(state: PersonState, since: date | None) -> HealthCard | None:
    """The card ordered with the automatic doctor choice: the newest not cancelled since arrival."""
    if since is None:
        return None
    cards = [k for k in state.cards if k.ordered_on >= since and k.status != CardStatus.CANCELLED]
    return max(cards, key=lambda k: (k.ordered_on, k.id)) if cards else None


IMMIGRATION_RULE = dc.ChoiceRule(closed="refuse", exclude_current=True)


def _imm_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    arr = arrival(s, ctx)
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("doctors.imm.ev.arrival", {"date": d(arr)}) if arr else
               Msg("doctors.imm.ev.no_arrival", level="warning"))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), Msg("doctors.imm.ev.plan")]
    out.append(Msg("doctors.ev.fee_free", {"why": free_reason(fs.FEE_REASON_TEXT["first_choice"]), "amount": ctx.card_fee,
                                           "year": ctx.today.year}))
    return out + dc.distance_lines(draft, ctx, IMMIGRATION_RULE)


def _imm_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if arrival(ctx.state, ctx) is None:
        return [FieldError("", "doctors.imm.error.no_arrival")]
    return dc.validate("provider", draft, ctx, IMMIGRATION_RULE)


def _card_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    card = auto_card(s, arrival(s, ctx))
    out = dc.chosen_lines(draft, ctx, IMMIGRATION_RULE)
    if card is None:
        out.append(Msg("doctors.imm.ev.no_card", level="warning"))
    else:
        out.append(Msg("doctors.imm.ev.card", {"date": d(card.ordered_on), "status_key": f"doctors.card.{card.status.value}",
                                              "reason": card.reason}))
        if card.status == CardStatus.ORDERED:
            out.append(Msg("doctors.imm.ev.cancel"))
        else:
            out.append(Msg("doctors.imm.ev.two_cards", {"status_key": f"doctors.card.{card.status.value}"}, "warning"))
    out.append(dc.letter_line())
    return out


def _imm_note(draft: Draft, ctx: WizardContext) -> str:
    s = ctx.state
    arr = arrival(s, ctx)
    practice, number = chosen_practice(draft, ctx)
    auto = s.current_doctor(ctx.today)
    auto_txt = f" i stedet for den automatisk tildelte læge {auto.practice_name} ({auto.provider_number})" if auto else ""
    text = (f"Indrejse {d(arr)}: nyt lægevalg {practice} ({number}){auto_txt}, gratis (første lægevalg efter "
            f"indrejse, 2.1.1).")
    card = auto_card(s, arr)
    if card is None:
        text += " Intet automatisk bestilt sundhedskort fundet."
    elif card.status == CardStatus.ORDERED:
        text += f" Det automatisk bestilte sundhedskort af {d(card.ordered_on)} er annulleret."
    else:
        text += (f" Det automatisk bestilte sundhedskort af {d(card.ordered_on)} kunne ikke annulleres "
                 f"(status: {CARD_STATUS_DA[card.status]}): der kan blive sendt to sundhedskort – accepteret "
                 f"risiko aftalt med regionen (2.1.1).")
    if draft.get("new_card") == "yes":
        text += " Nyt sundhedskort med den nye læge bestilt (gratis)."
    return with_extra_note(text, draft)


CARD_STATUS_DA = {CardStatus.ORDERED: "bestilt", CardStatus.PRODUCED: "produceret", CardStatus.SENT: "sendt",
                  CardStatus.CANCELLED: "annulleret"}
CLOSE_IMMIGRATION = "nyt lægevalg efter indrejse (2.1.1)"
CARD_REASON_IMMIGRATION = "nyt sundhedskort med lægevalg efter indrejse (2.1.1)"


def plan_immigration(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    fee = fs.fee_payload(draft, ctx, "first_choice")
    ops = [PlannedOp(cpr, "doctor_choice", dc.choice_payload(draft, ctx, IMMIGRATION_RULE, "first_choice", fee))]
    card = auto_card(s, arrival(s, ctx))
    if card is not None and card.status == CardStatus.ORDERED:
        ops.append(PlannedOp(cpr, "card_cancel", {"card_id": card.id}))
    if draft.get("new_card") == "yes":
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": ctx.today.isoformat(),
                                                 "fee": fee_dict(ctx, "card_order", "first_card",
                                                                 "første sundhedskort – gratis"),
                                                 "reason": CARD_REASON_IMMIGRATION}))
    ops.append(PlannedOp(cpr, "note_add", {"text": _imm_note(draft, ctx)}))
    return ops + close_task(ctx, CLOSE_IMMIGRATION)


IMMIGRATION = Wizard(
    key="immigration",
    workaround_ids=("2.1.1",),
    title="doctors.imm.title",
    steps=(
        Step("doctor", "doctors.imm.step.doctor", (dc.provider_field(IMMIGRATION_RULE),),
             validate=_imm_validate, evidence=_imm_evidence),
        Step("card", "doctors.imm.step.card",
             (Field("new_card", "confirm", "doctors.imm.field.new_card", default=lambda dr, cx: "yes",
                    required=False),),
             evidence=_card_evidence),
        note_step(_imm_note),
    ),
    plan_fn=plan_immigration,
)
