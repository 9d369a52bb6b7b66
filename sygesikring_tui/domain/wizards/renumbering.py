"""2.7.1 + 2.7.5: a P03 task (change of CPR number) and the renumbering it may mean.

Step 1 checks the CPR history of the task's person. A relation whose number did not change
(2.7.1) can only close the task. A renumbered person (2.7.5): the old number goes to group 8
with a note naming its doctor; the new number gets group 1 (if not already) and the old
number's doctor (forced under rule "renumbering" if that practice is closed, free of
charge); a note on both numbers links them; the task is closed.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import fees
from ..model import CprNumberChange, PersonState
from ..operations import PlannedOp
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, compact_cpr, draft_date
from .common import blocking_line, doctor_line, group_line, person_lines, task_line
from .texts import c, d


def changes_to(state: PersonState) -> list[CprNumberChange]:
    """The renumberings that produced this person's number."""
    return [ch for ch in state.cpr_changes if ch.new_cpr == state.cpr]


def _related(state: PersonState) -> list[str]:
    return [ch.old_cpr for ch in changes_to(state)]


def _changed(draft: Draft, ctx: WizardContext) -> bool:
    return draft.get("changed") == "yes"


def _change(draft: Draft, ctx: WizardContext) -> CprNumberChange | None:
    old = compact_cpr(draft.get("old_cpr", ""))
    return next((ch for ch in changes_to(ctx.state) if ch.old_cpr == old), None)


def _old_state(draft: Draft, ctx: WizardContext) -> PersonState | None:
    return ctx.states.get(compact_cpr(draft.get("old_cpr", "")))


# -- step 1: the CPR history -------------------------------------------------------------

def _history_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [Msg("wizard.renumbering.ev.history", level="heading")]
    if not s.cpr_changes:
        out.append(Msg("wizard.renumbering.ev.history_none", level="warning"))
    for ch in sorted(s.cpr_changes, key=lambda ch: ch.changed_on):
        out.append(Msg("wizard.renumbering.ev.change", {"old": c(ch.old_cpr), "new": c(ch.new_cpr),
                                                        "date": d(ch.changed_on)}))
    key = "wizard.renumbering.ev.verdict_changed" if changes_to(s) else "wizard.renumbering.ev.verdict_relation"
    out.append(Msg(key, level="warning" if not changes_to(s) else "info"))
    return out


def _history_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    has = bool(changes_to(ctx.state))
    if draft.get("changed") == "yes" and not has:
        return [FieldError("changed", "rule.renumbering_no_change")]
    if draft.get("changed") == "no" and has:
        return [FieldError("changed", "wizard.renumbering.error.changed")]
    return []


def _changed_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option("yes", Msg("wizard.renumbering.opt.changed")),
            Option("no", Msg("wizard.renumbering.opt.relation"))]


# -- step 2: the old number ----------------------------------------------------------------

def _old_default(draft: Draft, ctx: WizardContext) -> str:
    ch = changes_to(ctx.state)
    return c(ch[-1].old_cpr) if ch else ""


def _old_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    old = _old_state(draft, ctx)
    if old is None:
        return [Msg("wizard.renumbering.ev.old_unknown", {"cpr": draft.get("old_cpr", "")}, "warning")]
    return [Msg("wizard.renumbering.ev.old_heading", {"cpr": c(old.cpr)}, "heading"),
            *person_lines(old, ctx.today), group_line(old, ctx.today), doctor_line(old, ctx),
            Msg("wizard.renumbering.ev.old_plan")]


def _old_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    ch = _change(draft, ctx)
    if ch is None:
        return [FieldError("old_cpr", "wizard.renumbering.error.not_in_history",
                           {"new": c(ctx.state.cpr)})]
    if _old_state(draft, ctx) is None:
        return [FieldError("old_cpr", "wizard.renumbering.error.old_unknown")]
    eff = draft_date(draft, "effective", ctx.today)
    if eff < ch.changed_on:
        return [FieldError("effective", "wizard.renumbering.error.before_change", {"date": d(ch.changed_on)})]
    return []


# -- step 3: the new number ----------------------------------------------------------------

def _new_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    new = ctx.state
    out = [Msg("wizard.renumbering.ev.new_heading", {"cpr": c(new.cpr)}, "heading"),
           group_line(new, ctx.today), doctor_line(new, ctx)]
    old = _old_state(draft, ctx)
    doc = old.current_doctor(ctx.today) if old else None
    if doc is None:
        out.append(Msg("wizard.renumbering.ev.no_old_doctor", level="warning"))
    else:
        prov = ctx.provider(doc.provider_number)
        out.append(Msg("wizard.renumbering.ev.old_doctor", {"practice": doc.practice_name,
                                                            "number": doc.provider_number}))
        if prov is not None and not prov.open:
            out.append(Msg("wizard.renumbering.ev.forced", level="warning"))
    out.append(Msg("wizard.renumbering.ev.free"))
    return out + blocking_line(new, ctx.today)


def _new_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if draft.get("assign_doctor") != "yes":
        return []
    old = _old_state(draft, ctx)
    doc = old.current_doctor(ctx.today) if old else None
    if doc is None:
        return [FieldError("assign_doctor", "wizard.renumbering.error.no_old_doctor")]
    if ctx.provider(doc.provider_number) is None:
        return [FieldError("assign_doctor", "rule.provider_unknown", {"provider": doc.provider_number})]
    from .. import rules

    b = rules.blocking_future_switch(ctx.state, ctx.today)
    if b is not None:
        return [FieldError("assign_doctor", "rule.future_switch_blocks",
                           {"group": b.group, "date": b.effective.isoformat()})]
    return []


def _assign_default(draft: Draft, ctx: WizardContext) -> str:
    old = _old_state(draft, ctx)
    return "yes" if old is not None and old.current_doctor(ctx.today) is not None else "no"


def _note_default(draft: Draft, ctx: WizardContext) -> str:
    ch = _change(draft, ctx)
    return texts.note_link(compact_cpr(draft.get("old_cpr", "")), ctx.state.cpr, ch.changed_on if ch else None)


# -- the relation's way out ----------------------------------------------------------------

def _relation_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    return [Msg("wizard.renumbering.ev.relation", {"reason": texts.CLOSE_RELATION})]


def _relation_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if ctx.task is None:
        return [FieldError("", "wizard.error.no_task")]
    return []


# -- plan ----------------------------------------------------------------------------------

def plan(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    new = states[ctx.cpr]
    task_id = ctx.task_id
    if draft.get("changed") != "yes":
        return [PlannedOp(new.cpr, "task_close", {"task_id": task_id, "reason": texts.CLOSE_RELATION})]
    old_cpr = compact_cpr(draft["old_cpr"])
    old = states[old_cpr]
    ch = next(ch for ch in changes_to(new) if ch.old_cpr == old_cpr)
    eff = draft_date(draft, "effective", ctx.today)
    doc = old.current_doctor(ctx.today)
    ops: list[PlannedOp] = []
    cur_old = old.current_group(eff)
    if cur_old is None or cur_old.group != 8:
        ops.append(PlannedOp(old_cpr, "group_switch", {"group": 8, "effective": eff.isoformat(),
                                                       "reason": texts.REASON_OLD_CEASED}))
    ops.append(PlannedOp(old_cpr, "note_add", {"text": texts.note_old_doctor(
        new.cpr, doc.practice_name if doc else None, doc.provider_number if doc else None)}))
    cur_new = new.current_group(eff)
    if cur_new is None or cur_new.group != 1:
        ops.append(PlannedOp(new.cpr, "group_switch", {"group": 1, "effective": eff.isoformat(),
                                                       "reason": texts.REASON_NEW_GROUP1}))
    if draft.get("assign_doctor") == "yes" and doc is not None:
        prov = ctx.provider(doc.provider_number)
        forced = prov is not None and not prov.open
        payload = {"provider_number": doc.provider_number, "practice_name": doc.practice_name,
                   "reason": texts.REASON_CHOICE_RENUMBERING, "effective": eff.isoformat(),
                   "forced": forced, "fee": fees.fee_payload("doctor_choice", "renumbering", eff, {eff.year: ctx.card_fee},
                                          texts.FEE_FREE_RENUMBERING)}
        if forced:
            payload["force_rule"] = "renumbering"
        ops.append(PlannedOp(new.cpr, "doctor_choice", payload))
    # The old number's choice ends when the doctor moves to the new number, so the practice no
    # longer lists both numbers (2.7.5).
    running = old.current_doctor(eff)
    if running is not None and (running.end is None or running.end > eff):
        ops.append(PlannedOp(old_cpr, "doctor_choice_end", {"choice_id": running.id, "end": eff.isoformat()}))
    note = (draft.get("note") or "").strip() or texts.note_link(old_cpr, new.cpr, ch.changed_on)
    ops.append(PlannedOp(new.cpr, "note_add", {"text": note}))
    ops.append(PlannedOp(old_cpr, "note_add", {"text": note}))
    if task_id:
        ops.append(PlannedOp(new.cpr, "task_close", {"task_id": task_id, "reason": texts.CLOSE_RENUMBERED}))
    return ops


def _effective_default(draft: Draft, ctx: WizardContext) -> str:
    """The renumbering date from CPR (group 8 and the move of the doctor run from then), else today."""
    ch = _change(draft, ctx) or next(iter(changes_to(ctx.state)[-1:]), None)
    return (ch.changed_on if ch is not None else ctx.today).isoformat()


def _changed_default(draft: Draft, ctx: WizardContext) -> str:
    return "yes" if changes_to(ctx.state) else "no"


WIZARD = Wizard(
    key="renumbering",
    workaround_ids=("2.7.5", "2.7.1"),
    title="wizard.renumbering.title",
    steps=(
        Step("history", "wizard.renumbering.step.history",
             (Field("changed", "choice", "wizard.renumbering.field.changed", options=_changed_options,
                    default=_changed_default),),
             validate=_history_validate, evidence=_history_evidence),
        Step("old", "wizard.renumbering.step.old",
             (Field("old_cpr", "cpr", "wizard.renumbering.field.old_cpr", default=_old_default),
              Field("effective", "date", "wizard.field.effective", default=_effective_default,
                    hint="wizard.hint.date")),
             validate=_old_validate, evidence=_old_evidence, applies=_changed),
        Step("new", "wizard.renumbering.step.new",
             (Field("assign_doctor", "confirm", "wizard.renumbering.field.assign_doctor", default=_assign_default,
                    required=False),),
             validate=_new_validate, evidence=_new_evidence, applies=_changed),
        Step("note", "wizard.renumbering.step.note",
             (Field("note", "text", "wizard.field.note", default=_note_default),),
             applies=_changed),
        Step("relation", "wizard.renumbering.step.relation", (),
             validate=_relation_validate, evidence=_relation_evidence,
             applies=lambda draft, ctx: not _changed(draft, ctx)),
    ),
    plan_fn=plan,
    related=_related,
    section=lambda draft: {"yes": "2.7.5", "no": "2.7.1"}.get(draft.get("changed", "")),
)
