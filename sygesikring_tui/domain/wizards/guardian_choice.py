"""2.6.2 / 3.1.3 Doctor choice for a ward: the guardianship verified on both sides, a MitID power
of attorney only noted, otherwise one individual choice per ward made by the caseworker.

Where the guide leaves room, decided: started on the ward (task 021) or on the guardian (person screen). The
relation must be registered on both sides (the ward's GUARDIAN and the guardian's WARD).
One ward per case (3.1.3: individual choices). If the guardian has a MitID power of
attorney the wizard only notes the guidance given (no choice). The fee is as for a change
by own choice unless the caseworker picks a free reason (moving, practice closes).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import PersonState, RelationKind
from ..operations import PlannedOp
from . import doctor_choice as dc
from . import fee_step as fs
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext
from .cohabitant_doctor import fee_evidence
from .common import group_line, person_lines, task_line
from .note_step import chosen_practice, close_task, note_step, with_extra_note
from .texts import c, d


def is_ward_side(state: PersonState) -> bool:
    """Started on the ward (it has a guardian); otherwise on the guardian (it has wards)."""
    return any(r.kind == RelationKind.GUARDIAN for r in state.relations)


def _guardianship_cprs(state: PersonState) -> list[str]:
    return list(dict.fromkeys(r.other_cpr for r in state.relations
                              if r.kind in (RelationKind.GUARDIAN, RelationKind.WARD)))


def _counterparts(state: PersonState) -> list[str]:
    kind = RelationKind.GUARDIAN if is_ward_side(state) else RelationKind.WARD
    return list(dict.fromkeys(r.other_cpr for r in state.relations if r.kind == kind))


def ward_and_guardian(draft: Draft, ctx: WizardContext) -> tuple[PersonState | None, PersonState | None]:
    other = ctx.states.get(draft.get("counterpart", ""))
    return (ctx.state, other) if is_ward_side(ctx.state) else (other, ctx.state)


def _ward(draft: Draft, ctx: WizardContext) -> PersonState | None:
    return ward_and_guardian(draft, ctx)[0]


GUARD_RULE = dc.ChoiceRule(closed="refuse", who=_ward)
GUARD_REASONS = ("guardian_on_behalf", "moving", "practice_closes")


def _counterpart_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    key = "doctors.guard.opt.guardian" if is_ward_side(ctx.state) else "doctors.guard.opt.ward"
    out = []
    for other in _counterparts(ctx.state):
        o = ctx.states.get(other)
        if o is not None:
            out.append(Option(other, Msg(key, {"name": o.person.name, "cpr": c(other)})))
    return out


def _counterpart_default(draft: Draft, ctx: WizardContext) -> str:
    t = ctx.task
    if t is not None and t.event_id and is_ward_side(ctx.state):
        ev = next((e for e in ctx.state.events if e.id == t.event_id), None)
        g = str(ev.data.get("guardian_cpr", "")) if ev else ""
        if g in _counterparts(ctx.state):
            return g
    cps = [x for x in _counterparts(ctx.state) if x in ctx.states]
    return cps[0] if cps else ""


def _route_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option("desk", Msg("doctors.guard.opt.desk")), Option("mitid", Msg("doctors.guard.opt.mitid"))]


def _relation_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    ward_side = is_ward_side(s)
    out.append(Msg("doctors.guard.ev.ward_side" if ward_side else "doctors.guard.ev.guardian_side"))
    for other in _counterparts(s):
        o = ctx.states.get(other)
        rel = next((r for r in s.relations if r.other_cpr == other
                    and r.kind in (RelationKind.GUARDIAN, RelationKind.WARD)), None)
        out.append(Msg("doctors.guard.ev.person", {
            "name": o.person.name if o else (rel.other_name if rel else "?"), "cpr": c(other),
            "since": d(rel.since if rel else None),
            "role_key": "doctors.guard.role.guardian" if ward_side else "doctors.guard.role.ward"}))
    if not ward_side and len(_counterparts(s)) > 1:
        out.append(Msg("doctors.guard.ev.one_at_a_time", {"n": len(_counterparts(s))}, "warning"))
    out.append(Msg("doctors.guard.ev.mitid"))
    return out


def _relation_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    ward, guardian = ward_and_guardian(draft, ctx)
    if ward is None or guardian is None:
        return [FieldError("counterpart", "doctors.guard.error.unknown")]
    if not any(r.kind == RelationKind.GUARDIAN and r.other_cpr == guardian.cpr for r in ward.relations):
        return [FieldError("counterpart", "doctors.guard.error.ward_side",
                           {"ward": ward.person.name, "guardian": guardian.person.name})]
    if not any(r.kind == RelationKind.WARD and r.other_cpr == ward.cpr for r in guardian.relations):
        return [FieldError("counterpart", "doctors.guard.error.guardian_side",
                           {"ward": ward.person.name, "guardian": guardian.person.name})]
    return []


def _desk(draft: Draft, ctx: WizardContext) -> bool:
    return draft.get("route", "desk") == "desk"


def _guard_reason_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return fs.reason_options(GUARD_REASONS, ward_and_guardian(draft, ctx)[0], ctx.today)


def _guard_reason(draft: Draft, ctx: WizardContext) -> str:
    r = draft.get("reason", "")
    return r if r in GUARD_REASONS else "guardian_on_behalf"


def _guard_doctor_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    ward, _g = ward_and_guardian(draft, ctx)
    if ward is None:
        return []
    out = [Msg("doctors.guard.ev.for_ward", {"name": ward.person.name, "cpr": c(ward.cpr)}, "heading"),
           group_line(ward, ctx.today)]
    cur = ward.current_doctor(ctx.today)
    out.append(Msg("doctors.guard.ev.ward_doctor", {"practice": cur.practice_name, "number": cur.provider_number})
               if cur else Msg("wizard.ev.doctor_none"))
    return out + dc.distance_lines(draft, ctx, GUARD_RULE)


def _guard_note(draft: Draft, ctx: WizardContext) -> str:
    ward, guardian = ward_and_guardian(draft, ctx)
    g = f"{guardian.person.name} ({c(guardian.cpr)})" if guardian else "?"
    if not _desk(draft, ctx):
        text = (f"Værge {g} har fuldmagt i MitID og er vejledt i at logge ind som Sikrede og vælge læge i "
                f"selvbetjeningen (2.6.2). Intet lægevalg foretaget af kommunen.")
        return with_extra_note(text, draft)
    practice, number = chosen_practice(draft, ctx)
    reason = _guard_reason(draft, ctx)
    fee = fs.fee_payload(draft, ctx, reason)
    text = (f"Lægevalg {practice} ({number}) foretaget af kommunen på vegne af værge {g}, da værgen ikke kan "
            f"vælge læge for Sikrede i selvbetjeningen (2.6.2, 3.1.3: individuelt lægevalg for hver Sikret). "
            f"Årsag: {dc.CHOICE_REASON_TEXT[reason]}; {fs.fee_words(fee)}.")
    return with_extra_note(text, draft)


CLOSE_GUARD = "lægevalg som værge (2.6.2)"
CLOSE_GUARD_MITID = "værge vejledt i MitID-fuldmagt (2.6.2)"


def plan_guardian(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    ward, _g = ward_and_guardian(draft, ctx)
    if ward is None:
        raise ValueError("no ward in the draft")
    ops: list[PlannedOp] = []
    if _desk(draft, ctx):
        reason = _guard_reason(draft, ctx)
        fee = fs.fee_payload(draft, ctx, reason)
        ops.append(PlannedOp(ward.cpr, "doctor_choice", dc.choice_payload(draft, ctx, GUARD_RULE, reason, fee)))
    ops.append(PlannedOp(ward.cpr, "note_add", {"text": _guard_note(draft, ctx)}))
    return ops + close_task(ctx, CLOSE_GUARD if _desk(draft, ctx) else CLOSE_GUARD_MITID)


GUARDIAN = Wizard(
    key="guardian_choice",
    workaround_ids=("2.6.2", "3.1.3"),
    title="doctors.guard.title",
    steps=(
        Step("relation", "doctors.guard.step.relation",
             (Field("counterpart", "choice", "doctors.guard.field.counterpart", options=_counterpart_options,
                    default=_counterpart_default),
              Field("route", "choice", "doctors.guard.field.route", options=_route_options,
                    default=lambda dr, cx: "desk")),
             validate=_relation_validate, evidence=_relation_evidence),
        Step("doctor", "doctors.guard.step.doctor",
             (dc.provider_field(GUARD_RULE),
              Field("reason", "choice", "doctors.field.reason", options=_guard_reason_options,
                    default=lambda dr, cx: "guardian_on_behalf")),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, GUARD_RULE), evidence=_guard_doctor_evidence,
             applies=_desk),
        fs.fee_step(_guard_reason, extra_evidence=fee_evidence(GUARD_RULE), applies=_desk),
        note_step(_guard_note),
    ),
    plan_fn=plan_guardian,
    related=_guardianship_cprs,
)
