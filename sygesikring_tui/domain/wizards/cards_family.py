"""Health cards and group 4: 2.7.7 free card after a name change at marriage, 3.1.7 new
free card on leaving group 4 or 5, and the switch to group 4 at a prison sentence (CPR
040) behind attention point 4.

Record texts (notes, close reasons, fee reasons) are Danish whatever the UI language: they
belong to the person's record. UI texts are translation keys in data/i18n/*/wizards_engine.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from .. import attention
from .. import fees as fees_mod
from ..model import CardStatus, GroupRegistration, PersonState, RelationKind
from ..operations import PlannedOp
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, parse_date, yes
from .common import ACK_AP4, event_date, fee_dict, group_line, person_lines, task_line
from .texts import d

# -- record texts (Danish) --------------------------------------------------------------------

CARD_REASON_MARRIAGE = "nyt navn efter vielse (2.7.7)"
FEE_FREE_MARRIAGE = "navneændring ved vielse inden for 3 måneder – gratis"
FEE_PAID_MARRIAGE = "navneændring mere end 3 måneder fra vielsen – betalt"
CLOSE_MARRIAGE_CARD = "nyt sundhedskort efter navneændring ved vielse (2.7.7)"
CLOSE_MARRIAGE_NO_CARD = "intet nyt sundhedskort bestilt (2.7.7)"

CARD_REASON_GROUP45 = "nyt sundhedskort efter udtræden af gruppe {group} (3.1.7)"
FEE_FREE_GROUP45 = "udtræden af gruppe 4/5 – gratis"
REASON_LEFT_GROUP = "løsladt/hjemsendt – udtræden af gruppe {group} (3.1.7)"
CLOSE_GROUP45 = "udtræden af gruppe {group} behandlet (3.1.7)"

REASON_PRISON = "afsoning over 3 måneder – CPR-040 (opmærksomhedspunkt 4)"
CLOSE_PRISON = "skift til sikringsgruppe 4 efter kontrol af notatlinjer (CPR-040)"
CLOSE_PRISON_MISTAKE = "notatlinjer i CPR udfyldt ved en fejl – intet gruppeskift (CPR-040/041)"


def note_marriage(order: str, married: date, changed: date, amount: int) -> str:
    if order == "free":
        return (f"Nyt gratis sundhedskort bestilt med det ændrede navn: navneændring {d(changed)} "
                f"ligger højst 3 måneder fra vielsen {d(married)} (2.7.7).")
    if order == "paid":
        return (f"Nyt sundhedskort bestilt mod betaling ({amount} kr.): navneændring {d(changed)} ligger "
                f"mere end 3 måneder fra vielsen {d(married)} (2.7.7).")
    return (f"Intet nyt sundhedskort bestilt: navneændring {d(changed)}, vielse {d(married)} (2.7.7).")


def note_group45(left: int, to: int, on: date, card: bool) -> str:
    card_text = ("Sundhedskortet blev inddraget og ikke udleveret igen: nyt gratis sundhedskort bestilt."
                 if card else "Sundhedskortet blev ikke inddraget: intet nyt kort bestilt.")
    return f"Skift fra sikringsgruppe {left} til {to} pr. {d(on)} (løsladelse/hjemsendelse). {card_text} (3.1.7)"


def note_prison(decision: str, on: date | None) -> str:
    if decision == "switch":
        return (f"Notatlinje 3 og 4 i CPR er kontrolleret og relevante: skift til sikringsgruppe 4 pr. {d(on)} "
                f"(afsoning over 3 måneder).")
    return ("Notatlinje 3 og 4 i CPR er kontrolleret: udfyldt ved en fejl (CPR-040/041). "
            "Intet skift til sikringsgruppe 4.")


# -- shared ----------------------------------------------------------------------------------

def _fee_table(ctx: WizardContext) -> dict[int, int]:
    return {ctx.today.year: ctx.card_fee}


def _iso_or_empty(value: date | None) -> str:
    return value.isoformat() if value else ""


def card_lines(state: PersonState) -> list[Msg]:
    if not state.cards:
        return [Msg("wizard.cards.ev.cards_none")]
    out = []
    for c in sorted(state.cards, key=lambda c: c.ordered_on, reverse=True)[:3]:
        out.append(Msg("wizard.cards.ev.card", {"date": d(c.ordered_on), "status_key": f"wizard.cards.status.{c.status.value}",
                                                "reason": c.reason or "-"}))
    return out


# == 2.7.7 name change at marriage ===========================================================

def _spouse_line(state: PersonState) -> list[Msg]:
    rels = state.relations_of(RelationKind.SPOUSE)
    if not rels:
        return [Msg("wizard.marriage.ev.no_spouse")]
    r = rels[-1]
    return [Msg("wizard.marriage.ev.spouse", {"name": r.other_name, "since": d(r.since)})]


def _marriage_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    p = s.person
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("wizard.marriage.ev.married", {"date": d(p.married_on)}) if p.married_on
               else Msg("wizard.marriage.ev.married_missing", level="warning"))
    out.append(Msg("wizard.marriage.ev.changed", {"date": d(p.name_changed_on)}) if p.name_changed_on
               else Msg("wizard.marriage.ev.changed_missing", level="warning"))
    out += _spouse_line(s)
    out.append(Msg("wizard.marriage.ev.rule"))
    return out


def _dates_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    errs = []
    for key in ("married_on", "name_changed_on"):
        if parse_date(draft[key]) > ctx.today:
            errs.append(FieldError(key, "wizard.cards.error.future", {"date": d(ctx.today)}))
    return errs


def marriage_dates(draft: Draft, ctx: WizardContext) -> tuple[date, date]:
    return draft_date(draft, "married_on", ctx.today), draft_date(draft, "name_changed_on", ctx.today)


def marriage_within(draft: Draft, ctx: WizardContext) -> bool:
    married, changed = marriage_dates(draft, ctx)
    return fees_mod.within_three_months(married, changed)


def _order_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    first = "free" if marriage_within(draft, ctx) else "paid"
    return [Option(first, Msg(f"wizard.marriage.opt.{first}", {"amount": ctx.card_fee})),
            Option("none", Msg("wizard.marriage.opt.none"))]


def _order_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    married, changed = marriage_dates(draft, ctx)
    if marriage_within(draft, ctx):
        return [Msg("wizard.marriage.ev.within", {"married": d(married), "changed": d(changed)}, "heading")]
    return [Msg("wizard.marriage.ev.outside", {"married": d(married), "changed": d(changed),
                                               "amount": ctx.card_fee}, "warning")]


def _marriage_note_default(draft: Draft, ctx: WizardContext) -> str:
    married, changed = marriage_dates(draft, ctx)
    return note_marriage(draft.get("order", "none"), married, changed, ctx.card_fee)


def marriage_card_fee(order: str, ctx: WizardContext) -> dict:
    """The card's fee by domain.fees: free for a name change at marriage within 3 months,
    otherwise paid (a card by own choice)."""
    if order == "free":
        f = fees_mod.card_fee("name_change_marriage", ctx.today, _fee_table(ctx))
        return fee_dict(f.paid, f.amount, FEE_FREE_MARRIAGE)
    f = fees_mod.card_fee("own_choice", ctx.today, _fee_table(ctx))
    return fee_dict(f.paid, f.amount, FEE_PAID_MARRIAGE)


def plan_marriage(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    order = draft.get("order", "")
    if order not in ("free", "paid", "none"):
        raise ValueError(f"no card decision in the draft: {order!r}")
    ops: list[PlannedOp] = []
    if order != "none":
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": ctx.today.isoformat(),
                                                 "fee": marriage_card_fee(order, ctx),
                                                 "reason": CARD_REASON_MARRIAGE}))
    ops.append(PlannedOp(cpr, "note_add", {"text": draft["note"].strip()}))
    if ctx.task is not None:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": CLOSE_MARRIAGE_NO_CARD
                                                 if order == "none" else CLOSE_MARRIAGE_CARD}))
    return ops


def _changed_default(draft: Draft, ctx: WizardContext) -> str:
    p = ctx.state.person
    if p.name_changed_on:
        return p.name_changed_on.isoformat()
    t = ctx.task
    if t is not None and t.event_code == "004":
        return _iso_or_empty(event_date(ctx))
    return ""


MARRIAGE_NAME_CARD = Wizard(
    key="marriage_name_card",
    workaround_ids=("2.7.7",),
    title="wizard.marriage.title",
    steps=(
        Step("dates", "wizard.marriage.step.dates",
             (Field("married_on", "date", "wizard.marriage.field.married_on", hint="wizard.hint.date",
                    default=lambda dr, cx: _iso_or_empty(cx.state.person.married_on)),
              Field("name_changed_on", "date", "wizard.marriage.field.name_changed_on", hint="wizard.hint.date",
                    default=_changed_default)),
             validate=_dates_validate, evidence=_marriage_evidence),
        Step("order", "wizard.marriage.step.order",
             (Field("order", "choice", "wizard.marriage.field.order", options=_order_options,
                    default=lambda dr, cx: "free" if marriage_within(dr, cx) else "paid"),),
             evidence=_order_evidence),
        Step("note", "wizard.cards.step.note",
             (Field("note", "text", "wizard.field.note", default=_marriage_note_default),)),
    ),
    plan_fn=plan_marriage,
)


# == 3.1.7 new card on leaving group 4 or 5 ==================================================

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


def _group45_note_default(draft: Draft, ctx: WizardContext) -> str:
    try:
        left, to, on = switch_facts(draft, ctx)
    except ValueError:
        return ""
    return note_group45(left, to, on, yes(draft, "card_taken"))


def plan_group45(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    left, to, on = switch_facts(draft, ctx)
    ops: list[PlannedOp] = []
    if _switching(draft, ctx):
        ops.append(PlannedOp(cpr, "group_switch", {"group": to, "effective": on.isoformat(),
                                                   "reason": REASON_LEFT_GROUP.format(group=left)}))
    if yes(draft, "card_taken"):
        f = fees_mod.card_fee("leaving_group_4_5", ctx.today, _fee_table(ctx))
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": max(on, ctx.today).isoformat(),
                                                 "fee": fee_dict(f.paid, f.amount, FEE_FREE_GROUP45),
                                                 "reason": CARD_REASON_GROUP45.format(group=left)}))
    ops.append(PlannedOp(cpr, "note_add", {"text": draft["note"].strip()}))
    if ctx.task is not None:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": CLOSE_GROUP45.format(group=left)}))
    return ops


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
        Step("note", "wizard.cards.step.note",
             (Field("note", "text", "wizard.field.note", default=_group45_note_default),)),
    ),
    plan_fn=plan_group45,
)


# == CPR 040: switch to group 4 after checking the note lines (attention point 4) =============

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

WIZARDS = (MARRIAGE_NAME_CARD, CARD_AFTER_GROUP45, PRISON_SWITCH)
