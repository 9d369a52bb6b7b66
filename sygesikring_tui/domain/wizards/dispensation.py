"""2.6.1 A doctor needing dispensation for a person unknown in LUNA: open doctors within the
distance rule first; beyond it the choice stands approved for 14 days.

Where the guide leaves room, decided: the guide says always choose an OPEN doctor,
first within the distance rule; only if there is none, an open doctor farther away; then
the citizen may apply for a closer doctor that needs dispensation. Closed doctors are
not offered. A doctor within the distance rule needs no dispensation: the choice is
``approved``. A doctor beyond the rule needs dispensation (the glossary: dispensation =
a doctor outside the distance rule) and, as the guide warns, stands approved only for
``rules.PROVISIONAL_DAYS`` (14) days until the doctor accepts or rejects: the choice is
``provisional`` with ``provisional_until`` = effective + 14 days. The warning is shown
on every step, and the note records it and the citizen's option to apply for a closer
doctor needing dispensation (the wanted doctor from the L02 task, when known).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from .. import rules
from ..model import ChoiceStatus, PersonState
from ..operations import PlannedOp
from . import doctor_choice as dc
from . import fee_step as fs
from .base import Draft, Field, Msg, Option, Step, Wizard, WizardContext
from .common import doctor_line, group_line, person_lines, requested_provider, task_line
from .host_move import move_entry
from .note_step import RECENT_MOVE_DAYS, chosen_practice, close_task, note_step, with_extra_note
from .texts import d


DISP_RULE = dc.ChoiceRule(closed="hide", within_first_only=True)
DISP_REASONS = ("moving", "own_choice", "first_choice")


def wanted_provider(ctx: WizardContext):
    """The doctor needing dispensation the person wanted (the L02 task's event data or note)."""
    return requested_provider(ctx)


def _disp_reason_default(draft: Draft, ctx: WizardContext) -> str:
    e = move_entry(ctx.state)
    recent = e is not None and (ctx.today - e.start).days <= RECENT_MOVE_DAYS
    return "moving" if recent and fs.reason_applies("moving", ctx.state, ctx.today) else "own_choice"


def _disp_reason_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return fs.reason_options(DISP_REASONS, ctx.state, ctx.today)


def needs_dispensation(draft: Draft, ctx: WizardContext) -> bool:
    """The chosen doctor is beyond the distance rule (2.6.1: then the 14-day provisional approval)."""
    p = ctx.provider(draft.get("provider", ""))
    if p is None:
        return False
    a = ctx.state.person.address
    return rules.distance_km(a.lat, a.lon, p.lat, p.lon) > dc.limit_km(ctx.state)


def _disp_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("doctors.disp.ev.luna_unknown") if not s.person.luna_known
               else Msg("doctors.disp.ev.luna_known", level="warning"))
    w = wanted_provider(ctx)
    if w is not None:
        a = s.person.address
        out.append(Msg("doctors.disp.ev.wanted", {"practice": w.practice_name, "number": w.provider_number,
                                                  "km": dc.km_text(rules.distance_km(a.lat, a.lon, w.lat, w.lon))}))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), Msg("doctors.disp.ev.plan")]
    offer = dc.offered(draft, ctx, DISP_RULE)
    if offer and not offer[0].within_limit:
        out.append(Msg("doctors.disp.ev.none_within", level="warning"))
    out.append(Msg("doctors.disp.ev.provisional", {"days": rules.PROVISIONAL_DAYS}, "warning"))
    return out + dc.distance_lines(draft, ctx, DISP_RULE)


def _disp_fee_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = dc.chosen_lines(draft, ctx, DISP_RULE)
    if needs_dispensation(draft, ctx):
        until = ctx.today + timedelta(days=rules.PROVISIONAL_DAYS)
        out.append(Msg("doctors.disp.ev.provisional_chosen", {"days": rules.PROVISIONAL_DAYS, "until": d(until)},
                       "warning"))
    else:
        out.append(Msg("doctors.disp.ev.approved"))
    return out


def _disp_note(draft: Draft, ctx: WizardContext) -> str:
    practice, number = chosen_practice(draft, ctx)
    p = ctx.provider(draft.get("provider", ""))
    a = ctx.state.person.address
    km = dc.km_text(rules.distance_km(a.lat, a.lon, p.lat, p.lon)) if p else "?"
    reason = draft.get("reason", "own_choice")
    fee = fs.fee_payload(draft, ctx, reason) if reason in DISP_REASONS else None
    text = (f"Sikrede er ukendt i LUNA, så lægevalg med dispensation kan ikke gennemføres (2.6.1). "
            f"Valgt åben læge {practice} ({number}), {km} km i luftlinje")
    if needs_dispensation(draft, ctx):
        until = ctx.today + timedelta(days=rules.PROVISIONAL_DAYS)
        text += (f", uden for afstandskravet, da der ingen åben læge er inden for: lægevalget kræver dispensation "
                 f"og står som godkendt i {rules.PROVISIONAL_DAYS} dage (til {d(until)}), indtil lægen "
                 f"accepterer eller afviser.")
    else:
        text += ", inden for afstandskravet."
    w = wanted_provider(ctx)
    wanted = f" (ønsket: {w.practice_name}, {w.provider_number})" if w else ""
    text += (f" Sikrede kan derefter søge om en læge tættere på, der kræver dispensation{wanted}; et sådant "
             f"lægevalg står som godkendt i {rules.PROVISIONAL_DAYS} dage, indtil lægen accepterer eller afviser.")
    if fee is not None:
        text += f" {fs.fee_words(fee).capitalize()}."
    return with_extra_note(text, draft)


CLOSE_DISP = "åben læge valgt – Sikrede ukendt i LUNA (2.6.1)"


def plan_dispensation(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    reason = draft["reason"]
    fee = fs.fee_payload(draft, ctx, reason)
    if needs_dispensation(draft, ctx):
        payload = dc.choice_payload(draft, ctx, DISP_RULE, reason, fee, status=ChoiceStatus.PROVISIONAL.value,
                                    provisional_until=ctx.today + timedelta(days=rules.PROVISIONAL_DAYS))
    else:
        payload = dc.choice_payload(draft, ctx, DISP_RULE, reason, fee)
    return [PlannedOp(ctx.cpr, "doctor_choice", payload),
            PlannedOp(ctx.cpr, "note_add", {"text": _disp_note(draft, ctx)}),
            *close_task(ctx, CLOSE_DISP)]


DISPENSATION = Wizard(
    key="dispensation",
    workaround_ids=("2.6.1",),
    title="doctors.disp.title",
    steps=(
        Step("doctor", "doctors.disp.step.doctor",
             (dc.provider_field(DISP_RULE, label="doctors.disp.field.provider"),
              Field("reason", "choice", "doctors.field.reason", options=_disp_reason_options,
                    default=_disp_reason_default)),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, DISP_RULE), evidence=_disp_evidence),
        fs.fee_step(lambda dr, cx: dr.get("reason") if dr.get("reason") in DISP_REASONS else "own_choice",
                    extra_evidence=_disp_fee_evidence),
        note_step(_disp_note),
    ),
    plan_fn=plan_dispensation,
)
