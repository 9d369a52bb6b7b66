"""2.6.8 A free doctor choice for a child under 15 (PLO2) asked for by the residence parent; and
the child steps shared with 2.7.8.

(2.6.8, PLO2) – the residence parent and the child (< 15) verified, a
free doctor choice on the child (the PLO event gives it: ``practice_closes``), a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from .. import rules
from ..cpr import age_on
from ..model import PersonState, RelationKind
from ..operations import PlannedOp
from . import doctor_choice as dc
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, parse_date
from .common import address_lines, doctor_line, group_line, person_lines, task_line
from .force_step import (
    CHILD_FREE_RULES,
    choice_payload_for,
    chosen_parent,
    chosen_provider,
    event_data,
    event_fee,
    force_note_part,
    force_step,
    note_field,
    open_nearest,
    parents_of,
    provider_field,
    today_iso,
    validate_doctor,
)
from .texts import CHILD_FREE_CLOSE, CHILD_FREE_FEE_REASON, CHILD_FREE_REASON, note_child_free, with_note
from .texts import c


CHILD_AGE_LIMIT = 15


def _residence_parent_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    out = []
    for r in ctx.state.relations_of(RelationKind.RESIDENCE_PARENT):
        out.append(Option(r.other_cpr, Msg("wizard.events.opt.parent", {"name": r.other_name,
                                                                        "cpr": c(r.other_cpr)})))
    return list({o.value: o for o in out}.values())


def _first_option(fn):
    return lambda draft, ctx: next((o.value for o in fn(draft, ctx)), "")


def parent_lines(parent: PersonState | None, ctx: WizardContext) -> list[Msg]:
    if parent is None:
        return []
    child = ctx.state
    same = child.person.address.same_place(parent.person.address)
    out = [Msg("wizard.events.ev.parent", {"name": parent.person.name, "cpr": c(parent.cpr)}, "heading"),
           Msg("wizard.ev.address_now", {"street": parent.person.address.street,
                                         "postcode": parent.person.address.postcode,
                                         "city": parent.person.address.city}),
           Msg("wizard.events.ev.same_address" if same else "wizard.events.ev.other_address",
               level="info" if same else "warning")]
    return out + _parent_doctor_line(parent, ctx)


def _parent_doctor_line(parent: PersonState | None, ctx: WizardContext) -> list[Msg]:
    if parent is None:
        return []
    doc = parent.current_doctor(ctx.today)
    if doc is None or not doc.provider_number:
        return [Msg("wizard.events.ev.parent_no_doctor", {"name": parent.person.name})]
    prov = ctx.provider(doc.provider_number)
    return [Msg("wizard.events.ev.parent_doctor", {
        "name": parent.person.name, "practice": doc.practice_name, "number": doc.provider_number,
        "open_key": "wizard.ev.provider_unknown" if prov is None else
        "wizard.ev.open" if prov.open else "wizard.ev.closed"})]


def _child_free_verify_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    data = event_data(ctx)
    if data.get("reason"):
        out.append(Msg("wizard.child_free.ev.plo", {"reason": data["reason"]}))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), *address_lines(s)[:1]]
    if not s.relations_of(RelationKind.RESIDENCE_PARENT):
        out.append(Msg("wizard.child_free.ev.no_residence_parent", level="warning"))
    parent = chosen_parent(draft, ctx) or next((ctx.states.get(o.value) for o in _residence_parent_options(draft, ctx)),
                                         None)
    out += parent_lines(parent, ctx)
    if parent is not None:
        pd, cd = parent.current_doctor(ctx.today), s.current_doctor(ctx.today)
        if pd is not None and cd is not None and pd.provider_number == cd.provider_number:
            out.append(Msg("wizard.child_free.ev.same_doctor", level="warning"))
    return out


def _child_free_verify_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    s = ctx.state
    age = age_on(s.cpr, ctx.today)
    if age >= CHILD_AGE_LIMIT:
        return [FieldError("", "wizard.child_free.error.age", {"age": age})]
    if not s.relations_of(RelationKind.RESIDENCE_PARENT):
        return [FieldError("parent", "wizard.child_free.error.no_residence_parent")]
    if draft.get("parent") not in {r.other_cpr for r in s.relations_of(RelationKind.RESIDENCE_PARENT)}:
        return [FieldError("parent", "wizard.error.choose")]
    if chosen_parent(draft, ctx) is None:
        return [FieldError("parent", "wizard.events.error.parent_unknown")]
    return []


def child_doctor_default(draft: Draft, ctx: WizardContext) -> str:
    """The parent's doctor when it is open (the child follows the parent), else the nearest open."""
    parent = chosen_parent(draft, ctx)
    doc = parent.current_doctor(ctx.today) if parent else None
    prov = ctx.provider(doc.provider_number) if doc and doc.provider_number else None
    cur = ctx.state.current_doctor(ctx.today)
    if prov is not None and prov.open and (cur is None or cur.provider_number != prov.provider_number):
        return prov.provider_number
    return open_nearest(ctx, [cur.provider_number] if cur else [])


def child_doctor_evidence(why_key: str, candidates: Sequence[dc.ChoiceRule]):
    def evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        s = ctx.state
        out = [doctor_line(s, ctx), *_parent_doctor_line(chosen_parent(draft, ctx), ctx),
               Msg("wizard.events.ev.fee_free", {"why_key": why_key})]
        return out + dc.distance_lines(draft, ctx, candidates[-1])
    return evidence


def child_doctor_validate(candidates: Sequence[dc.ChoiceRule]):
    return lambda draft, ctx: validate_doctor(draft, ctx, candidates, parse_date(draft["effective"]))


def child_choice(note_builder, rules: Sequence[dc.ChoiceRule], reason: str, fee_code: str,
                  fee_reason: str, close_reason: str):
    """The note, its preview and the plan shared by the child wizards (2.6.8, 2.7.8): a free
    doctor choice on the child, a note naming the parent, and the task closed."""

    def note(draft: Draft, ctx: WizardContext) -> str:
        parent = chosen_parent(draft, ctx)
        prov = chosen_provider(draft, ctx)
        eff = draft_date(draft, "effective", ctx.today)
        return note_builder(parent.person.name if parent else "?",
                            parent.cpr if parent else draft.get("parent", ""),
                            prov.practice_name if prov else "?", prov.provider_number if prov else "?",
                            eff) + force_note_part(draft, ctx)

    def note_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        return [Msg("wizard.events.ev.note_will_be", {"text": note(draft, ctx)})]

    def plan(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
        cpr = ctx.cpr
        eff = parse_date(draft["effective"])
        ops = [PlannedOp(cpr, "doctor_choice", choice_payload_for(
            draft, ctx, rules, reason=reason, effective=eff, fee=event_fee(fee_code, eff, ctx, fee_reason))),
            PlannedOp(cpr, "note_add", {"text": with_note(note(draft, ctx), draft)})]
        if ctx.task_id:
            ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": close_reason}))
        return ops

    return note, note_evidence, plan


_child_free_note, _child_free_note_evidence, plan_child_free = child_choice(
    note_child_free, CHILD_FREE_RULES, CHILD_FREE_REASON, "practice_closes", CHILD_FREE_FEE_REASON,
    CHILD_FREE_CLOSE)


CHILD_FREE_CHOICE = Wizard(
    key="child_free_choice",
    workaround_ids=("2.6.8",),
    title="wizard.child_free.title",
    steps=(
        Step("verify", "wizard.child_free.step.verify",
             (Field("parent", "choice", "wizard.child_free.field.parent", options=_residence_parent_options,
                    default=_first_option(_residence_parent_options), required=False),),
             validate=_child_free_verify_validate, evidence=_child_free_verify_evidence),
        Step("doctor", "wizard.child_free.step.doctor",
             (provider_field(CHILD_FREE_RULES[-1], child_doctor_default),
              Field("effective", "date", "wizard.field.effective", default=today_iso, hint="wizard.hint.date")),
             validate=child_doctor_validate(CHILD_FREE_RULES),
             evidence=child_doctor_evidence("wizard.child_free.why_free", CHILD_FREE_RULES)),
        force_step(CHILD_FREE_RULES),
        Step("note", "wizard.events.step.note", (note_field(),), evidence=_child_free_note_evidence),
    ),
    plan_fn=plan_child_free,
    related=lambda state: parents_of(state, RelationKind.RESIDENCE_PARENT),
)
