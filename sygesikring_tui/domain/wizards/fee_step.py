"""The fee step of a doctor choice: free by a reason the register bears out, or this year's
amount by default, waivable only with the caseworker's written reason (``domain.fees``, the
rules ``check`` applies)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ...fmt import free_reason
from .. import fees
from ..model import PersonState
from .base import Draft, Field, FieldError, Msg, Option, Step, WizardContext

FEE_REASON_TEXT = {
    "first_choice": "første lægevalg efter indrejse – gratis",
    "moving": "flytning – gratis",
    "own_choice": "selvvalgt lægeskift",
    "cohabitant": "samboendes læge – selvvalgt lægeskift",
    "guardian_on_behalf": "lægeskift for person under værgemål – som selvvalgt",
    "practice_closes": "praksis lukker – gratis",
}

ReasonFn = Callable[[Draft, WizardContext], str]


def fee_table(ctx: WizardContext) -> dict[int, int]:
    """The year's fee as a one-row table for ``fees.doctor_fee`` (the engine gives this year's)."""
    return {ctx.today.year: ctx.card_fee}


def reason_applies(reason: str, who: PersonState | None, on: date) -> bool:
    """The fee reason holds for ``who`` on ``on`` by the register (``fees``, as check judges)."""
    return who is not None and fees.DOCTOR_REASON_APPLIES[reason](who, on) is None


def reason_options(reasons: tuple[str, ...], who: PersonState | None, on: date) -> list[Option]:
    """The fee reasons to offer: those the register bears out for ``who``."""
    return [Option(r, Msg("doctors.reason.opt", {"why": FEE_REASON_TEXT[r]})) for r in reasons
            if reason_applies(r, who, on)]


def fee_is_free(reason: str) -> bool:
    return fees.DOCTOR_REASONS[reason]


def _fee_options(reason_fn: ReasonFn) -> Callable[[Draft, WizardContext], list[Option]]:
    def opts(draft: Draft, ctx: WizardContext) -> list[Option]:
        reason = reason_fn(draft, ctx)
        if fee_is_free(reason):
            return [Option("free", Msg("doctors.opt.fee_free", {"why": free_reason(FEE_REASON_TEXT.get(reason, reason))}))]
        return [Option("charge", Msg("doctors.opt.fee_charge", {"amount": ctx.card_fee,
                                                               "why": FEE_REASON_TEXT.get(reason, reason)})),
                Option("waive", Msg("doctors.opt.fee_waive"))]
    return opts


def _fee_default(reason_fn: ReasonFn) -> Callable[[Draft, WizardContext], str]:
    return lambda draft, ctx: "free" if fee_is_free(reason_fn(draft, ctx)) else "charge"


def _fee_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if draft.get("fee") == "waive" and not (draft.get("fee_waiver") or "").strip():
        return [FieldError("fee_waiver", "doctors.error.waiver")]
    return []


def fee_step(reason_fn: ReasonFn, *, step_id: str = "fee", title: str = "doctors.step.fee",
             extra_evidence: Callable[[Draft, WizardContext], list[Msg]] | None = None,
             hint: str = "doctors.hint.fee",
             applies: Callable[[Draft, WizardContext], bool] | None = None) -> Step:
    """A step deciding the fee: free by rule, or charged by default with a written waiver."""
    def evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        reason = reason_fn(draft, ctx)
        out = list(extra_evidence(draft, ctx)) if extra_evidence else []
        key = "doctors.ev.fee_free" if fee_is_free(reason) else "doctors.ev.fee_paid"
        why = FEE_REASON_TEXT.get(reason, reason)
        out.append(Msg(key, {"why": free_reason(why) if fee_is_free(reason) else why, "amount": ctx.card_fee,
                             "year": ctx.today.year}))
        return out

    return Step(step_id, title, (
        Field("fee", "choice", "doctors.field.fee", options=_fee_options(reason_fn), default=_fee_default(reason_fn),
              hint=hint),
        Field("fee_waiver", "text", "doctors.field.fee_waiver", required=False, default=lambda dr, cx: ""),
    ), validate=_fee_validate, evidence=evidence, applies=applies)


def fee_payload(draft: Draft, ctx: WizardContext, reason: str) -> dict:
    """The ``fee`` of a doctor choice: ``fees.doctor_fee`` for the reason, with the draft's waiver."""
    waiver = (draft.get("fee_waiver") or "").strip() if draft.get("fee") == "waive" else ""
    text = FEE_REASON_TEXT.get(reason, reason)
    if waiver and not fees.DOCTOR_REASONS[reason]:
        text = f"{text}; gebyr frafaldet: {waiver}"
    return fees.fee_payload("doctor_choice", reason, ctx.today, fee_table(ctx), text, waiver)


def fee_words(fee: dict) -> str:
    """The fee as a Danish phrase for notes."""
    return f"gebyr {fee['amount']} kr. ({fee['reason']})" if fee["paid"] else f"gratis ({free_reason(fee['reason'])})"
