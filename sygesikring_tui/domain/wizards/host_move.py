"""2.3.2 Moving in with a host: once the move has taken effect, the host's (closed) doctor is
chosen under the cohabitant rule.

Where the guide leaves room, decided: "the move has taken effect" = the person's current address is the host's and the
address history line for it starts on or before today. Fee charged by default ("under
normale omstændigheder ikke gratis"); a waiver needs a written reason.
"""

from __future__ import annotations

from datetime import date

from ..model import PersonState
from . import doctor_choice as dc
from . import fee_step as fs
from .base import Draft, Field, FieldError, Msg, Step, Wizard, WizardContext
from .cohabitant_doctor import (
    COHAB_RULE,
    cohabitant_default,
    cohabitant_doctor_evidence,
    cohabitant_options,
    cohabitant_plan,
    cohabitant_state,
    cohabitant_validate,
    fee_evidence,
    forced_words,
    household_cprs,
    household_evidence,
)
from .common import address_lines, person_lines, task_line
from .note_step import chosen_practice, note_step, with_extra_note
from .texts import c, d


def move_entry(state: PersonState):
    """The address-history line of the person's current address (the move), newest first."""
    lines = [e for e in state.addresses if not e.supplementary and e.address.same_place(state.person.address)]
    return max(lines, key=lambda e: e.start) if lines else None


def _move_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    e = move_entry(s)
    if e is None:
        out.append(Msg("doctors.host.ev.no_move", level="warning"))
    elif e.start > ctx.today:
        out.append(Msg("doctors.host.ev.not_yet", {"date": d(e.start)}, "warning"))
    else:
        out.append(Msg("doctors.host.ev.moved", {"date": d(e.start), "street": e.address.street,
                                                "city": e.address.city}))
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    return out + household_evidence(draft, ctx)


def _move_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    e = move_entry(ctx.state)
    if e is None:
        return [FieldError("", "doctors.host.error.no_move")]
    if e.start > ctx.today:
        return [FieldError("", "doctors.host.error.not_yet", {"date": d(e.start)})]
    return cohabitant_validate("cohabitant")(draft, ctx)


HOST_RULE = COHAB_RULE


def _host_note(draft: Draft, ctx: WizardContext) -> str:
    o = cohabitant_state(draft, ctx)
    e = move_entry(ctx.state)
    practice, number = chosen_practice(draft, ctx)
    who = f"{o.person.name} ({c(o.cpr)})" if o else "?"
    fee = fs.fee_payload(draft, ctx, "cohabitant")
    text = (f"Flytning til logivært {who} trådt i kraft {d(e.start if e else None)}. Lægevalg til samboendes "
            f"læge {practice} ({number}), årsag samboende (2.3.2).{forced_words(draft, ctx, HOST_RULE)} "
            f"{fs.fee_words(fee).capitalize()}.")
    return with_extra_note(text, draft)


CLOSE_HOST = "lægevalg til logiværts læge efter flytning (2.3.2)"


plan_host_move = cohabitant_plan(_host_note, CLOSE_HOST)


HOST_MOVE = Wizard(
    key="host_move",
    workaround_ids=("2.3.2",),
    title="doctors.host.title",
    steps=(
        Step("move", "doctors.host.step.move",
             (Field("cohabitant", "choice", "doctors.host.field.host", options=cohabitant_options("cohabitant"),
                    default=cohabitant_default),),
             validate=_move_validate, evidence=_move_evidence),
        Step("doctor", "doctors.cohab.step.doctor", (dc.provider_field(HOST_RULE),),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, HOST_RULE), evidence=cohabitant_doctor_evidence),
        fs.fee_step(lambda dr, cx: "cohabitant", extra_evidence=fee_evidence(HOST_RULE),
                    hint="doctors.host.hint.fee"),
        note_step(_host_note),
    ),
    plan_fn=plan_host_move,
    related=household_cprs,
)
