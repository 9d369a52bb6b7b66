"""Evidence lines and small helpers shared by the wizards."""

from __future__ import annotations

import re
from datetime import date

from .. import cpr as cpr_mod
from .. import rules
from ...fmt import free_reason
from ..model import PersonState, Provider
from .base import Msg, Option, WizardContext
from .texts import c, d

MAX_NOTES = 4
MAX_ADDRESSES = 4


def person_lines(state: PersonState, today: date) -> list[Msg]:
    p = state.person
    try:
        age = cpr_mod.age_on(p.cpr, today)
    except Exception:  # a number without a readable birth date: show the record's date
        age = today.year - p.birth_date.year
    sex = "wizard.ev.sex.m" if p.sex.value == "M" else "wizard.ev.sex.f"
    return [Msg("wizard.ev.person", {"name": p.name, "cpr": c(p.cpr), "age": age, "sex_key": sex})]


def group_line(state: PersonState, today: date) -> Msg:
    g = state.current_group(today)
    if g is None:
        return Msg("wizard.ev.group_none")
    return Msg("wizard.ev.group", {"group": g.group, "since": d(g.effective)})


def future_group_lines(state: PersonState, today: date) -> list[Msg]:
    return [Msg("wizard.ev.group_future", {"group": g.group, "date": d(g.effective)}, "warning")
            for g in state.future_groups(today)]


def previous_doctor_line(state: PersonState, ctx: WizardContext) -> list[Msg]:
    """The last ended doctor choice, when there is no current one (what the system re-assigns)."""
    if state.current_doctor(ctx.today) is not None:
        return []
    ended = [x for x in state.doctors if x.end is not None and x.end <= ctx.today]
    if not ended:
        return []
    doc = max(ended, key=lambda x: x.end)
    return [Msg("wizard.ev.doctor_previous", {"practice": doc.practice_name, "number": doc.provider_number,
                                              "open_key": _open_key(ctx.provider(doc.provider_number)),
                                              "end": d(doc.end)})]


def doctor_line(state: PersonState, ctx: WizardContext) -> Msg:
    doc = state.current_doctor(ctx.today)
    if doc is None:
        return Msg("wizard.ev.doctor_none")
    prov = ctx.provider(doc.provider_number)
    return Msg("wizard.ev.doctor", {"practice": doc.practice_name, "number": doc.provider_number,
                                    "open_key": _open_key(prov), "since": d(doc.effective)})


def _open_key(prov: Provider | None) -> str:
    if prov is None:
        return "wizard.ev.provider_unknown"
    return "wizard.ev.open" if prov.open else "wizard.ev.closed"


def note_lines(state: PersonState) -> list[Msg]:
    if not state.notes:
        return [Msg("wizard.ev.notes_none")]
    notes = list(state.notes)[-MAX_NOTES:]
    return [Msg("wizard.ev.note", {"date": n.created[:10], "text": n.text}) for n in reversed(notes)]


def address_lines(state: PersonState) -> list[Msg]:
    out = [Msg("wizard.ev.address_now", {"street": state.person.address.street,
                                          "postcode": state.person.address.postcode,
                                          "city": state.person.address.city})]
    if state.person.supplementary_address:
        out.append(Msg("wizard.ev.supplementary", {"address": state.person.supplementary_address}, "warning"))
    entries = sorted(state.addresses, key=lambda e: e.start, reverse=True)[:MAX_ADDRESSES]
    for e in entries:
        key = "wizard.ev.address_hist_suppl" if e.supplementary else "wizard.ev.address_hist"
        out.append(Msg(key, {"date": d(e.start), "street": e.address.street, "city": e.address.city}))
    return out


def task_line(ctx: WizardContext) -> list[Msg]:
    t = ctx.task
    if t is None:
        return []
    ev = event_date(ctx)
    source = "wizard.ev.source_plo" if t.event_code.startswith("PLO") else "wizard.ev.source_cpr"
    return [Msg("wizard.ev.task", {"code": t.event_code, "received": d(t.received), "due": d(t.due),
                                   "event_date": d(ev), "source_key": source})]


def event_date(ctx: WizardContext) -> date | None:
    """The date of the task's CPR event (falls back to the day the task was received)."""
    t = ctx.task
    if t is None:
        return None
    ev = next((e for e in ctx.state.events if e.id == t.event_id), None) if t.event_id else None
    return ev.event_date if ev else t.received


_REQUESTED = re.compile(r"(?:ønsket|ønsker|anmodet om|valgt)\s+(?:lægevalg|læge|praksis)?[^()\n]{0,80}\((\d{6})\)",
                        re.IGNORECASE)


def requested_provider(ctx: WizardContext) -> Provider | None:
    """The practice the citizen asked for: the task's event data (``provider_number``), else
    the newest note naming it ("Ønsket lægevalg: Lægehuset X (041820)")."""
    t = ctx.task
    ev = next((e for e in ctx.state.events if e.id == t.event_id), None) if t is not None and t.event_id else None
    if ev is not None:
        prov = ctx.provider(str(ev.data.get("provider_number", "")))
        if prov is not None:
            return prov
    for note in reversed(ctx.state.notes):
        for m in _REQUESTED.finditer(note.text):
            prov = ctx.provider(m.group(1))
            if prov is not None:
                return prov
    return None


def provider_options(ctx: WizardContext, *, only_closed: bool = False, limit: int = 60) -> list[Option]:
    """Providers ranked by the distance rule (domain.rules.rank_providers), described in words."""
    ranked = rules.rank_providers(ctx.state.person.address, ctx.providers.values())
    out = []
    for r in ranked:
        if only_closed and r.provider.open:
            continue
        out.append(Option(r.provider.provider_number, Msg("wizard.opt.provider", {
            "practice": r.provider.practice_name, "number": r.provider.provider_number,
            "open_key": "wizard.opt.open" if r.provider.open else "wizard.opt.closed",
            "km": f"{r.km:.1f}".replace(".", ","),
            "limit_key": "wizard.opt.within" if r.within_limit else "wizard.opt.beyond"})))
        if len(out) >= limit:
            break
    return out


def blocking_line(state: PersonState, today: date) -> list[Msg]:
    b = rules.blocking_future_switch(state, today)
    if b is None:
        return []
    return [Msg("rule.future_switch_blocks", {"group": b.group, "date": b.effective.isoformat()}, "warning")]


def fee_dict(ctx: WizardContext, kind: str, code: str, text: str, when: date | None = None,
             waiver: str = "") -> dict:
    """The ``fee`` of a planned ``doctor_choice`` / ``card_order``: ``fees.fee_payload`` for the
    reason ``code`` at this year's amount (the engine gives it as ``ctx.card_fee``)."""
    from .. import fees

    day = when or ctx.today
    return fees.fee_payload(kind, code, day, {day.year: ctx.card_fee}, text, waiver)


def describe(op, states) -> Msg:
    """One planned operation in words for the review step: what, for whom, when, fee."""
    p = op.payload
    st = states.get(op.cpr)
    who = {"cpr": c(op.cpr), "name": st.person.name if st else "?"}
    if op.kind == "group_switch":
        return Msg("wizard.review.group_switch", {**who, "group": p["group"], "date": _iso_d(p["effective"])})
    if op.kind == "doctor_choice":
        fee = p.get("fee") or {}
        fee_msg = ("wizard.review.fee_paid" if fee.get("paid") else "wizard.review.fee_free")
        forced = f"force.{p['force_rule']}" if p.get("forced") and p.get("force_rule") else "wizard.review.not_forced"
        return Msg("wizard.review.doctor_choice", {
            **who, "practice": p.get("practice_name", ""), "number": p["provider_number"],
            "date": _iso_d(p["effective"]), "reason": p.get("reason", ""), "forced_key": forced,
            "fee_key": fee_msg, "amount": fee.get("amount", 0), "fee_reason": free_reason(fee.get("reason", ""))})
    if op.kind == "note_add":
        return Msg("wizard.review.note_add", {**who, "text": p["text"]})
    if op.kind == "task_close":
        t = st.task(p["task_id"]) if st else None
        return Msg("wizard.review.task_close", {**who, "code": t.event_code if t else "?", "reason": p["reason"]})
    if op.kind == "followup_add":
        if p.get("due"):
            return Msg("wizard.review.followup_add_due", {**who, "text": p["text"], "due": p["due"]})
        return Msg("wizard.review.followup_add", {**who, "text": p["text"]})
    if op.kind == "card_order":
        fee = p.get("fee") or {}
        return Msg("wizard.review.card_order", {
            **who, "date": _iso_d(p["ordered_on"]),
            "fee_key": "wizard.review.fee_paid" if fee.get("paid") else "wizard.review.fee_free",
            "amount": fee.get("amount", 0), "fee_reason": free_reason(fee.get("reason", ""))})
    if op.kind == "doctor_choice_end":
        ch = next((x for x in st.doctors if x.id == p["choice_id"]), None) if st else None
        what = (f"{ch.practice_name} ({ch.provider_number})" if ch is not None and ch.provider_number
                else "")
        return Msg("wizard.review.doctor_choice_end", {
            **who, "date": _iso_d(p["end"]), "what": what,
            "what_key": "wizard.review.choice_named" if what else "wizard.review.choice_missing"})
    if op.kind == "remove_future":
        as_of = date.fromisoformat(p["as_of"])
        groups = sum(1 for g in st.groups if g.effective > as_of) if st else 0
        doctors = sum(1 for x in st.doctors if x.effective > as_of) if st else 0
        return Msg("wizard.review.remove_future", {**who, "date": d(as_of), "groups": groups, "doctors": doctors})
    if op.kind == "card_cancel":
        card = next((k for k in st.cards if k.id == p["card_id"]), None) if st else None
        return Msg("wizard.review.card_cancel", {**who, "date": d(card.ordered_on) if card else "?"})
    return Msg("wizard.review.other", {**who, "kind": op.kind})


def _iso_d(value: str) -> str:
    return d(date.fromisoformat(value))


# --- attention points around a plan (the engine shows these; the rules are domain.attention) ---

# Draft key of a wizard field by which the caseworker has already confirmed attention point 4
# (the 040/041 history) inside the wizard; the review step then does not ask again.
ACK_AP4 = "ap4_confirmed"


def offers_doctor_choice(wizard) -> bool:
    """A wizard that can plan a doctor choice: one with a provider field."""
    return any(f.kind == "provider" for s in wizard.steps for f in s.fields)


def start_attention(wizard, ctx: WizardContext) -> list[Msg]:
    """Attention point 1 at the start of a wizard with a doctor choice: the block, explained."""
    from .. import attention

    if not offers_doctor_choice(wizard):
        return []
    flag = attention.future_switch_block(ctx.state, ctx.today)
    if flag is None:
        return []
    return [Msg(flag.code, {**flag.params, "date": d(date.fromisoformat(str(flag.params["date"])))}, "warning")]


def plan_parent_cprs(planned, states) -> list[str]:
    """The parents to load for the AP3 check of ``planned``'s doctor choices."""
    out: list[str] = []
    for p in planned:
        st = states.get(p.cpr)
        if p.kind == "doctor_choice" and st is not None:
            out += [c for c in rules.parent_cprs(st) if c not in out]
    return out


class ReviewFlag:
    """One attention point raised by a plan: the message, its detail lines and, when the
    caseworker must acknowledge it before commit, the acknowledgement id."""

    __slots__ = ("msg", "lines", "ack")

    def __init__(self, msg: Msg, lines: list[Msg] | None = None, ack: str | None = None) -> None:
        self.msg = msg
        self.lines = list(lines or [])
        self.ack = ack

    def __repr__(self) -> str:
        return f"ReviewFlag({self.msg.key!r}, ack={self.ack!r})"


def review_attention(planned, states, ctx: WizardContext, parents, draft) -> list[ReviewFlag]:
    """The attention points a plan raises, in the order the review shows them.

    - AP4: a switch to group 4 shows the person's CPR 040/041 history and needs the
      caseworker's confirmation (unless the wizard asked already: ``draft[ACK_AP4]``).
    - AP3: a closed doctor chosen for a minor that a parent has: a warning to acknowledge.
    - AP2: the Digital Post reminder, once, naming every operation that sends a letter.
    ``parents`` maps CPR numbers to the states of the planned persons' parents.
    """
    from .. import attention
    from .base import yes

    flags: list[ReviewFlag] = []
    for p in planned:
        if attention.group4_needs_confirmation([p]):
            st = states.get(p.cpr)
            events = attention.group4_history(st) if st is not None else []
            lines = [Msg("wizard.attn.ap4_event", {"code": e.code, "date": d(e.event_date),
                                                   "meaning_key": f"wizard.prison.ev.meaning.{e.code}"})
                     for e in events] or [Msg("attention.ap4_none")]
            done = yes(draft, ACK_AP4)
            flags.append(ReviewFlag(Msg("attention.ap4", level="warning"), lines,
                                    None if done else f"ap4:{p.cpr}"))
    for p in planned:
        if p.kind != "doctor_choice":
            continue
        child = states.get(p.cpr)
        if child is None:
            continue
        prov = ctx.provider(str(p.payload.get("provider_number", "")))
        try:
            flag = attention.parent_closed_doctor_flag(child, prov, ctx.today, parents.values())
        except Exception:  # noqa: BLE001 - a number without a readable birth date: no age, no flag
            flag = None
        if flag is not None:
            flags.append(ReviewFlag(Msg(flag.code, dict(flag.params), "warning"), [],
                                    f"ap3:{p.cpr}:{prov.provider_number if prov else ''}"))
    letters = [f.params["index"] for f in attention.letter_reminders(planned)]
    if letters:  # once for the whole review, naming the operations that send a letter
        flags.append(ReviewFlag(Msg("wizard.attn.ap2", {"n": len(letters), "ops": letters})))
    return flags
