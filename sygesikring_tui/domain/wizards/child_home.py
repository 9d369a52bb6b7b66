"""2.7.8 A parent takes a child home: the child at the parent's registered address gets a free
doctor change (moving), a closed practice only under a forcing rule.

(2.7.8) – the child now lives at the parent's registered address (parent
relation, same address) → a doctor change for the child (moving: free) → a note. A
closed practice only with the doctor's acceptance or when no two open practices are
within reach of the new address (DOMAIN.md).
"""

from __future__ import annotations

from datetime import date

from .. import rules
from ..cpr import age_on
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext
from .child_free_choice import (
    CHILD_AGE_LIMIT,
    child_choice,
    child_doctor_default,
    child_doctor_evidence,
    child_doctor_validate,
    parent_lines,
)
from .common import address_lines, doctor_line, group_line, person_lines, task_line
from .force_step import (
    CHILD_HOME_RULES,
    chosen_parent,
    event_data,
    force_step,
    note_field,
    provider_field,
    today_iso,
)
from .texts import CHILD_HOME_CLOSE, CHILD_HOME_FEE_REASON, c, note_child_home


def _parent_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    out: dict[str, Option] = {}
    for r in ctx.state.relations_of(*rules.PARENTS):
        out.setdefault(r.other_cpr, Option(r.other_cpr, Msg("wizard.events.opt.parent", {
            "name": r.other_name, "cpr": c(r.other_cpr)})))
    return list(out.values())


def _home_parent_default(draft: Draft, ctx: WizardContext) -> str:
    """The task's parent (036 data ``to_parent``), else the parent at the child's address."""
    opts = [o.value for o in _parent_options(draft, ctx)]
    wanted = str(event_data(ctx).get("to_parent", ""))
    if wanted in opts:
        return wanted
    child = ctx.state
    for cpr in opts:
        p = ctx.states.get(cpr)
        if p is not None and child.person.address.same_place(p.person.address):
            return cpr
    return opts[0] if opts else ""


def _home_verify_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today), doctor_line(s, ctx)]
    out += address_lines(s)[:3]
    if not _parent_options(draft, ctx):
        out.append(Msg("wizard.child_home.ev.no_parent", level="warning"))
    age = age_on(s.cpr, ctx.today)
    if age >= 18:
        out.append(Msg("wizard.child_home.ev.adult", {"age": age}, "warning"))
    elif age >= CHILD_AGE_LIMIT:
        out.append(Msg("wizard.child_home.ev.over15", {"age": age}))
    parent = chosen_parent(draft, ctx) or ctx.states.get(_home_parent_default(draft, ctx))
    return out + parent_lines(parent, ctx)


def _home_verify_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if not _parent_options(draft, ctx):
        return [FieldError("parent", "wizard.child_home.error.no_parent")]
    if draft.get("parent") not in {o.value for o in _parent_options(draft, ctx)}:
        return [FieldError("parent", "wizard.error.choose")]
    parent = chosen_parent(draft, ctx)
    if parent is None:
        return [FieldError("parent", "wizard.events.error.parent_unknown")]
    if not ctx.state.person.address.same_place(parent.person.address):
        return [FieldError("parent", "wizard.child_home.error.not_same_address", {"name": parent.person.name})]
    return []


_home_note, _home_note_evidence, plan_child_home = child_choice(
    note_child_home, CHILD_HOME_RULES, texts.REASON_CHOICE_MOVE, "moving", CHILD_HOME_FEE_REASON,
    CHILD_HOME_CLOSE)


CHILD_HOME = Wizard(
    key="child_home",
    workaround_ids=("2.7.8",),
    title="wizard.child_home.title",
    steps=(
        Step("verify", "wizard.child_home.step.verify",
             (Field("parent", "choice", "wizard.child_home.field.parent", options=_parent_options,
                    default=_home_parent_default, required=False),),
             validate=_home_verify_validate, evidence=_home_verify_evidence),
        Step("doctor", "wizard.child_home.step.doctor",
             (provider_field(CHILD_HOME_RULES[-1], child_doctor_default),
              Field("effective", "date", "wizard.field.effective", default=today_iso, hint="wizard.hint.date")),
             validate=child_doctor_validate(CHILD_HOME_RULES),
             evidence=child_doctor_evidence("wizard.child_home.why_free", CHILD_HOME_RULES)),
        force_step(CHILD_HOME_RULES),
        Step("note", "wizard.events.step.note", (note_field(),), evidence=_home_note_evidence),
    ),
    plan_fn=plan_child_home,
    related=rules.parent_cprs,
)
