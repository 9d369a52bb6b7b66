"""Doctor-choice wizards: 2.1.1 immigration, 2.3.1 a cohabitant's closed doctor, 2.3.2 host
moves, 2.6.1 dispensation for a person unknown in LUNA, 2.6.2 / 3.1.3 choice for a ward.

All of them choose the doctor through :mod:`.doctor_choice` (distance-ranked offer in
straight-line km, open/closed in words, closed refused unless a force rule covers it,
attention point 1 blocking at the provider step, the fee by ``fees.doctor_fee``).

The note each wizard writes is composed from the draft by :func:`_note_text` functions (so it
always matches what was done) and shown on the note step; the caseworker may add a remark.

Decisions where the guide leaves room (each is said on screen):

* 2.1.1: the card "ordered with the automatic doctor choice" is the newest card ordered on
  or after the arrival (the 014 event's date) that is not cancelled. Status ``ordered`` →
  ``card_cancel``; ``produced``/``sent`` → cannot be cancelled, the note records the
  accepted risk of two cards. The new choice's reason is first choice (free). The wizard
  offers to order the new card (free, first card) that goes with the new choice; the
  caseworker can untick it.
* 2.3.1: parent/child relations are refused (the guide keeps self-service's block on
  purpose and the domain rule ``rule.cohabitant_parent_child`` says why); only a spouse or
  cohabitant at the same address counts. The guide is silent on the fee: it is a change by
  the person's own choice, so charged by default (``fees.DOCTOR_REASONS["cohabitant"]``),
  waivable with a written reason; the fee step says so.
* 2.3.2: "the move has taken effect" = the person's current address is the host's and the
  address history line for it starts on or before today. Fee charged by default ("under
  normale omstændigheder ikke gratis"); a waiver needs a written reason.
* 2.6.1 (14-day rule, decided from the guide): the guide says always choose an OPEN doctor,
  first within the distance rule; only if there is none, an open doctor farther away; then
  the citizen may apply for a closer doctor that needs dispensation. Closed doctors are
  not offered. A doctor within the distance rule needs no dispensation: the choice is
  ``approved``. A doctor beyond the rule needs dispensation (the glossary: dispensation =
  a doctor outside the distance rule) and, as the guide warns, stands approved only for
  ``rules.PROVISIONAL_DAYS`` (14) days until the doctor accepts or rejects: the choice is
  ``provisional`` with ``provisional_until`` = effective + 14 days. The warning is shown
  on every step, and the note records it and the citizen's option to apply for a closer
  doctor needing dispensation (the wanted doctor from the L02 task, when known).
* 2.6.2 / 3.1.3: started on the ward (task 021) or on the guardian (person screen). The
  relation must be registered on both sides (the ward's GUARDIAN and the guardian's WARD).
  One ward per case (3.1.3: individual choices). If the guardian has a MitID power of
  attorney the wizard only notes the guidance given (no choice). The fee is as for a change
  by own choice unless the caseworker picks a free reason (moving, practice closes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from .. import rules
from ...fmt import free_reason
from ..model import CardStatus, ChoiceStatus, HealthCard, PersonState, Relation, RelationKind
from ..operations import PlannedOp
from . import doctor_choice as dc
from .base import Draft, Field, FieldError, Msg, Option, Step, Wizard, WizardContext
from .common import (
    address_lines,
    doctor_line,
    event_date,
    group_line,
    person_lines,
    task_line,
)
from .texts import c, d

PARENT_CHILD = (RelationKind.PARENT, RelationKind.CHILD, RelationKind.RESIDENCE_PARENT,
                RelationKind.RESIDENCE_CHILD)
PARTNER = (RelationKind.SPOUSE, RelationKind.COHABITANT)
RECENT_MOVE_DAYS = 90


def _extra(draft: Draft) -> str:
    return (draft.get("extra_note") or "").strip()


def _with_extra(text: str, draft: Draft) -> str:
    extra = _extra(draft)
    return f"{text} Bemærkning: {extra}" if extra else text


def _close(ctx: WizardContext, reason: str) -> list[PlannedOp]:
    t = ctx.task
    if t is None or t.status.value != "open":
        return []
    return [PlannedOp(ctx.cpr, "task_close", {"task_id": t.id, "reason": reason})]


def _note_step(text_fn, title: str = "doctors.step.note") -> Step:
    def evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        return [Msg("doctors.ev.note_preview", level="heading"), Msg("doctors.ev.note_text", {"text": text_fn(draft, ctx)}),
                dc.letter_line()]
    return Step("note", title, (Field("extra_note", "text", "doctors.field.extra_note", required=False,
                                      default=lambda dr, cx: ""),), evidence=evidence)


def _chosen_practice(draft: Draft, ctx: WizardContext, field_id: str = "provider") -> tuple[str, str]:
    p = ctx.provider(draft.get(field_id, ""))
    return (p.practice_name, p.provider_number) if p else ("?", draft.get(field_id, ""))


# == 2.1.1 immigration =========================================================================

def arrival(state: PersonState, ctx: WizardContext) -> date | None:
    """The immigration date: the task's 014 event, else the person's latest 014 event."""
    t = ctx.task
    if t is not None and t.event_code == "014":
        return event_date(ctx)
    evs = [e for e in state.events if e.code == "014"]
    return max(evs, key=lambda e: e.event_date).event_date if evs else None


def auto_card(state: PersonState, since: date | None) -> HealthCard | None:
    """The card ordered with the automatic doctor choice: the newest not cancelled since arrival."""
    if since is None:
        return None
    cards = [k for k in state.cards if k.ordered_on >= since and k.status != CardStatus.CANCELLED]
    return max(cards, key=lambda k: (k.ordered_on, k.id)) if cards else None


IMMIGRATION_RULE = dc.ChoiceRule(closed="refuse", exclude_current=True)


def _imm_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    arr = arrival(s, ctx)
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("doctors.imm.ev.arrival", {"date": d(arr)}) if arr else
               Msg("doctors.imm.ev.no_arrival", level="warning"))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), Msg("doctors.imm.ev.plan")]
    out.append(Msg("doctors.ev.fee_free", {"why": free_reason(dc.FEE_REASON_TEXT["first_choice"]), "amount": ctx.card_fee,
                                           "year": ctx.today.year}))
    return out + dc.distance_lines(draft, ctx, IMMIGRATION_RULE)


def _imm_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    if arrival(ctx.state, ctx) is None:
        return [FieldError("", "doctors.imm.error.no_arrival")]
    return dc.validate("provider", draft, ctx, IMMIGRATION_RULE)


def _card_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    card = auto_card(s, arrival(s, ctx))
    out = dc.chosen_lines(draft, ctx, IMMIGRATION_RULE)
    if card is None:
        out.append(Msg("doctors.imm.ev.no_card", level="warning"))
    else:
        out.append(Msg("doctors.imm.ev.card", {"date": d(card.ordered_on), "status_key": f"doctors.card.{card.status.value}",
                                              "reason": card.reason}))
        if card.status == CardStatus.ORDERED:
            out.append(Msg("doctors.imm.ev.cancel"))
        else:
            out.append(Msg("doctors.imm.ev.two_cards", {"status_key": f"doctors.card.{card.status.value}"}, "warning"))
    out.append(dc.letter_line())
    return out


def _imm_note(draft: Draft, ctx: WizardContext) -> str:
    s = ctx.state
    arr = arrival(s, ctx)
    practice, number = _chosen_practice(draft, ctx)
    auto = s.current_doctor(ctx.today)
    auto_txt = f" i stedet for den automatisk tildelte læge {auto.practice_name} ({auto.provider_number})" if auto else ""
    text = (f"Indrejse {d(arr)}: nyt lægevalg {practice} ({number}){auto_txt}, gratis (første lægevalg efter "
            f"indrejse, 2.1.1).")
    card = auto_card(s, arr)
    if card is None:
        text += " Intet automatisk bestilt sundhedskort fundet."
    elif card.status == CardStatus.ORDERED:
        text += f" Det automatisk bestilte sundhedskort af {d(card.ordered_on)} er annulleret."
    else:
        text += (f" Det automatisk bestilte sundhedskort af {d(card.ordered_on)} kunne ikke annulleres "
                 f"(status: {CARD_STATUS_DA[card.status]}): der kan blive sendt to sundhedskort – accepteret "
                 f"risiko aftalt med regionen (2.1.1).")
    if draft.get("new_card") == "yes":
        text += " Nyt sundhedskort med den nye læge bestilt (gratis)."
    return _with_extra(text, draft)


CARD_STATUS_DA = {CardStatus.ORDERED: "bestilt", CardStatus.PRODUCED: "produceret", CardStatus.SENT: "sendt",
                  CardStatus.CANCELLED: "annulleret"}
CLOSE_IMMIGRATION = "nyt lægevalg efter indrejse (2.1.1)"
CARD_REASON_IMMIGRATION = "nyt sundhedskort med lægevalg efter indrejse (2.1.1)"


def plan_immigration(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    s = states[ctx.cpr]
    cpr = ctx.cpr
    fee = dc.fee_payload(draft, ctx, "first_choice")
    ops = [PlannedOp(cpr, "doctor_choice", dc.choice_payload(draft, ctx, IMMIGRATION_RULE, "first_choice", fee))]
    card = auto_card(s, arrival(s, ctx))
    if card is not None and card.status == CardStatus.ORDERED:
        ops.append(PlannedOp(cpr, "card_cancel", {"card_id": card.id}))
    if draft.get("new_card") == "yes":
        ops.append(PlannedOp(cpr, "card_order", {"ordered_on": ctx.today.isoformat(),
                                                 "fee": {"paid": False, "amount": 0, "reason": "første sundhedskort – gratis"},
                                                 "reason": CARD_REASON_IMMIGRATION}))
    ops.append(PlannedOp(cpr, "note_add", {"text": _imm_note(draft, ctx)}))
    return ops + _close(ctx, CLOSE_IMMIGRATION)


IMMIGRATION = Wizard(
    key="immigration",
    workaround_ids=("2.1.1",),
    title="doctors.imm.title",
    steps=(
        Step("doctor", "doctors.imm.step.doctor", (dc.provider_field(IMMIGRATION_RULE),),
             validate=_imm_validate, evidence=_imm_evidence),
        Step("card", "doctors.imm.step.card",
             (Field("new_card", "confirm", "doctors.imm.field.new_card", default=lambda dr, cx: "yes",
                    required=False),),
             evidence=_card_evidence),
        _note_step(_imm_note),
    ),
    plan_fn=plan_immigration,
)


# == shared by 2.3.1 and 2.3.2: the cohabitant ==================================================

def _household_cprs(state: PersonState) -> list[str]:
    kinds = PARTNER + PARENT_CHILD
    return list(dict.fromkeys(r.other_cpr for r in state.relations if r.kind in kinds))


def _relations_to(state: PersonState, other: str) -> list[Relation]:
    return [r for r in state.relations if r.other_cpr == other]


def _relation_words(state: PersonState, other: str) -> str:
    K = RelationKind  # noqa: N806
    words = {K.SPOUSE: "ægtefælle", K.COHABITANT: "samboende", K.PARENT: "forælder", K.CHILD: "barn",
             K.RESIDENCE_PARENT: "bopælsforælder", K.RESIDENCE_CHILD: "hjemmeboende barn",
             K.GUARDIAN: "værge", K.WARD: "under værgemål"}
    return ", ".join(dict.fromkeys(words[r.kind] for r in _relations_to(state, other))) or "-"


def _cohab(draft: Draft, ctx: WizardContext, field_id: str = "cohabitant") -> PersonState | None:
    return ctx.states.get(draft.get(field_id, ""))


def _cohab_doctor(draft: Draft, ctx: WizardContext, field_id: str = "cohabitant") -> set[str]:
    o = _cohab(draft, ctx, field_id)
    cur = o.current_doctor(ctx.today) if o else None
    return {cur.provider_number} if cur else set()


def _cohab_options(field_id: str):
    def opts(draft: Draft, ctx: WizardContext) -> list[Option]:
        me = ctx.state
        out = []
        for other in _household_cprs(me):
            o = ctx.states.get(other)
            if o is None:
                continue
            same = o.person.address.same_place(me.person.address)
            out.append(Option(other, Msg("doctors.cohab.opt.person", {
                "name": o.person.name, "cpr": c(other), "relation": _relation_words(me, other),
                "addr_key": "doctors.cohab.same_address" if same else "doctors.cohab.other_address"})))
        return out
    return opts


def _cohab_default(draft: Draft, ctx: WizardContext) -> str:
    """A spouse/cohabitant at the same address, one on a closed doctor first; failing that the
    first related person (so the step shows why they do not qualify)."""
    me = ctx.state
    best: list[tuple[int, str]] = []
    known = [o for o in _household_cprs(me) if o in ctx.states]
    for other in known:
        o = ctx.states[other]
        if not o.person.address.same_place(me.person.address):
            continue
        kinds = {r.kind for r in _relations_to(me, other)}
        if kinds & set(PARENT_CHILD) or not kinds & set(PARTNER):
            continue
        cur = o.current_doctor(ctx.today)
        p = ctx.provider(cur.provider_number) if cur else None
        best.append((0 if p is not None and not p.open else 1, other))
    if best:
        return min(best)[1]
    return known[0] if known else ""


def _household_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    me = ctx.state
    out = [Msg("doctors.cohab.ev.heading", level="heading")]
    others = [o for o in _household_cprs(me) if o in ctx.states]
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


def _cohab_validate(field_id: str):
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
        kinds = {r.kind for r in _relations_to(me, other)}
        if kinds & set(PARENT_CHILD):
            return [FieldError(field_id, "doctors.cohab.error.parent_child",
                               {"name": o.person.name, "relation": _relation_words(me, other)})]
        if not kinds & set(PARTNER):
            return [FieldError(field_id, "rule.cohabitant_unknown")]
        if o.current_doctor(ctx.today) is None:
            return [FieldError(field_id, "doctors.cohab.error.no_doctor", {"name": o.person.name})]
        return []
    return validate


COHAB_RULE = dc.ChoiceRule(closed="force", force_rule="cohabitant",
                           force_for=lambda dr, cx: _cohab_doctor(dr, cx),
                           only=lambda dr, cx: _cohab_doctor(dr, cx),
                           via=lambda dr, cx: dr.get("cohabitant") or None)


def _cohab_doctor_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    o = _cohab(draft, ctx)
    out = [doctor_line(ctx.state, ctx)]
    if not ctx.state.person.luna_known:
        out.append(Msg("doctors.cohab.ev.luna_unknown", level="warning"))
    if o is not None:
        out.append(Msg("doctors.cohab.ev.offer", {"name": o.person.name}))
    return out + dc.distance_lines(draft, ctx, COHAB_RULE)


def _fee_evidence(rule: dc.ChoiceRule):
    return lambda draft, ctx: dc.chosen_lines(draft, ctx, rule)


def _forced_words(draft: Draft, ctx: WizardContext, rule: dc.ChoiceRule) -> str:
    p = ctx.provider(draft.get("provider", ""))
    if dc.is_forced(p, draft, ctx, rule):
        return " Lægen er lukket for tilgang: valget er gennemtvunget efter reglen om ret til samboendes læge (2.3.1)."
    return ""


def _cohab_note(draft: Draft, ctx: WizardContext) -> str:
    o = _cohab(draft, ctx)
    practice, number = _chosen_practice(draft, ctx)
    who = f"{o.person.name} ({c(o.cpr)}, {_relation_words(ctx.state, o.cpr)})" if o else "?"
    fee = dc.fee_payload(draft, ctx, "cohabitant")
    text = (f"Lægevalg til samboendes læge {practice} ({number}) – samme adresse som {who} er bekræftet, "
            f"årsag samboende (2.3.1).{_forced_words(draft, ctx, COHAB_RULE)} {dc.fee_words(fee).capitalize()}.")
    return _with_extra(text, draft)


CLOSE_COHAB = "lægevalg til samboendes læge (2.3.1)"


def _cohabitant_plan(note, close_reason: str):
    """2.3.1 and 2.3.2 plan alike: the cohabitant's doctor (reason and fee "cohabitant"), the
    wizard's own note, the task closed."""

    def plan(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
        fee = dc.fee_payload(draft, ctx, "cohabitant")
        return [PlannedOp(ctx.cpr, "doctor_choice", dc.choice_payload(draft, ctx, COHAB_RULE, "cohabitant", fee)),
                PlannedOp(ctx.cpr, "note_add", {"text": note(draft, ctx)}),
                *_close(ctx, close_reason)]

    return plan


plan_cohabitant = _cohabitant_plan(_cohab_note, CLOSE_COHAB)


COHABITANT = Wizard(
    key="cohabitant_doctor",
    workaround_ids=("2.3.1",),
    title="doctors.cohab.title",
    steps=(
        Step("cohabitant", "doctors.cohab.step.cohabitant",
             (Field("cohabitant", "choice", "doctors.cohab.field.cohabitant", options=_cohab_options("cohabitant"),
                    default=_cohab_default),),
             validate=_cohab_validate("cohabitant"),
             evidence=lambda dr, cx: (person_lines(cx.state, cx.today) + address_lines(cx.state)[:1]
                                      + [Msg("doctors.cohab.ev.rule")] + _household_evidence(dr, cx))),
        Step("doctor", "doctors.cohab.step.doctor", (dc.provider_field(COHAB_RULE),),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, COHAB_RULE), evidence=_cohab_doctor_evidence),
        dc.fee_step(lambda dr, cx: "cohabitant", extra_evidence=_fee_evidence(COHAB_RULE),
                    hint="doctors.cohab.hint.fee"),
        _note_step(_cohab_note),
    ),
    plan_fn=plan_cohabitant,
    related=_household_cprs,
)


# == 2.3.2 host moves ===========================================================================

def move_entry(state: PersonState):
    """The address-history line of the person's current address (the move), newest first."""
    lines = [e for e in state.addresses if not e.supplementary and e.address.same_place(state.person.address)]
    return max(lines, key=lambda e: e.start) if lines else None


def _move_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    e = move_entry(s)
    if e is None:
        out.append(Msg("doctors.host.ev.no_move", level="warning"))
    elif e.start > ctx.today:
        out.append(Msg("doctors.host.ev.not_yet", {"date": d(e.start)}, "warning"))
    else:
        out.append(Msg("doctors.host.ev.moved", {"date": d(e.start), "street": e.address.street,
                                                "city": e.address.city}))
    out.append(Msg("wizard.ev.addresses_heading", level="heading"))
    out += address_lines(s)
    return out + _household_evidence(draft, ctx)


def _move_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    e = move_entry(ctx.state)
    if e is None:
        return [FieldError("", "doctors.host.error.no_move")]
    if e.start > ctx.today:
        return [FieldError("", "doctors.host.error.not_yet", {"date": d(e.start)})]
    return _cohab_validate("cohabitant")(draft, ctx)


HOST_RULE = COHAB_RULE


def _host_note(draft: Draft, ctx: WizardContext) -> str:
    o = _cohab(draft, ctx)
    e = move_entry(ctx.state)
    practice, number = _chosen_practice(draft, ctx)
    who = f"{o.person.name} ({c(o.cpr)})" if o else "?"
    fee = dc.fee_payload(draft, ctx, "cohabitant")
    text = (f"Flytning til logivært {who} trådt i kraft {d(e.start if e else None)}. Lægevalg til samboendes "
            f"læge {practice} ({number}), årsag samboende (2.3.2).{_forced_words(draft, ctx, HOST_RULE)} "
            f"{dc.fee_words(fee).capitalize()}.")
    return _with_extra(text, draft)


CLOSE_HOST = "lægevalg til logiværts læge efter flytning (2.3.2)"


plan_host_move = _cohabitant_plan(_host_note, CLOSE_HOST)


HOST_MOVE = Wizard(
    key="host_move",
    workaround_ids=("2.3.2",),
    title="doctors.host.title",
    steps=(
        Step("move", "doctors.host.step.move",
             (Field("cohabitant", "choice", "doctors.host.field.host", options=_cohab_options("cohabitant"),
                    default=_cohab_default),),
             validate=_move_validate, evidence=_move_evidence),
        Step("doctor", "doctors.cohab.step.doctor", (dc.provider_field(HOST_RULE),),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, HOST_RULE), evidence=_cohab_doctor_evidence),
        dc.fee_step(lambda dr, cx: "cohabitant", extra_evidence=_fee_evidence(HOST_RULE),
                    hint="doctors.host.hint.fee"),
        _note_step(_host_note),
    ),
    plan_fn=plan_host_move,
    related=_household_cprs,
)


# == 2.6.1 dispensation, person unknown in LUNA ==================================================

DISP_RULE = dc.ChoiceRule(closed="hide", within_first_only=True)
DISP_REASONS = ("moving", "own_choice", "first_choice")


def wanted_provider(ctx: WizardContext):
    """The doctor needing dispensation the person wanted (the L02 task's event data)."""
    t = ctx.task
    if t is None or not t.event_id:
        return None
    ev = next((e for e in ctx.state.events if e.id == t.event_id), None)
    return ctx.provider(str(ev.data.get("provider_number", ""))) if ev else None


def _disp_reason_default(draft: Draft, ctx: WizardContext) -> str:
    e = move_entry(ctx.state)
    return "moving" if e is not None and (ctx.today - e.start).days <= RECENT_MOVE_DAYS else "own_choice"


def _disp_reason_options(draft: Draft, ctx: WizardContext) -> list[Option]:
    return [Option(r, Msg("doctors.reason.opt", {"why": dc.FEE_REASON_TEXT[r]})) for r in DISP_REASONS]


def needs_dispensation(draft: Draft, ctx: WizardContext) -> bool:
    """The chosen doctor is beyond the distance rule (2.6.1: then the 14-day provisional approval)."""
    p = ctx.provider(draft.get("provider", ""))
    if p is None:
        return False
    a = ctx.state.person.address
    return rules.distance_km(a.lat, a.lon, p.lat, p.lon) > dc.limit_km(ctx.state)


def _disp_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + task_line(ctx)
    out.append(Msg("doctors.disp.ev.luna_unknown") if not s.person.luna_known
               else Msg("doctors.disp.ev.luna_known", level="warning"))
    w = wanted_provider(ctx)
    if w is not None:
        a = s.person.address
        out.append(Msg("doctors.disp.ev.wanted", {"practice": w.practice_name, "number": w.provider_number,
                                                  "km": dc.km_text(rules.distance_km(a.lat, a.lon, w.lat, w.lon))}))
    out += [group_line(s, ctx.today), doctor_line(s, ctx), Msg("doctors.disp.ev.plan")]
    offer = dc.offered(draft, ctx, DISP_RULE)
    if offer and not offer[0].within_limit:
        out.append(Msg("doctors.disp.ev.none_within", level="warning"))
    out.append(Msg("doctors.disp.ev.provisional", {"days": rules.PROVISIONAL_DAYS}, "warning"))
    return out + dc.distance_lines(draft, ctx, DISP_RULE)


def _disp_fee_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    out = dc.chosen_lines(draft, ctx, DISP_RULE)
    if needs_dispensation(draft, ctx):
        until = ctx.today + timedelta(days=rules.PROVISIONAL_DAYS)
        out.append(Msg("doctors.disp.ev.provisional_chosen", {"days": rules.PROVISIONAL_DAYS, "until": d(until)},
                       "warning"))
    else:
        out.append(Msg("doctors.disp.ev.approved"))
    return out


def _disp_note(draft: Draft, ctx: WizardContext) -> str:
    practice, number = _chosen_practice(draft, ctx)
    p = ctx.provider(draft.get("provider", ""))
    a = ctx.state.person.address
    km = dc.km_text(rules.distance_km(a.lat, a.lon, p.lat, p.lon)) if p else "?"
    reason = draft.get("reason", "own_choice")
    fee = dc.fee_payload(draft, ctx, reason) if reason in DISP_REASONS else None
    text = (f"Sikrede er ukendt i LUNA, så lægevalg med dispensation kan ikke gennemføres (2.6.1). "
            f"Valgt åben læge {practice} ({number}), {km} km i luftlinje")
    if needs_dispensation(draft, ctx):
        until = ctx.today + timedelta(days=rules.PROVISIONAL_DAYS)
        text += (f", uden for afstandskravet, da der ingen åben læge er inden for: lægevalget kræver dispensation "
                 f"og står som godkendt i {rules.PROVISIONAL_DAYS} dage (til {d(until)}), indtil lægen "
                 f"accepterer eller afviser.")
    else:
        text += ", inden for afstandskravet."
    w = wanted_provider(ctx)
    wanted = f" (ønsket: {w.practice_name}, {w.provider_number})" if w else ""
    text += (f" Sikrede kan derefter søge om en læge tættere på, der kræver dispensation{wanted}; et sådant "
             f"lægevalg står som godkendt i {rules.PROVISIONAL_DAYS} dage, indtil lægen accepterer eller afviser.")
    if fee is not None:
        text += f" {dc.fee_words(fee).capitalize()}."
    return _with_extra(text, draft)


CLOSE_DISP = "åben læge valgt – Sikrede ukendt i LUNA (2.6.1)"


def plan_dispensation(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    reason = draft["reason"]
    fee = dc.fee_payload(draft, ctx, reason)
    if needs_dispensation(draft, ctx):
        payload = dc.choice_payload(draft, ctx, DISP_RULE, reason, fee, status=ChoiceStatus.PROVISIONAL.value,
                                    provisional_until=ctx.today + timedelta(days=rules.PROVISIONAL_DAYS))
    else:
        payload = dc.choice_payload(draft, ctx, DISP_RULE, reason, fee)
    return [PlannedOp(ctx.cpr, "doctor_choice", payload),
            PlannedOp(ctx.cpr, "note_add", {"text": _disp_note(draft, ctx)}),
            *_close(ctx, CLOSE_DISP)]


DISPENSATION = Wizard(
    key="dispensation",
    workaround_ids=("2.6.1",),
    title="doctors.disp.title",
    steps=(
        Step("doctor", "doctors.disp.step.doctor",
             (dc.provider_field(DISP_RULE, label="doctors.disp.field.provider"),
              Field("reason", "choice", "doctors.field.reason", options=_disp_reason_options,
                    default=_disp_reason_default)),
             validate=lambda dr, cx: dc.validate("provider", dr, cx, DISP_RULE), evidence=_disp_evidence),
        dc.fee_step(lambda dr, cx: dr.get("reason") if dr.get("reason") in DISP_REASONS else "own_choice",
                    extra_evidence=_disp_fee_evidence),
        _note_step(_disp_note),
    ),
    plan_fn=plan_dispensation,
)


# == 2.6.2 / 3.1.3 doctor choice for a ward ======================================================

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
    return [Option(r, Msg("doctors.reason.opt", {"why": dc.FEE_REASON_TEXT[r]})) for r in GUARD_REASONS]


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
        return _with_extra(text, draft)
    practice, number = _chosen_practice(draft, ctx)
    reason = _guard_reason(draft, ctx)
    fee = dc.fee_payload(draft, ctx, reason)
    text = (f"Lægevalg {practice} ({number}) foretaget af kommunen på vegne af værge {g}, da værgen ikke kan "
            f"vælge læge for Sikrede i selvbetjeningen (2.6.2, 3.1.3: individuelt lægevalg for hver Sikret). "
            f"Årsag: {dc.CHOICE_REASON_TEXT[reason]}; {dc.fee_words(fee)}.")
    return _with_extra(text, draft)


CLOSE_GUARD = "lægevalg som værge (2.6.2)"
CLOSE_GUARD_MITID = "værge vejledt i MitID-fuldmagt (2.6.2)"


def plan_guardian(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    ward, _g = ward_and_guardian(draft, ctx)
    if ward is None:
        raise ValueError("no ward in the draft")
    ops: list[PlannedOp] = []
    if _desk(draft, ctx):
        reason = _guard_reason(draft, ctx)
        fee = dc.fee_payload(draft, ctx, reason)
        ops.append(PlannedOp(ward.cpr, "doctor_choice", dc.choice_payload(draft, ctx, GUARD_RULE, reason, fee)))
    ops.append(PlannedOp(ward.cpr, "note_add", {"text": _guard_note(draft, ctx)}))
    return ops + _close(ctx, CLOSE_GUARD if _desk(draft, ctx) else CLOSE_GUARD_MITID)


GUARDIAN = Wizard(
    key="guardian_choice",
    workaround_ids=("2.6.2",),
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
        dc.fee_step(_guard_reason, extra_evidence=_fee_evidence(GUARD_RULE), applies=_desk),
        _note_step(_guard_note),
    ),
    plan_fn=plan_guardian,
    related=_guardianship_cprs,
)

WIZARDS = (IMMIGRATION, COHABITANT, HOST_MOVE, DISPENSATION, GUARDIAN)
