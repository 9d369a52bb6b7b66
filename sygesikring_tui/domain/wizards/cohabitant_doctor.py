"""2.3.1 A cohabitant's closed doctor: the household, the spouse or cohabitant at the same
address (any parent/child relation refuses), the closed doctor forced under the cohabitant rule.

Where the guide leaves room, decided: parent/child relations are refused (the guide keeps self-service's block on
purpose and the domain rule ``rule.cohabitant_parent_child`` says why); only a spouse or
cohabitant at the same address counts. The guide is silent on the fee: it is a change by
the person's own choice, so charged by default (``fees.DOCTOR_REASONS["cohabitant"]``),
waivable with a written reason; the fee step says so.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import forcing, rules
from ..model import PersonState, Relation, RelationKind
from ..operations import PlannedOp
from . import doctor_choice as dc
from . import fee_step as fs
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext
from .common import address_lines, doctor_line, person_lines
from .note_step import chosen_practice, close_task, note_step, with_extra_note
from .texts import c


def household_cprs(state: PersonState) -> list[str]:
    kinds = rules.PARTNER | rules.PARENT_CHILD
    return list(dict.fromkeys(r.other_cpr for r in state.relations if r.kind in kinds))


def _relations_to(state: PersonState, other: str) -> list[Relation]:
    return [r for r in state.relations if r.other_cpr == other]


def _relation_words(state: PersonState, other: str) -> str:
    K = RelationKind  # noqa: N806
    words = {K.SPOUSE: "ægtefælle", K.COHABITANT: "samboende", K.PARENT: "forælder", K.CHILD: "barn",
             K.RESIDENCE_PARENT: "bopælsforælder", K.RESIDENCE_CHILD: "hjemmeboende barn",
             K.GUARDIAN: "værge", K.WARD: "under værgemål"}
    return ", ".join(dict.fromkeys(words[r.kind] for r in _relations_to(state, other))) or "-"


def cohabitant_state(draft: Draft, ctx: WizardContext, field_id: str = "cohabitant") -> PersonState | None:
    return ctx.states.get(draft.get(field_id, ""))


def _cohab_doctor(draft: Draft, ctx: WizardContext, field_id: str = "cohabitant") -> set[str]:
    o = cohabitant_state(draft, ctx, field_id)
    cur = o.current_doctor(ctx.today) if o else None
    return {cur.provider_number} if cur else set()


def cohabitant_options(field_id: str):
    def opts(draft: Draft, ctx: WizardContext) -> list[Option]:
        me = ctx.state
        out = []
        for other in household_cprs(me):
            o = ctx.states.get(other)
            if o is None:
                continue
            same = o.person.address.same_place(me.person.address)
            out.append(Option(other, Msg("doctors.cohab.opt.person", {
                "name": o.person.name, "cpr": c(other), "relation": _relation_words(me, other),
                "addr_key": "doctors.cohab.same_address" if same else "doctors.cohab.other_address"})))
        return out
    return opts


def cohabitant_default(draft: Draft, ctx: WizardContext) -> str:
    """A spouse/cohabitant at the same address, one on a closed doctor first; failing that the
    first related person (so the step shows why they do not qualify)."""
    me = ctx.state
    best: list[tuple[int, str]] = []
    known = [o for o in household_cprs(me) if o in ctx.states]
    for other in known:
        o = ctx.states[other]
        if not o.person.address.same_place(me.person.address):
            continue
        if forcing.cohabitant_relation_problem(me, other) is not None:
            continue
        cur = o.current_doctor(ctx.today)
        p = ctx.provider(cur.provider_number) if cur else None
        best.append((0 if p is not None and not p.open else 1, other))
    if best:
        return min(best)[1]
    return known[0] if known else ""


def household_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    me = ctx.state
    out = [Msg("doctors.cohab.ev.heading", level="heading")]
    others = [o for o in household_cprs(me) if o in ctx.states]
    if not others:
        out.append(Msg("doctors.cohab.ev.none", level="warning"))
    for other in others:
        o = ctx.states[other]
        cur = o.current_doctor(ctx.today)
        p = ctx.provider(cur.provider_number) if cur else None
        same = o.person.address.same_place(me.person.address)
        out.append(Msg("doctors.cohab.ev.person", {
            "name": o.person.name, "cpr": c(other), "relation": _relation_words(me, other),
            "street": o.person.address.street, "city": o.person.address.city,
            "addr_key": "doctors.cohab.same_address" if same else "doctors.cohab.other_address"}))
        if cur is None:
            out.append(Msg("doctors.cohab.ev.no_doctor"))
        else:
            out.append(Msg("doctors.cohab.ev.doctor", {
                "practice": cur.practice_name, "number": cur.provider_number,
                "state_key": "doctors.opt.open" if p is not None and p.open else
                "doctors.opt.closed" if p is not None else "wizard.ev.provider_unknown"}))
    return out


def cohabitant_validate(field_id: str):
    def validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
        me = ctx.state
        other = draft.get(field_id, "")
        o = ctx.states.get(other)
        if o is None:
            return [FieldError(field_id, "doctors.cohab.error.unknown")]
        if not o.person.address.same_place(me.person.address):
            a = o.person.address
            return [FieldError(field_id, "doctors.cohab.error.address",
                               {"name": o.person.name, "street": a.street, "city": a.city})]
        why = forcing.cohabitant_relation_problem(me, other)
        if why == "rule.cohabitant_parent_child":
            return [FieldError(field_id, "doctors.cohab.error.parent_child",
                               {"name": o.person.name, "relation": _relation_words(me, other)})]
        if why is not None:
            return [FieldError(field_id, why)]
        if o.current_doctor(ctx.today) is None:
            return [FieldError(field_id, "doctors.cohab.error.no_doctor", {"name": o.person.name})]
        return []
    return validate


COHAB_RULE = dc.ChoiceRule(closed="force", force_rule="cohabitant",
                           only=lambda dr, cx: _cohab_doctor(dr, cx),
                           via=lambda dr, cx: dr.get("cohabitant") or None)


def cohabitant_doctor_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    o = cohabitant_state(draft, ctx)
    out = [doctor_line(ctx.state, ctx)]
    if not ctx.state.person.luna_known:
        out.append(Msg("doctors.cohab.ev.luna_unknown", level="warning"))
    if o is not None:
        out.append(Msg("doctors.cohab.ev.offer", {"name": o.person.name}))
    return out + dc.distance_lines(draft, ctx, COHAB_RULE)


def fee_evidence(rule: dc.ChoiceRule):
    return lambda draft, ctx: dc.chosen_lines(draft, ctx, rule)


def forced_words(draft: Draft, ctx: WizardContext, rule: dc.ChoiceRule) -> str:
    p = ctx.provider(draft.get("provider", ""))
    if dc.is_forced(p, draft, ctx, rule):
        return " Lægen er lukket for tilgang: valget er gennemtvunget efter reglen om ret til samboendes læge (2.3.1)."
    return ""


def _cohab_note(draft: Draft, ctx: WizardContext) -> str:
    o = cohabitant_state(draft, ctx)
    practice, number = chosen_practice(draft, ctx)
    who = f"{o.person.name} ({c(o.cpr)}, {_relation_words(ctx.state, o.cpr)})" if o else "?"
    fee = fs.fee_payload(draft, ctx, "cohabitant")
    text = (f"Lægevalg til samboendes læge {practice} ({number}) – samme adresse som {who} er bekræftet, "
            f"årsag samboende (2.3.1).{forced_words(draft, ctx, COHAB_RULE)} {fs.fee_words(fee).capitalize()}.")
    return with_extra_note(text, draft)


CLOSE_COHAB = "lægevalg til samboendes læge (2.3.1)"


def cohabitant_plan(note, close_reason: str):
    """2.3.1 and 2.3.2 plan alike: the cohabitant's doctor (reason and fee "cohabitant"), the
    wizard's own note, the task closed."""

    def plan(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
        fee = fs.fee_payload(draft, ctx, "cohabitant")
        return [PlannedOp(ctx.cpr, "doctor_choice", dc.choice_payload(draft, ctx, COHAB_RULE, "cohabitant", fee)),
                PlannedOp(ctx.cpr, "note_add", {"text": note(draft, ctx)}),
                *close_task(ctx, close_reason)]

    return plan


plan_cohabitant = cohabitant_plan(_cohab_note, CLOSE_COHAB)


COHABITANT = Wizard(
    key="cohabitant_doctor",
    workaround_ids=("2.3.1",),
    title="doctors.cohab.title",
    steps=(
        Step("cohabitant", "doctors.cohab.step.cohabitant",
             (Field("cohabitant", "choice", "doctors.cohab.field.cohabitant", options=cohabitant_options("cohabitant"),
                    default=cohabitant_default),),
             validate=cohabitant_validate("cohabitant"),
             evidence=lambda dr, cx: (person_lines(cx.state, cx.today) + address_lines(cx.state)[:1]
                                      + [Msg("doctors.cohab.ev.rule")] + household_evidence(dr, cx))),
        Step("doctor", "doctors.cohab.step.doctor", (dc.provider_field(COHAB_RULE),),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, COHAB_RULE), evidence=cohabitant_doctor_evidence),
        fs.fee_step(lambda dr, cx: "cohabitant", extra_evidence=fee_evidence(COHAB_RULE),
                    hint="doctors.cohab.hint.fee"),
        note_step(_cohab_note),
    ),
    plan_fn=plan_cohabitant,
    related=household_cprs,
)
