"""Issue 3, the "events" family: five wizards started by CPR/PLO events or from the person.

* ``greenland`` (2.2.1) – moves to and from Greenland. Denmark → Greenland (CPR 013): group 7
  (udrejst) from the move date, the doctor choice active on that date ended, every
  registration after it removed (future doctor choices and group switches, listed before
  the caseworker goes on), a note, the task closed. Greenland → Denmark (CPR 034): the next
  day's CPR event gives group 1 and an automatic doctor, so the wizard only records a
  follow-up to check that, and closes the task.
* ``practice_transfer`` (2.6.7, PLO1) – a new doctor choice, reason "selvvalgt", effective on
  the transfer date, free of charge (``fees.doctor_fee("practice_transfer")``), with a note
  saying why no fee was charged.
* ``child_free_choice`` (2.6.8, PLO2) – the residence parent and the child (< 15) verified, a
  free doctor choice on the child (the PLO event gives it: ``practice_closes``), a note.
* ``rediscovery`` (2.7.3, CPR 011, due the same day) – the missing doctor choice ended if
  present, a doctor chosen, the task closed. The previous doctor is closed: open doctors are
  offered by distance. DOMAIN.md allows a closed practice only with the doctor's acceptance
  or for the listed cases; "return to the last group 1 GP" is a return from group 2 or 4/5,
  not a rediscovery, so it is offered only when the group history really shows such a
  return. The choice is free: the person gets a doctor again as on a return
  (``first_choice``); the system would have re-assigned one free of charge.
* ``child_home`` (2.7.8) – the child now lives at the parent's registered address (parent
  relation, same address) → a doctor change for the child (moving: free) → a note. A
  closed practice only with the doctor's acceptance or when no two open practices are
  within reach of the new address (DOMAIN.md).

Every doctor choice records free or paid and why; a closed practice needs a force rule
that applies, named in the operation; attention point 1 (a future blocking group switch)
stops every doctor choice with its explanation; attention point 3 (a parent's closed
doctor for a minor) is shown as a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from .. import fees as fees_mod
from .. import rules
from ..cpr import age_on
from ..model import CPR_STATUS, CprEvent, DoctorChoice, GroupRegistration, PersonState, Provider, RelationKind
from ..operations import PlannedOp
from ..workarounds import condition_value, is_greenland
from . import doctor_choice as dc
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext, draft_date, parse_date
from .common import (
    address_lines,
    doctor_line,
    event_date,
    fee_dict,
    group_line,
    person_lines,
    previous_doctor_line,
    task_line,
)
from .texts import c, d

# == texts written into the record (Danish whatever the UI language, see texts.py) ============

GL_REASON_GROUP7 = "udrejst til Grønland (2.2.1)"
GL_CLOSE_TO = "flyttet til Grønland – sikringsgruppe 7, lægevalg afsluttet (2.2.1)"
GL_CLOSE_FROM = "tilflyttet fra Grønland – opfølgning på gruppe 1 og automatisk læge (2.2.1)"

TRANSFER_FEE_REASON = "praksisoverdragelse – gratis (2.6.7)"
TRANSFER_CLOSE = "lægevalg ved praksisoverdragelse uden gebyr (2.6.7)"

CHILD_FREE_REASON = "gratis lægevalg ved PLO-hændelse (2.6.8)"
CHILD_FREE_FEE_REASON = "PLO-hændelse – gratis (2.6.8)"
CHILD_FREE_CLOSE = "gratis lægevalg på barnet foretaget (2.6.8)"

REDISCOVERY_REASON = "genfinding (2.7.3)"
REDISCOVERY_FEE_REASON = "genfinding – ny læge uden gebyr (2.7.3)"
REDISCOVERY_CLOSE = "genfinding – lægevalg foretaget (2.7.3)"

CHILD_HOME_FEE_REASON = "flytning – gratis (2.7.8)"
CHILD_HOME_CLOSE = "barn hjemtaget af forælder – lægeskift foretaget (2.7.8)"


def _with_extra(text: str, draft: Draft) -> str:
    extra = (draft.get("note") or "").strip()
    return f"{text} {extra}" if extra else text


def note_to_greenland(moved: date, ended: Sequence[DoctorChoice], groups: int, doctors: int) -> str:
    docs = ", ".join(f"{x.practice_name} ({x.provider_number})" if x.provider_number else "manglende lægevalg"
                     for x in ended) or "intet aktivt lægevalg"
    return (f"Flyttet til Grønland {d(moved)}: sikringsgruppe 7 (udrejst). Lægevalg afsluttet: {docs}. "
            f"Fremtidige registreringer fjernet: {groups} sikringsgruppeskift, {doctors} lægevalg (2.2.1).")


def followup_from_greenland(moved: date | None) -> str:
    return (f"Tilflytning fra Grønland {d(moved)}: kontrollér, at CPR-hændelsen har givet sikringsgruppe 1 "
            f"og en automatisk tildelt læge (2.2.1).")


def note_transfer(on: date, practice: str, number: str, old: str | None) -> str:
    before = f" fra {old}" if old else ""
    return (f"Lægevalg {practice} ({number}) pr. {d(on)} ved praksisoverdragelse{before}. Der er ikke opkrævet "
            f"gebyr, fordi borgeren ved praksisoverdragelse har ret til et gratis lægevalg, som i dag ikke kan "
            f"foretages gratis i selvbetjeningen (2.6.7).")


def note_child_free(parent_name: str, parent_cpr: str, practice: str, number: str, on: date) -> str:
    return (f"Gratis lægevalg på barnet: {practice} ({number}) pr. {d(on)} efter anmodning fra bopælsforælder "
            f"{parent_name} ({c(parent_cpr)}). PLO-hændelsen giver gratis lægevalg, men bopælsforælderen kan "
            f"ikke skifte læge for et barn under 15 år med en anden læge i selvbetjeningen (2.6.8).")


def note_child_home(parent_name: str, parent_cpr: str, practice: str, number: str, on: date) -> str:
    return (f"Barnet er hjemtaget til forælder {parent_name} ({c(parent_cpr)}) på forælderens "
            f"folkeregisteradresse. Lægeskift til {practice} ({number}) pr. {d(on)} foretaget af Borgerservice, "
            f"da selvbetjeningen afviser flytning til egen folkeregisteradresse; gratis (flytning) (2.7.8).")


def force_note(rule: str, basis: str) -> str:
    return f"Lukket læge gennemtvunget efter reglen »{FORCE_RULE_TEXT.get(rule, rule)}«: {basis.strip()}"


# The force rules in the record's words (the UI names them from core.json's force.<rule>).
FORCE_RULE_TEXT = {
    "doctor_accepted": "lægen har accepteret patienten",
    "return_to_last_gp": "tilbage til seneste læge i gruppe 1",
    "no_open_within_reach": "ingen to åbne læger inden for afstandskravet",
}


# == shared helpers ==============================================================================

def task_event(ctx: WizardContext) -> CprEvent | None:
    t = ctx.task
    if t is None or not t.event_id:
        return None
    return next((e for e in ctx.state.events if e.id == t.event_id), None)


def _event_data(ctx: WizardContext) -> dict:
    ev = task_event(ctx)
    return dict(ev.data) if ev else {}


def _fee(reason_code: str, when: date, ctx: WizardContext, free_text: str) -> dict:
    """Free or paid by domain.fees, with the why written in the record's words."""
    fee = fees_mod.doctor_fee(reason_code, when, {when.year: ctx.card_fee})
    return fee_dict(fee.paid, fee.amount, free_text if not fee.paid else texts.FEE_PAID_OWN)


def _iso(day: date) -> str:
    return day.isoformat()


def _today(draft: Draft, ctx: WizardContext) -> str:
    return _iso(ctx.today)


# -- doctor choice: built on doctor_choice (offer, validation, payload), plus the force basis --
#
# A closed practice is never taken silently: every wizard here lists closed practices (their
# state in words) but a closed choice leads to the "force" step, where the caseworker picks
# one of the force rules that apply to this person and this practice and writes what it
# rests on (e.g. who at the practice accepted). The rule is named in the operation and the
# basis goes into the note.

ACCEPTED = dc.ChoiceRule(closed="force", force_rule="doctor_accepted")


def _return_covers(draft: Draft, ctx: WizardContext) -> set[str]:
    last = last_group1_gp(ctx.state, ctx.today)
    return {last} if last else set()


def _reach_covers(draft: Draft, ctx: WizardContext) -> set[str] | None:
    return None if open_within_reach(ctx.state, ctx.providers) < 2 else set()


RETURN_TO_LAST = dc.ChoiceRule(closed="force", force_rule="return_to_last_gp", force_for=_return_covers)
NO_OPEN_IN_REACH = dc.ChoiceRule(closed="force", force_rule="no_open_within_reach", force_for=_reach_covers)

# Per wizard, the force rules that may cover a closed practice; the last one is the widest
# (the doctor's acceptance covers any closed practice) and drives the offer and validation.
TRANSFER_RULES = (ACCEPTED,)
CHILD_FREE_RULES = (ACCEPTED,)
REDISCOVERY_RULES = (RETURN_TO_LAST, ACCEPTED)
CHILD_HOME_RULES = (NO_OPEN_IN_REACH, ACCEPTED)


def open_within_reach(state: PersonState, providers: Mapping[str, Provider]) -> int:
    """Open practices within the distance rule of the person's address."""
    return sum(1 for r in rules.rank_providers(state.person.address, providers.values())
               if r.within_limit and r.provider.open)


def last_group1_gp(state: PersonState, today: date) -> str | None:
    """DOMAIN.md "return from group 2 or 4/5 to the last group 1 GP": the provider number of
    that GP when the group history shows such a return into today's group 1, else None."""
    cur = state.current_group(today)
    if cur is None or cur.group != 1:
        return None
    before = [g for g in state.groups if g.end == cur.effective and g.group in (2, 4, 5)]
    if not before:
        return None
    left = min(g.effective for g in before)
    earlier = [x for x in state.doctors if x.provider_number and x.effective < left]
    return max(earlier, key=lambda x: x.effective).provider_number if earlier else None


def _open_nearest(ctx: WizardContext, exclude: Sequence[str] = ()) -> str:
    for r in rules.rank_providers(ctx.state.person.address, ctx.providers.values()):
        if r.provider.open and r.provider.provider_number not in exclude:
            return r.provider.provider_number
    return ""


def _chosen(draft: Draft, ctx: WizardContext) -> Provider | None:
    return ctx.provider(draft.get("provider", ""))


def _is_closed_choice(draft: Draft, ctx: WizardContext) -> bool:
    p = _chosen(draft, ctx)
    return p is not None and not p.open


def applicable_rules(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule]) -> list[dc.ChoiceRule]:
    """The candidate force rules that cover the chosen closed practice for this person."""
    p = _chosen(draft, ctx)
    return [r for r in candidates if dc.is_forced(p, draft, ctx, r)]


def active_rule(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule]) -> dc.ChoiceRule:
    """The rule the draft forces under (the chosen one if it applies), else the widest candidate."""
    rules_now = applicable_rules(draft, ctx, candidates)
    chosen = next((r for r in rules_now if r.force_rule == draft.get("force_rule")), None)
    return chosen or (rules_now[0] if rules_now else candidates[-1])


def _force_options(candidates: Sequence[dc.ChoiceRule]):
    def options(draft: Draft, ctx: WizardContext) -> list[Option]:
        return [Option(r.force_rule, Msg(f"force.{r.force_rule}")) for r in applicable_rules(draft, ctx, candidates)]
    return options


def _force_evidence(candidates: Sequence[dc.ChoiceRule]):
    def evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        prov = _chosen(draft, ctx)
        out = [Msg("wizard.events.ev.closed", {"practice": prov.practice_name if prov else "?"}, "warning"),
               Msg("wizard.events.ev.force_rules")]
        return out + dc.chosen_lines(draft, ctx, active_rule(draft, ctx, candidates))
    return evidence


def _force_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if not (draft.get("force_basis") or "").strip():
        return [FieldError("force_basis", "wizard.events.error.force_basis")]
    return []


def force_step(candidates: Sequence[dc.ChoiceRule]) -> Step:
    """The step after choosing a closed practice: which rule, and what it rests on."""
    opts = _force_options(candidates)
    return Step("force", "wizard.events.step.force",
                (Field("force_rule", "choice", "wizard.events.field.force_rule", options=opts,
                       default=lambda draft, ctx: next((o.value for o in opts(draft, ctx)), "")),
                 Field("force_basis", "text", "wizard.events.field.force_basis", required=False,
                       hint="wizard.events.hint.force_basis")),
                validate=_force_validate, evidence=_force_evidence(candidates), applies=_is_closed_choice)


def _doctor_validate(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule],
                     effective: date) -> list[FieldError]:
    """doctor_choice.validate (AP1, group 1, known, not the same, closed only under a rule), and
    group 1 on the effective date too (a choice may take effect later)."""
    errs = dc.validate("provider", draft, ctx, candidates[-1])
    if errs:
        return errs
    g = ctx.state.current_group(effective)
    if g is None or g.group != 1:
        return [FieldError("provider", "rule.choice_needs_group1", {"group": g.group if g else "-"})]
    cur = ctx.state.current_doctor(effective)
    p = _chosen(draft, ctx)
    if cur is not None and p is not None and cur.provider_number == p.provider_number:
        return [FieldError("provider", "doctors.error.same", {"practice": p.practice_name})]
    return []


def _choice_payload(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule], *, reason: str,
                    effective: date, fee: dict) -> dict:
    return dc.choice_payload(draft, ctx, active_rule(draft, ctx, candidates), reason, fee, effective=effective)


def _force_note_part(draft: Draft, ctx: WizardContext) -> str:
    prov = _chosen(draft, ctx)
    if prov is None or prov.open:
        return ""
    return " " + force_note(draft.get("force_rule", ""), draft.get("force_basis", ""))


def _provider_field(rule: dc.ChoiceRule, default) -> Field:
    return dc.provider_field(rule, default=default)


def _note_field() -> Field:
    return Field("note", "text", "wizard.events.field.note_extra", required=False, default=lambda dr, cx: "")


def _parents_of(state: PersonState, *kinds: RelationKind) -> list[str]:
    return list(dict.fromkeys(r.other_cpr for r in state.relations if r.kind in kinds))


def _related_parents(state: PersonState) -> list[str]:
    return _parents_of(state, RelationKind.RESIDENCE_PARENT, RelationKind.PARENT)


def _parent(draft: Draft, ctx: WizardContext) -> PersonState | None:
    return ctx.states.get(draft.get("parent", ""))


# == 2.2.1 Greenland =============================================================================

DIRECTIONS = ("to_greenland", "from_greenland")


def suggest_direction(ctx: WizardContext) -> str:
    """The evidence's direction: the conditions of domain.workarounds, the task's event first."""
    s = ctx.state
    to_gl = condition_value("to_greenland", s, ctx.today, ctx.provider)
    from_gl = condition_value("from_greenland", s, ctx.today, ctx.provider)
    code = ctx.task.event_code if ctx.task else ""
    if code == "034" and from_gl:
        return "from_greenland"
    if code == "013" and to_gl:
        return "to_greenland"
    if from_gl and not to_gl:
        return "from_greenland"
    if to_gl and not from_gl:
        return "to_greenland"
    return "from_greenland" if code == "034" else "to_greenland"


def _direction_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option(v, Msg(f"wizard.greenland.opt.{v}")) for v in DIRECTIONS]


def _direction_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("wizard.greenland.ev.cpr_status", {"status": s.person.cpr_status,
                                                      "status_key": f"cpr_status.{CPR_STATUS.get(s.person.cpr_status, 'other')}"}))
    out += [group_line(s, ctx.today), doctor_line(s, ctx)]
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    sug = suggest_direction(ctx)
    to_gl = condition_value("to_greenland", s, ctx.today, ctx.provider)
    from_gl = condition_value("from_greenland", s, ctx.today, ctx.provider)
    why = ("wizard.greenland.why.to" if sug == "to_greenland" and to_gl else
           "wizard.greenland.why.from" if sug == "from_greenland" and from_gl else "wizard.greenland.why.event")
    out.append(Msg("wizard.greenland.ev.suggestion", {"direction_key": f"wizard.greenland.opt.{sug}",
                                                      "why_key": why}, "heading"))
    return out


def _is_direction(direction: str):
    return lambda draft, ctx: draft.get("direction") == direction


def _moved_default(draft: Draft, ctx: WizardContext) -> str:
    ev = task_event(ctx)
    if ev is not None and ev.code == "013":
        return _iso(ev.event_date)
    gl = [a for a in ctx.state.addresses if is_greenland(a.address.municipality_code) and a.start <= ctx.today]
    if gl:
        return _iso(max(a.start for a in gl))
    return _iso(event_date(ctx) or ctx.today)


def future_after(state: PersonState, moved: date) -> tuple[list[GroupRegistration], list[DoctorChoice]]:
    """The registrations a ``remove_future`` as of ``moved`` deletes (domain.operations.apply)."""
    return ([g for g in sorted(state.groups, key=lambda g: g.effective) if g.effective > moved],
            [x for x in sorted(state.doctors, key=lambda x: x.effective) if x.effective > moved])


def active_choices(state: PersonState, on: date) -> list[DoctorChoice]:
    """Doctor choices running on ``on`` (the ones the move to Greenland ends), also one whose
    end a future choice has scheduled after ``on`` (that future choice is removed)."""
    return [x for x in sorted(state.doctors, key=lambda x: x.effective)
            if x.effective <= on and (x.end is None or x.end > on)]


def _to_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    moved = draft_date(draft, "moved", ctx.today)
    out = [group_line(s, ctx.today), Msg("wizard.greenland.ev.to_plan", {"date": d(moved)})]
    ended = active_choices(s, moved)
    if not ended:
        out.append(Msg("wizard.greenland.ev.no_choice"))
    for x in ended:
        out.append(_choice_line("wizard.greenland.ev.end_choice", x, ctx))
    groups, doctors = future_after(s, moved)
    out.append(Msg("wizard.greenland.ev.remove_heading", {"date": d(moved)}, "heading"))
    if not groups and not doctors:
        out.append(Msg("wizard.greenland.ev.remove_none"))
    for g in groups:
        out.append(Msg("wizard.greenland.ev.remove_group", {"group": g.group, "date": d(g.effective)}, "warning"))
    for x in doctors:
        out.append(_choice_line("wizard.greenland.ev.remove_choice", x, ctx, "warning"))
    if not is_greenland(s.person.address.municipality_code) and s.person.cpr_status not in ("05", "07"):
        out.append(Msg("wizard.greenland.ev.not_greenland_address", level="warning"))
    return out


def _choice_line(key: str, x: DoctorChoice, ctx: WizardContext, level: str = "info") -> Msg:
    if not x.provider_number:
        return Msg(key, {"practice_key": "wizard.events.missing_choice", "number": "-", "date": d(x.effective)}, level)
    return Msg(key, {"practice_key": "wizard.events.practice", "practice": x.practice_name,
                     "number": x.provider_number, "date": d(x.effective)}, level)


def _to_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    moved = parse_date(draft["moved"])
    if moved > ctx.today:
        return [FieldError("moved", "wizard.greenland.error.moved_future", {"date": d(ctx.today)})]
    # the state after removing what lies beyond the move date: is the person already in 7 then?
    g = [x for x in ctx.state.groups if x.effective <= moved and (x.end is None or x.end > moved)]
    if g and max(g, key=lambda x: x.effective).group == 7:
        return [FieldError("moved", "wizard.greenland.error.already7", {"date": d(moved)})]
    return []


def _from_due_default(draft: Draft, ctx: WizardContext) -> str:
    t = ctx.task
    base = t.received if t else ctx.today
    return _iso(max(base + timedelta(days=1), ctx.today))


def _from_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = [Msg("wizard.greenland.ev.from_plan"), group_line(s, ctx.today), doctor_line(s, ctx)]
    g = s.current_group(ctx.today)
    doc = s.current_doctor(ctx.today)
    if g is not None and g.group == 1 and doc is not None and doc.provider_number:
        out.append(Msg("wizard.greenland.ev.from_done", {"since": d(g.effective)}))
    else:
        out.append(Msg("wizard.greenland.ev.from_pending", level="warning"))
    if is_greenland(s.person.address.municipality_code):
        out.append(Msg("wizard.greenland.ev.still_greenland", level="warning"))
    return out


def _from_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    due = parse_date(draft["due"])
    if due < ctx.today:
        return [FieldError("due", "wizard.greenland.error.due_past", {"date": d(ctx.today)})]
    return []


def plan_greenland(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    ops: list[PlannedOp] = []
    if draft.get("direction") == "to_greenland":
        moved = parse_date(draft["moved"])
        groups, doctors = future_after(s, moved)
        ops.append(PlannedOp(cpr, "remove_future", {"as_of": _iso(moved)}))
        ops.append(PlannedOp(cpr, "group_switch", {"group": 7, "effective": _iso(moved),
                                                   "reason": GL_REASON_GROUP7}))
        ended = active_choices(s, moved)
        for x in ended:
            ops.append(PlannedOp(cpr, "doctor_choice_end", {"choice_id": x.id, "end": _iso(moved)}))
        ops.append(PlannedOp(cpr, "note_add", {"text": _with_extra(
            note_to_greenland(moved, ended, len(groups), len(doctors)), draft)}))
        reason = GL_CLOSE_TO
    elif draft.get("direction") == "from_greenland":
        ev = task_event(ctx)
        moved = ev.event_date if ev else None
        ops.append(PlannedOp(cpr, "followup_add", {"text": followup_from_greenland(moved),
                                                   "due": _iso(parse_date(draft["due"]))}))
        reason = GL_CLOSE_FROM
    else:
        raise ValueError(f"no direction in the draft: {draft.get('direction')!r}")
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": reason}))
    return ops


GREENLAND = Wizard(
    key="greenland",
    workaround_ids=("2.2.1",),
    title="wizard.greenland.title",
    steps=(
        Step("direction", "wizard.greenland.step.direction",
             (Field("direction", "choice", "wizard.greenland.field.direction", options=_direction_options,
                    default=lambda draft, ctx: suggest_direction(ctx)),),
             evidence=_direction_evidence),
        Step("to_greenland", "wizard.greenland.step.to_greenland",
             (Field("moved", "date", "wizard.greenland.field.moved", default=_moved_default,
                    hint="wizard.hint.date"),
              _note_field()),
             validate=_to_validate, evidence=_to_evidence, applies=_is_direction("to_greenland")),
        Step("from_greenland", "wizard.greenland.step.from_greenland",
             (Field("due", "date", "wizard.greenland.field.due", default=_from_due_default,
                    hint="wizard.hint.date"),),
             validate=_from_validate, evidence=_from_evidence, applies=_is_direction("from_greenland")),
    ),
    plan_fn=plan_greenland,
)


# == 2.6.7 practice transfer =====================================================================

def transfer_date(ctx: WizardContext) -> date | None:
    """The transfer date in the PLO1 event's data, if any."""
    raw = _event_data(ctx).get("transfer_date")
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _transfer_effective_default(draft: Draft, ctx: WizardContext) -> str:
    on = transfer_date(ctx)
    return _iso(on) if on else ""


def _transfer_provider_default(draft: Draft, ctx: WizardContext) -> str:
    data = _event_data(ctx)
    cur = ctx.state.current_doctor(ctx.today)
    exclude = [x for x in (data.get("from_provider"), data.get("to_provider"),
                           cur.provider_number if cur else None) if x]
    return _open_nearest(ctx, exclude)


def _transfer_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx) + [group_line(s, ctx.today), doctor_line(s, ctx)]
    data = _event_data(ctx)
    frm, to = ctx.provider(str(data.get("from_provider", ""))), ctx.provider(str(data.get("to_provider", "")))
    on = transfer_date(ctx)
    if frm or to or on:
        out.append(Msg("wizard.practice_transfer.ev.transfer", {
            "from": f"{frm.practice_name} ({frm.provider_number})" if frm else "?",
            "to": f"{to.practice_name} ({to.provider_number})" if to else "?", "date": d(on)}))
    else:
        out.append(Msg("wizard.practice_transfer.ev.no_data", level="warning"))
    out.append(Msg("wizard.practice_transfer.ev.plan"))
    return out + dc.distance_lines(draft, ctx, TRANSFER_RULES[-1])


def _transfer_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    eff = parse_date(draft["effective"])
    on = transfer_date(ctx)
    if on is not None and eff != on:
        return [FieldError("effective", "wizard.practice_transfer.error.not_transfer_date", {"date": d(on)})]
    return _doctor_validate(draft, ctx, TRANSFER_RULES, eff)


def _transfer_note_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    eff = draft_date(draft, "effective", ctx.today)
    return [Msg("wizard.events.ev.fee_free", {"why_key": "wizard.practice_transfer.why_free"}),
            Msg("wizard.events.ev.note_will_be", {"text": _transfer_note(draft, ctx, eff)})]


def _transfer_note(draft: Draft, ctx: WizardContext, eff: date) -> str:
    prov = _chosen(draft, ctx)
    frm = ctx.provider(str(_event_data(ctx).get("from_provider", "")))
    old = f"{frm.practice_name} ({frm.provider_number})" if frm else None
    return note_transfer(eff, prov.practice_name if prov else "?", prov.provider_number if prov else "?", old) + \
        _force_note_part(draft, ctx)


def plan_transfer(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    cpr = ctx.cpr
    eff = parse_date(draft["effective"])
    ops = [PlannedOp(cpr, "doctor_choice", _choice_payload(
        draft, ctx, TRANSFER_RULES, reason=texts.REASON_CHOICE_OWN, effective=eff,
        fee=_fee("practice_transfer", eff, ctx, TRANSFER_FEE_REASON)))]
    ops.append(PlannedOp(cpr, "note_add", {"text": _with_extra(_transfer_note(draft, ctx, eff), draft)}))
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": TRANSFER_CLOSE}))
    return ops


PRACTICE_TRANSFER = Wizard(
    key="practice_transfer",
    workaround_ids=("2.6.7",),
    title="wizard.practice_transfer.title",
    steps=(
        Step("doctor", "wizard.practice_transfer.step.doctor",
             (_provider_field(TRANSFER_RULES[-1], _transfer_provider_default),
              Field("effective", "date", "wizard.practice_transfer.field.effective",
                    default=_transfer_effective_default, hint="wizard.hint.date")),
             validate=_transfer_validate, evidence=_transfer_evidence),
        force_step(TRANSFER_RULES),
        Step("note", "wizard.events.step.note", (_note_field(),), evidence=_transfer_note_evidence),
    ),
    plan_fn=plan_transfer,
)


# == 2.6.8 free choice for a child not on the residence parent's doctor =========================

CHILD_AGE_LIMIT = 15


def _residence_parent_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    out = []
    for r in ctx.state.relations_of(RelationKind.RESIDENCE_PARENT):
        out.append(Option(r.other_cpr, Msg("wizard.events.opt.parent", {"name": r.other_name,
                                                                        "cpr": c(r.other_cpr)})))
    return list({o.value: o for o in out}.values())


def _first_option(fn):
    return lambda draft, ctx: next((o.value for o in fn(draft, ctx)), "")


def _parent_lines(parent: PersonState | None, ctx: WizardContext) -> list[Msg]:
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
    data = _event_data(ctx)
    if data.get("reason"):
        out.append(Msg("wizard.child_free.ev.plo", {"reason": data["reason"]}))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), *address_lines(s)[:1]]
    if not s.relations_of(RelationKind.RESIDENCE_PARENT):
        out.append(Msg("wizard.child_free.ev.no_residence_parent", level="warning"))
    parent = _parent(draft, ctx) or next((ctx.states.get(o.value) for o in _residence_parent_options(draft, ctx)),
                                         None)
    out += _parent_lines(parent, ctx)
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
    if _parent(draft, ctx) is None:
        return [FieldError("parent", "wizard.events.error.parent_unknown")]
    return []


def _child_doctor_default(draft: Draft, ctx: WizardContext) -> str:
    """The parent's doctor when it is open (the child follows the parent), else the nearest open."""
    parent = _parent(draft, ctx)
    doc = parent.current_doctor(ctx.today) if parent else None
    prov = ctx.provider(doc.provider_number) if doc and doc.provider_number else None
    cur = ctx.state.current_doctor(ctx.today)
    if prov is not None and prov.open and (cur is None or cur.provider_number != prov.provider_number):
        return prov.provider_number
    return _open_nearest(ctx, [cur.provider_number] if cur else [])


def _child_doctor_evidence(why_key: str, candidates: Sequence[dc.ChoiceRule]):
    def evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        s = ctx.state
        out = [doctor_line(s, ctx), *_parent_doctor_line(_parent(draft, ctx), ctx),
               Msg("wizard.events.ev.fee_free", {"why_key": why_key})]
        return out + dc.distance_lines(draft, ctx, candidates[-1])
    return evidence


def _child_doctor_validate(candidates: Sequence[dc.ChoiceRule]):
    return lambda draft, ctx: _doctor_validate(draft, ctx, candidates, parse_date(draft["effective"]))


def _child_choice(note_builder, rules: Sequence[dc.ChoiceRule], reason: str, fee_code: str,
                  fee_reason: str, close_reason: str):
    """The note, its preview and the plan shared by the child wizards (2.6.8, 2.7.8): a free
    doctor choice on the child, a note naming the parent, and the task closed."""

    def note(draft: Draft, ctx: WizardContext) -> str:
        parent = _parent(draft, ctx)
        prov = _chosen(draft, ctx)
        eff = draft_date(draft, "effective", ctx.today)
        return note_builder(parent.person.name if parent else "?",
                            parent.cpr if parent else draft.get("parent", ""),
                            prov.practice_name if prov else "?", prov.provider_number if prov else "?",
                            eff) + _force_note_part(draft, ctx)

    def note_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        return [Msg("wizard.events.ev.note_will_be", {"text": note(draft, ctx)})]

    def plan(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
        cpr = ctx.cpr
        eff = parse_date(draft["effective"])
        ops = [PlannedOp(cpr, "doctor_choice", _choice_payload(
            draft, ctx, rules, reason=reason, effective=eff, fee=_fee(fee_code, eff, ctx, fee_reason))),
            PlannedOp(cpr, "note_add", {"text": _with_extra(note(draft, ctx), draft)})]
        if ctx.task_id:
            ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": close_reason}))
        return ops

    return note, note_evidence, plan


_child_free_note, _child_free_note_evidence, plan_child_free = _child_choice(
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
             (_provider_field(CHILD_FREE_RULES[-1], _child_doctor_default),
              Field("effective", "date", "wizard.field.effective", default=_today, hint="wizard.hint.date")),
             validate=_child_doctor_validate(CHILD_FREE_RULES),
             evidence=_child_doctor_evidence("wizard.child_free.why_free", CHILD_FREE_RULES)),
        force_step(CHILD_FREE_RULES),
        Step("note", "wizard.events.step.note", (_note_field(),), evidence=_child_free_note_evidence),
    ),
    plan_fn=plan_child_free,
    related=lambda state: _parents_of(state, RelationKind.RESIDENCE_PARENT),
)


# == 2.7.3 rediscovery ===========================================================================

def missing_choice(state: PersonState) -> DoctorChoice | None:
    """The running "manglende lægevalg", if the person has one."""
    return next((x for x in sorted(state.doctors, key=lambda x: x.effective, reverse=True)
                 if x.status.value == "missing" and x.end is None), None)


def last_doctor(state: PersonState) -> DoctorChoice | None:
    real = [x for x in state.doctors if x.provider_number and x.end is not None]
    return max(real, key=lambda x: (x.end, x.effective)) if real else None


def _rediscovery_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    t = ctx.task
    if t is not None and t.due <= ctx.today:
        out.append(Msg("wizard.rediscovery.ev.due_today", {"due": d(t.due)}, "warning"))
    out.append(group_line(s, ctx.today))
    miss = missing_choice(s)
    if miss is not None:
        out.append(Msg("wizard.rediscovery.ev.missing", {"since": d(miss.effective)}, "warning"))
    else:
        out.append(Msg("wizard.rediscovery.ev.no_missing"))
    last = last_doctor(s)
    if last is not None:
        prov = ctx.provider(last.provider_number)
        out.append(Msg("wizard.ev.doctor_previous", {
            "practice": last.practice_name, "number": last.provider_number,
            "open_key": "wizard.ev.provider_unknown" if prov is None else
            "wizard.ev.open" if prov.open else "wizard.ev.closed", "end": d(last.end)}))
    else:
        out += previous_doctor_line(s, ctx)
    out += address_lines(s)[:1]
    out.append(Msg("wizard.rediscovery.ev.plan"))
    return out + dc.distance_lines(draft, ctx, REDISCOVERY_RULES[-1])


def _rediscovery_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    return _doctor_validate(draft, ctx, REDISCOVERY_RULES, ctx.today)


def _rediscovery_default(draft: Draft, ctx: WizardContext) -> str:
    last = last_doctor(ctx.state)
    prov = ctx.provider(last.provider_number) if last else None
    if prov is not None and prov.open:  # reopened since: the system's own first choice
        return prov.provider_number
    return _open_nearest(ctx)


def plan_rediscovery(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    ops: list[PlannedOp] = []
    miss = missing_choice(s)
    if miss is not None:
        ops.append(PlannedOp(cpr, "doctor_choice_end", {"choice_id": miss.id, "end": _iso(ctx.today)}))
    ops.append(PlannedOp(cpr, "doctor_choice", _choice_payload(
        draft, ctx, REDISCOVERY_RULES, reason=REDISCOVERY_REASON, effective=ctx.today,
        fee=_fee("first_choice", ctx.today, ctx, REDISCOVERY_FEE_REASON))))
    force = _force_note_part(draft, ctx).strip()
    if force:
        ops.append(PlannedOp(cpr, "note_add", {"text": force + " (2.7.3)"}))
    if ctx.task_id:
        ops.append(PlannedOp(cpr, "task_close", {"task_id": ctx.task_id, "reason": REDISCOVERY_CLOSE}))
    return ops


REDISCOVERY = Wizard(
    key="rediscovery",
    workaround_ids=("2.7.3",),
    title="wizard.rediscovery.title",
    steps=(
        Step("doctor", "wizard.rediscovery.step.doctor",
             (_provider_field(REDISCOVERY_RULES[-1], _rediscovery_default),),
             validate=_rediscovery_validate, evidence=_rediscovery_evidence),
        force_step(REDISCOVERY_RULES),
    ),
    plan_fn=plan_rediscovery,
)


# == 2.7.8 parents take a child home =============================================================

def _parent_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    out: dict[str, Option] = {}
    for r in ctx.state.relations_of(RelationKind.PARENT, RelationKind.RESIDENCE_PARENT):
        out.setdefault(r.other_cpr, Option(r.other_cpr, Msg("wizard.events.opt.parent", {
            "name": r.other_name, "cpr": c(r.other_cpr)})))
    return list(out.values())


def _home_parent_default(draft: Draft, ctx: WizardContext) -> str:
    """The task's parent (036 data ``to_parent``), else the parent at the child's address."""
    opts = [o.value for o in _parent_options(draft, ctx)]
    wanted = str(_event_data(ctx).get("to_parent", ""))
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
    parent = _parent(draft, ctx) or ctx.states.get(_home_parent_default(draft, ctx))
    return out + _parent_lines(parent, ctx)


def _home_verify_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if not _parent_options(draft, ctx):
        return [FieldError("parent", "wizard.child_home.error.no_parent")]
    if draft.get("parent") not in {o.value for o in _parent_options(draft, ctx)}:
        return [FieldError("parent", "wizard.error.choose")]
    parent = _parent(draft, ctx)
    if parent is None:
        return [FieldError("parent", "wizard.events.error.parent_unknown")]
    if not ctx.state.person.address.same_place(parent.person.address):
        return [FieldError("parent", "wizard.child_home.error.not_same_address", {"name": parent.person.name})]
    return []


_home_note, _home_note_evidence, plan_child_home = _child_choice(
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
             (_provider_field(CHILD_HOME_RULES[-1], _child_doctor_default),
              Field("effective", "date", "wizard.field.effective", default=_today, hint="wizard.hint.date")),
             validate=_child_doctor_validate(CHILD_HOME_RULES),
             evidence=_child_doctor_evidence("wizard.child_home.why_free", CHILD_HOME_RULES)),
        force_step(CHILD_HOME_RULES),
        Step("note", "wizard.events.step.note", (_note_field(),), evidence=_home_note_evidence),
    ),
    plan_fn=plan_child_home,
    related=_related_parents,
)


WIZARDS = (GREENLAND, PRACTICE_TRANSFER, CHILD_FREE_CHOICE, REDISCOVERY, CHILD_HOME)
