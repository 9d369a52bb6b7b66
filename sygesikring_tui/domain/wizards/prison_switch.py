"""CPR 040 (attention point 4): the switch to group 4 after checking the CPR note lines 3/4, or
none when they were filled in by mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from .. import attention
from ..model import PersonState
from ..operations import PlannedOp
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, yes
from .card_records import CLOSE_PRISON, CLOSE_PRISON_MISTAKE, REASON_PRISON, note_prison
from .common import ACK_AP4, event_date, group_line, person_lines, task_line
from .texts import d


def history_lines(state: PersonState) -> list[Msg]:
    """Attention point 4: the person's CPR 040/041 events, newest first."""
    events = attention.group4_history(state)
    if not events:
        return [Msg("attention.ap4_none")]
    return [Msg("wizard.prison.ev.event", {"code": e.code, "date": d(e.event_date), "received": d(e.received),
                                           "meaning_key": f"wizard.prison.ev.meaning.{e.code}"}) for e in events]


def undone_by_041(state: PersonState) -> bool:
    """The newest 040/041 event is a 041: the note lines were deleted again."""
    events = attention.group4_history(state)
    return bool(events) and events[0].code == "041"


def _prison_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today)]
    out.append(Msg("attention.ap4", level="heading"))
    out += history_lines(s)
    if undone_by_041(s):
        out.append(Msg("wizard.prison.ev.undone", level="warning"))
    return out


def _decision_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option("switch", Msg("wizard.prison.opt.switch")), Option("mistake", Msg("wizard.prison.opt.mistake"))]


def _prison_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if not yes(draft, ACK_AP4):
        return [FieldError(ACK_AP4, "wizard.prison.error.confirm")]
    return []


def _is_switch(draft: Draft, ctx: WizardContext) -> bool:
    return draft.get("decision") == "switch"


def _prison_switch_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = draft_date(draft, "effective", ctx.today)
    g = ctx.state.current_group(eff)
    if g is not None and g.group == 4:
        return [FieldError("effective", "wizard.prison.error.already4", {"date": d(eff)})]
    return []


def _prison_note_default(draft: Draft, ctx: WizardContext) -> str:
    on = draft_date(draft, "effective", ctx.today) if _is_switch(draft, ctx) else None
    return note_prison(draft.get("decision", "switch"), on)


def plan_prison(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    decision = draft.get("decision")
    if decision not in ("switch", "mistake"):
        raise ValueError(f"no decision in the draft: {decision!r}")
    ops: list[PlannedOp] = []
    if decision == "switch":
        eff = draft_date(draft, "effective", ctx.today)
        ops.append(PlannedOp(cpr, "group_switch", {"group": 4, "effective": eff.isoformat(), "reason": REASON_PRISON}))
    ops.append(PlannedOp(cpr, "note_add", {"text": draft["note"].strip()}))
    if ctx.task is not None:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id,
                                                 "reason": CLOSE_PRISON if decision == "switch" else CLOSE_PRISON_MISTAKE}))
    return ops


PRISON_SWITCH = Wizard(
    key="prison_switch",
    workaround_ids=("AP4",),
    title="wizard.prison.title",
    steps=(
        Step("history", "wizard.prison.step.history",
             (Field("decision", "choice", "wizard.prison.field.decision", options=_decision_options,
                    default=lambda dr, cx: "mistake" if undone_by_041(cx.state) else "switch"),
              Field(ACK_AP4, "confirm", "attention.ap4_confirm", required=False, default=lambda dr, cx: "no")),
             validate=_prison_validate, evidence=_prison_evidence),
        Step("switch", "wizard.prison.step.switch",
             (Field("effective", "date", "wizard.field.effective", hint="wizard.hint.date",
                    default=lambda dr, cx: (event_date(cx) or cx.today).isoformat()),),
             validate=_prison_switch_validate, applies=_is_switch),
        Step("note", "wizard.cards.step.note",
             (Field("note", "text", "wizard.field.note", default=_prison_note_default),)),
    ),
    plan_fn=plan_prison,
)
