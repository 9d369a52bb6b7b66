"""3.1.7 Leaving group 4 or 5: the switch to group 1 or 2, a new free card when the old one was
taken in, and the doctor in group 1 (warned when none runs on).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..model import CardStatus, GroupRegistration, PersonState
from ..operations import PlannedOp
from . import doctor_after_group45 as after45
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, yes
from .card_records import (
    CARD_REASON_GROUP45,
    CLOSE_GROUP45,
    FEE_FREE_GROUP45,
    REASON_LEFT_GROUP,
    card_lines,
    note_group45,
)
from .common import event_date, fee_dict, group_line, person_lines, task_line
from .texts import d


def left_45(state: PersonState) -> tuple[GroupRegistration, GroupRegistration] | None:
    """The latest registered switch from group 4 or 5 to group 1 or 2: (left, entered)."""
    found = None
    for g in sorted(state.groups, key=lambda g: g.effective):
        if g.group not in (4, 5) or g.end is None:
            continue
        nxt = next((h for h in state.groups if h.group in (1, 2) and h.effective == g.end), None)
        if nxt is not None:
            found = (g, nxt)
    return found


def _in_45(state: PersonState, on: date) -> GroupRegistration | None:
    g = state.current_group(on)
    return g if g is not None and g.group in (4, 5) else None


def _switch_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    s = ctx.state
    out = []
    done = left_45(s)
    if done is not None:
        out.append(Option("done", Msg("wizard.card45.opt.done", {"left": done[0].group, "to": done[1].group,
                                                                 "date": d(done[1].effective)})))
    cur = _in_45(s, ctx.today)
    if cur is not None:
        out += [Option(f"to{g}", Msg("wizard.card45.opt.switch", {"left": cur.group, "to": g})) for g in (1, 2)]
    return out


def _switch_default(draft: Draft, ctx: WizardContext) -> str:
    opts = _switch_options(draft, ctx)
    if _in_45(ctx.state, ctx.today) is not None:
        return "to1"
    return opts[0].value if opts else ""


def group_history_lines(state: PersonState) -> list[Msg]:
    out = [Msg("wizard.cards.ev.groups_heading", level="heading")]
    for g in sorted(state.groups, key=lambda g: g.effective, reverse=True)[:5]:
        out.append(Msg("wizard.cards.ev.group_reg" if g.end else "wizard.cards.ev.group_reg_open",
                       {"group": g.group, "start": d(g.effective), "end": d(g.end), "reason": g.reason or "-"}))
    return out


def _switch_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today)] + group_history_lines(s)
    if not _switch_options(draft, ctx):
        out.append(Msg("wizard.card45.ev.never45", level="warning"))
    return out


def _switch_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    opts = _switch_options(draft, ctx)
    if not opts:
        return [FieldError("switch", "wizard.card45.error.never45")]
    if draft.get("switch", "") not in {o.value for o in opts}:
        return [FieldError("switch", "wizard.error.choose")]
    return []


def _switching(draft: Draft, ctx: WizardContext) -> bool:
    return draft.get("switch", "") in ("to1", "to2")


def _effective_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = draft_date(draft, "effective", ctx.today)
    if _in_45(ctx.state, eff) is None:
        g = ctx.state.current_group(eff)
        return [FieldError("effective", "wizard.card45.error.not45", {"group": g.group if g else "-",
                                                                     "date": d(eff)})]
    return []


def switch_facts(draft: Draft, ctx: WizardContext) -> tuple[int, int, date]:
    """(group left, group entered, date) of the switch the draft follows."""
    if _switching(draft, ctx):
        eff = draft_date(draft, "effective", ctx.today)
        cur = _in_45(ctx.state, eff) or _in_45(ctx.state, ctx.today)
        return (cur.group if cur else 4), int(draft["switch"][2:]), eff
    done = left_45(ctx.state)
    if done is None:
        raise ValueError("no switch from group 4 or 5 in the draft or the history")
    return done[0].group, done[1].group, done[1].effective


def _card_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = [Msg("wizard.cards.ev.cards_heading", level="heading"), *card_lines(ctx.state)]
    if any(c.status == CardStatus.CANCELLED and "inddrag" in c.reason.lower() for c in ctx.state.cards):
        out.append(Msg("wizard.card45.ev.taken_seen", level="warning"))
    out.append(Msg("wizard.card45.ev.rule"))
    return out


def _card_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if not yes(draft, "card_taken") and not _switching(draft, ctx) and ctx.task is None:
        return [FieldError("card_taken", "wizard.card45.error.nothing")]
    return []


def _to_group1(draft: Draft, ctx: WizardContext) -> bool:
    try:
        return switch_facts(draft, ctx)[1] == 1
    except ValueError:
        return False


def _switch_day(draft: Draft, ctx: WizardContext) -> date:
    return switch_facts(draft, ctx)[2]


def _doctor_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    return [group_line(ctx.state, ctx.today), *after45.evidence(draft, ctx, _switch_day(draft, ctx))]


def _group45_note_default(draft: Draft, ctx: WizardContext) -> str:
    try:
        left, to, on = switch_facts(draft, ctx)
    except ValueError:
        return ""
    note = note_group45(left, to, on, yes(draft, "card_taken"))
    if to == 1:
        note += f" Læge: {after45.words(draft, ctx, on)}."
    return note


def plan_group45(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    left, to, on = switch_facts(draft, ctx)
    ops: list[PlannedOp] = []
    if _switching(draft, ctx):
        ops.append(PlannedOp(cpr, "group_switch", {"group": to, "effective": on.isoformat(),
                                                   "reason": REASON_LEFT_GROUP.format(group=left)}))
    if yes(draft, "card_taken"):
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": max(on, ctx.today).isoformat(),
                                                 "fee": fee_dict(ctx, "card_order", "leaving_group_4_5",
                                                                 FEE_FREE_GROUP45),
                                                 "reason": CARD_REASON_GROUP45.format(group=left)}))
    if to == 1:
        ops += _doctor_ops(draft, ctx, on)
    ops.append(PlannedOp(cpr, "note_add", {"text": draft["note"].strip()}))
    if ctx.task is not None:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": CLOSE_GROUP45.format(group=left)}))
    return ops


def _doctor_ops(draft: Draft, ctx: WizardContext, on: date) -> list[PlannedOp]:
    """3.1.7 into group 1: the last group 1 GP put back, or a new (free) doctor choice."""
    choice = draft.get(after45.FIELD, after45.KEEP)
    if choice == after45.RESTORE:
        op = after45.restore_op(ctx, ctx.state, on)
        return [op] if op is not None else []
    prov = ctx.provider(choice)
    if prov is None:
        return []
    return [PlannedOp(ctx.cpr, "doctor_choice", {
        "provider_number": prov.provider_number, "practice_name": prov.practice_name,
        "reason": "selvvalgt", "effective": on.isoformat(), "forced": False,
        "fee": fee_dict(ctx, "doctor_choice", "group_return", after45.FEE_FREE_RESTORE, on)})]


CARD_AFTER_GROUP45 = Wizard(
    key="card_after_group45",
    workaround_ids=("3.1.7",),
    title="wizard.card45.title",
    steps=(
        Step("switch", "wizard.card45.step.switch",
             (Field("switch", "choice", "wizard.card45.field.switch", options=_switch_options,
                    default=_switch_default, required=False),),
             validate=_switch_validate, evidence=_switch_evidence),
        Step("effective", "wizard.card45.step.effective",
             (Field("effective", "date", "wizard.field.effective", hint="wizard.hint.date",
                    default=lambda dr, cx: (event_date(cx) or cx.today).isoformat()),),
             validate=_effective_validate, applies=_switching),
        Step("card", "wizard.card45.step.card",
             (Field("card_taken", "confirm", "wizard.card45.field.card_taken", required=False,
                    default=lambda dr, cx: "no"),),
             validate=_card_validate, evidence=_card_evidence),
        Step("doctor", "wizard.after45.step.doctor",
             (after45.field("wizard.after45.field.doctor", _switch_day),),
             validate=after45.validate, evidence=_doctor_evidence, applies=_to_group1),
        Step("note", "wizard.cards.step.note",
             (Field("note", "text", "wizard.field.note", default=_group45_note_default),)),
    ),
    plan_fn=plan_group45,
)
