"""2.4.1 / 2.5.1 / 2.7.6 Call-up (CPR 038): a conscript (group 1 -> 5), a state-posted citizen
(no switch) or a short stay abroad, decided by the caseworker from the evidence; and the
helpers the discharge shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..model import PersonState
from ..operations import PlannedOp
from ..workarounds import has_state_posted_note
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date
from .common import address_lines, event_date, group_line, note_lines, person_lines, task_line
from .texts import d


DECISIONS = ("conscript", "state_posted", "short_stay")


def has_supplementary_address(state: PersonState) -> bool:
    """A supplementary address now, or one in the address history."""
    return bool(state.person.supplementary_address) or any(e.supplementary for e in state.addresses)


def suggest_callup(state: PersonState) -> str:
    """The evidence's suggestion: a state-posted note → 2.5.1; a supplementary address without
    one → 2.7.6; otherwise a conscript (2.4.1). The caseworker decides."""
    if has_state_posted_note(state):
        return "state_posted"
    if has_supplementary_address(state):
        return "short_stay"
    return "conscript"


def event_day(draft: Draft, ctx: WizardContext) -> str:
    return (event_date(ctx) or ctx.today).isoformat()


def task_required(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    return [] if ctx.task is not None else [FieldError("", "wizard.error.no_task")]


def _decide_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today)]
    out.append(Msg("wizard.ev.notes_heading", level="heading"))
    out += note_lines(s)
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    sug = suggest_callup(s)
    why = {"state_posted": "wizard.callup.why.note", "short_stay": "wizard.callup.why.supplementary",
           "conscript": "wizard.callup.why.none"}[sug]
    out.append(Msg("wizard.callup.ev.suggestion", {"decision_key": f"wizard.callup.opt.{sug}", "why_key": why},
                   "heading"))
    return out


def _decision_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option(v, Msg(f"wizard.callup.opt.{v}")) for v in DECISIONS]


def _conscript_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = [group_line(s, ctx.today), Msg("wizard.callup.ev.conscript_plan")]
    g = s.current_group(ctx.today)
    if g is not None and g.group != 1:
        out.append(Msg("wizard.callup.ev.not_group1", {"group": g.group}, "warning"))
    return out


def _conscript_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = draft_date(draft, "effective", ctx.today)
    g = ctx.state.current_group(eff)
    if g is not None and g.group == 5:
        return [FieldError("effective", "wizard.callup.error.already5", {"date": d(eff)})]
    return task_required(draft, ctx)


def _state_posted_note_default(draft: Draft, ctx: WizardContext) -> str:
    return texts.note_state_posted_after(event_date(ctx))


def _state_posted_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = [Msg("wizard.callup.ev.state_posted_plan")]
    if not has_state_posted_note(ctx.state):
        out.append(Msg("wizard.callup.ev.no_state_posted_note", level="warning"))
    return out


def _short_stay_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = [Msg("wizard.callup.ev.short_stay_plan")]
    if not has_supplementary_address(ctx.state):
        out.append(Msg("wizard.callup.ev.no_supplementary", level="warning"))
    return out


def plan_callup(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    decision = draft.get("decision")
    ops: list[PlannedOp] = []
    if decision == "conscript":
        eff = draft_date(draft, "effective", ctx.today)
        ops.append(PlannedOp(cpr, "group_switch", {"group": 5, "effective": eff.isoformat(),
                                                   "reason": texts.REASON_CALLUP}))
        reason = texts.CLOSE_CONSCRIPT
    elif decision == "state_posted":
        ops.append(PlannedOp(cpr, "note_add", {"text": draft["state_posted_note"].strip()}))
        reason = texts.CLOSE_STATE_POSTED
    elif decision == "short_stay":
        note = (draft.get("short_stay_note") or "").strip()
        if note:
            ops.append(PlannedOp(cpr, "note_add", {"text": note}))
        reason = texts.CLOSE_SHORT_STAY
    else:
        raise ValueError(f"no decision in the draft: {decision!r}")
    ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": reason}))
    return ops


def _is(decision: str):
    return lambda draft, ctx: draft.get("decision") == decision


CALLUP = Wizard(
    key="callup",
    workaround_ids=("2.4.1", "2.5.1", "2.7.6"),
    title="wizard.callup.title",
    steps=(
        Step("decide", "wizard.callup.step.decide",
             (Field("decision", "choice", "wizard.callup.field.decision", options=_decision_options,
                    default=lambda draft, ctx: suggest_callup(ctx.state)),),
             evidence=_decide_evidence),
        Step("conscript", "wizard.callup.step.conscript",
             (Field("effective", "date", "wizard.field.effective", default=event_day, hint="wizard.hint.date"),),
             validate=_conscript_validate, evidence=_conscript_evidence, applies=_is("conscript")),
        Step("state_posted", "wizard.callup.step.state_posted",
             (Field("state_posted_note", "text", "wizard.field.note", default=_state_posted_note_default),),
             validate=task_required, evidence=_state_posted_evidence, applies=_is("state_posted")),
        Step("short_stay", "wizard.callup.step.short_stay",
             (Field("short_stay_note", "text", "wizard.field.note_optional", default=lambda dr, cx: "",
                    required=False),),
             validate=task_required, evidence=_short_stay_evidence, applies=_is("short_stay")),
    ),
    plan_fn=plan_callup,
    section=lambda draft: {"conscript": "2.4.1", "state_posted": "2.5.1", "short_stay": "2.7.6"}.get(
        draft.get("decision", "")),
)
