"""Doctor choice done properly: a provider field, its options, its validation, and a fee step.

Any wizard that makes a doctor choice builds on these helpers:

* **Offer**: providers sorted by distance from the chooser's address. The distance is the
  straight-line km between coordinates (``rules.distance_km``), NOT road distance, and the
  screen says so (``doctors.ev.distance``). Providers within the distance rule (15 km; 5 km
  in København 101, Frederiksberg 147, Tårnby 185, Dragør 155: ``rules.distance_limit_km``)
  come first, then the rest, each marked within/beyond the rule; open/closed in words. Where a
  closed doctor cannot be chosen (``closed="refuse"``) it is listed after every open one and
  marked "cannot be chosen here".
* **Closed doctors** are refused unless the wizard's :class:`ChoiceRule` names a forcing rule
  (``forcing.RULES``) whose predicate covers this person, provider and date (e.g. only the
  cohabitant's doctor under "cohabitant") -- the very predicate ``operations.check`` applies. A forced choice names the rule on screen
  (:func:`chosen_lines`) and in the review (``common.describe`` shows ``force.<rule>``).
* **Attention point 1** (a future switch to 2/4/5/7/8/9) blocks at the provider step with
  the explanation, before the review; **attention point 3** (a minor choosing a parent's
  closed doctor) is flagged on the step after the choice and should go into the note.
* **Fee**: the fee step lives in :mod:`.fee_step`.

Option values are provider numbers, as in ``common.provider_options``, so a draft made with
either helper reads the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .. import attention, forcing, rules
from ..model import PersonState, Provider
from ..rules import RankedProvider
from .base import Draft, Field, FieldError, Msg, Option, WizardContext

WhoFn = Callable[[Draft, WizardContext], PersonState | None]
ProvidersFn = Callable[[Draft, WizardContext], "set[str] | None"]

# Record texts (Danish: they are written into the person's record, whatever the UI language).
CHOICE_REASON_TEXT = {
    "first_choice": "indrejse – første lægevalg",
    "moving": "flytning",
    "own_choice": "selvvalgt",
    "cohabitant": "samboende",
    "guardian_on_behalf": "selvvalgt – foretaget for værge",
    "practice_closes": "praksis lukker",
}


def self_person(draft: Draft, ctx: WizardContext) -> PersonState | None:
    return ctx.state


@dataclass(frozen=True)
class ChoiceRule:
    """What a wizard's provider step offers and allows.

    ``closed``: "refuse" (closed doctors are listed but refused), "hide" (not offered at
    all), or "force" (allowed where the forcing rule ``force_rule`` covers the provider:
    ``forcing.RULES``, the definitions ``operations.check`` applies). ``effective`` is the
    date the choice takes effect (today unless given). ``only`` restricts the offer
    to some providers; ``within_first_only`` offers doctors beyond the distance rule only
    when none within it are offered (2.6.1). ``who`` is the person who gets the doctor
    (the ward when a guardian chooses). ``via`` is the CPR number the force rule goes
    through (the cohabitant).
    """

    closed: str = "refuse"
    force_rule: str | None = None
    only: ProvidersFn | None = None
    within_first_only: bool = False
    who: WhoFn = self_person
    via: Callable[[Draft, WizardContext], str | None] | None = None
    exclude_current: bool = False
    effective: Callable[[Draft, WizardContext], date] | None = None

    def __post_init__(self) -> None:
        if self.closed not in ("refuse", "hide", "force"):
            raise ValueError(f"unknown closed policy {self.closed!r}")
        if self.closed == "force" and self.force_rule not in forcing.RULES:
            raise ValueError(f"closed='force' needs a rule from forcing.RULES, not {self.force_rule!r}")


# --- offer ----------------------------------------------------------------------------------

def km_text(km: float) -> str:
    return f"{km:.1f}".replace(".", ",")


def ranked(state: PersonState, ctx: WizardContext) -> list[RankedProvider]:
    """Every provider by straight-line distance from ``state``'s address, within the rule first."""
    return rules.rank_providers(state.person.address, ctx.providers.values())


def limit_km(state: PersonState) -> float:
    return rules.distance_limit_km(state.person.address.municipality_code)


def _limit_text(state: PersonState) -> str:
    return km_text(limit_km(state)).replace(",0", "")


def offered(draft: Draft, ctx: WizardContext, rule: ChoiceRule, limit: int = 60) -> list[RankedProvider]:
    """The providers the step offers, in order."""
    who = rule.who(draft, ctx)
    if who is None:
        return []
    only = rule.only(draft, ctx) if rule.only else None
    current = who.current_doctor(ctx.today)
    out: list[RankedProvider] = []
    for r in ranked(who, ctx):
        p = r.provider
        if only is not None and p.provider_number not in only:
            continue
        if rule.closed == "hide" and not p.open:
            continue
        if rule.exclude_current and current is not None and current.provider_number == p.provider_number:
            continue
        out.append(r)
    if rule.within_first_only and any(r.within_limit for r in out):
        out = [r for r in out if r.within_limit]
    out = out[:limit]  # the nearest; then, where closed doctors cannot be chosen, those last
    if rule.closed == "refuse":
        out = [r for r in out if r.provider.open] + [r for r in out if not r.provider.open]
    return out


def option_for(r: RankedProvider, state: PersonState, refused: bool = False) -> Option:
    """``refused``: a closed doctor this step cannot choose, and says so."""
    p = r.provider
    closed_key = "doctors.opt.closed_refused" if refused else "doctors.opt.closed"
    return Option(p.provider_number, Msg("doctors.opt.provider", {
        "practice": p.practice_name, "number": p.provider_number,
        "state_key": "doctors.opt.open" if p.open else closed_key,
        "km": km_text(r.km), "limit": _limit_text(state),
        "limit_key": "doctors.opt.within" if r.within_limit else "doctors.opt.beyond"}))


def options(draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> list[Option]:
    who = rule.who(draft, ctx)
    if who is None:
        return []
    return [option_for(r, who, refused=rule.closed == "refuse") for r in offered(draft, ctx, rule)]


def nearest_default(draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> str:
    """The nearest offered provider the rule allows (open, or closed and covered by the force
    rule) that is not already the person's doctor."""
    who = rule.who(draft, ctx)
    cur = who.current_doctor(ctx.today) if who else None
    for r in offered(draft, ctx, rule):
        if cur is not None and cur.provider_number == r.provider.provider_number:
            continue
        if r.provider.open or _force_allowed(r.provider, draft, ctx, rule):
            return r.provider.provider_number
    return ""


def provider_field(rule: ChoiceRule, field_id: str = "provider", label: str = "doctors.field.provider",
                   default: Callable[[Draft, WizardContext], str] | None = None) -> Field:
    return Field(field_id, "provider", label, options=lambda draft, ctx: options(draft, ctx, rule),
                 default=default or (lambda draft, ctx: nearest_default(draft, ctx, rule)),
                 hint="doctors.hint.distance")


# --- validation -----------------------------------------------------------------------------

def force_facts(p: Provider, draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> forcing.ForceFacts | None:
    """The facts the forcing rule judges, as ``operations.check`` will see them at commit."""
    who = rule.who(draft, ctx)
    if who is None:
        return None
    eff = rule.effective(draft, ctx) if rule.effective else ctx.today
    via = rule.via(draft, ctx) if rule.via else None
    return forcing.ForceFacts(who, p, eff, via, ctx.states.get, ctx.providers.values)


def force_problem(p: Provider, draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> str | None:
    """Why the wizard's forcing rule does not cover ``p`` (None: it does)."""
    if rule.closed != "force" or rule.force_rule is None:
        return "rule.provider_closed"
    facts = force_facts(p, draft, ctx, rule)
    return "doctors.error.no_person" if facts is None else forcing.why_not(rule.force_rule, facts)


def _force_allowed(p: Provider, draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> bool:
    return force_problem(p, draft, ctx, rule) is None


def is_forced(p: Provider | None, draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> bool:
    """Is choosing ``p`` a forced choice (closed and allowed by the wizard's force rule)?"""
    return p is not None and not p.open and _force_allowed(p, draft, ctx, rule)


def blocking_error(field_id: str, who: PersonState, today: date) -> list[FieldError]:
    """Attention point 1 as a field error: a future switch to 2/4/5/7/8/9 blocks the choice."""
    b = rules.blocking_future_switch(who, today)
    if b is None:
        return []
    return [FieldError(field_id, "doctors.error.ap1", {"group": b.group, "date": b.effective.strftime("%d-%m-%Y")})]


def validate(field_id: str, draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> list[FieldError]:
    """The provider step's rules: AP1, group 1, known provider, closed only under the force rule."""
    who = rule.who(draft, ctx)
    if who is None:
        return [FieldError(field_id, "doctors.error.no_person")]
    errs = blocking_error(field_id, who, ctx.today)
    if errs:
        return errs
    no_group1 = rules.group1_problem(who, ctx.today)
    if no_group1 is not None:
        return [FieldError(field_id, *no_group1)]
    number = (draft.get(field_id) or "").strip()
    p = ctx.provider(number)
    if p is None:
        return [FieldError(field_id, "rule.provider_unknown", {"provider": number})]
    cur = who.current_doctor(ctx.today)
    if cur is not None and cur.provider_number == number and cur.effective <= ctx.today:
        return [FieldError(field_id, "doctors.error.same", {"practice": p.practice_name})]
    if not p.open and not _force_allowed(p, draft, ctx, rule):
        if rule.closed == "force":
            return [FieldError(field_id, "doctors.error.closed_not_covered",
                               {"practice": p.practice_name, "rule_key": f"force.{rule.force_rule}",
                                "why_key": force_problem(p, draft, ctx, rule)})]
        return [FieldError(field_id, "doctors.error.closed", {"practice": p.practice_name})]
    return []


# --- evidence -------------------------------------------------------------------------------

def distance_lines(draft: Draft, ctx: WizardContext, rule: ChoiceRule) -> list[Msg]:
    """How the offer is sorted, said plainly: straight-line km, the rule's limit, then beyond."""
    who = rule.who(draft, ctx)
    if who is None:
        return []
    a = who.person.address
    out = [Msg("doctors.ev.distance", {"street": a.street, "postcode": a.postcode, "city": a.city,
                                       "limit": _limit_text(who)})]
    if limit_km(who) < rules.DISTANCE_KM:
        out.append(Msg("doctors.ev.capital", {"limit": _limit_text(who)}))
    if rule.closed == "hide":
        out.append(Msg("doctors.ev.closed_hidden"))
    elif rule.closed == "force":
        out.append(Msg("doctors.ev.force_rule", {"rule_key": f"force.{rule.force_rule}"}))
    else:
        out.append(Msg("doctors.ev.closed_refused"))
    if not offered(draft, ctx, rule):
        out.append(Msg("doctors.ev.none_offered", level="warning"))
    b = rules.blocking_future_switch(who, ctx.today)
    if b is not None:
        out.append(Msg("doctors.error.ap1", {"group": b.group, "date": b.effective.strftime("%d-%m-%Y")}, "warning"))
    return out


def ap3_flag(draft: Draft, ctx: WizardContext, rule: ChoiceRule, field_id: str = "provider") -> attention.Flag | None:
    """Attention point 3: a minor given a closed doctor that is a parent's (parents in ctx.states)."""
    who = rule.who(draft, ctx)
    p = ctx.provider(draft.get(field_id, ""))
    if who is None or p is None:
        return None
    parents = [s for c, s in ctx.states.items() if c != who.cpr]
    return attention.parent_closed_doctor_flag(who, p, ctx.today, parents)


def chosen_lines(draft: Draft, ctx: WizardContext, rule: ChoiceRule, field_id: str = "provider") -> list[Msg]:
    """The chosen doctor in words: open/closed, distance, the force rule by name, AP3."""
    who = rule.who(draft, ctx)
    p = ctx.provider(draft.get(field_id, ""))
    if who is None or p is None:
        return []
    a = who.person.address
    km = rules.distance_km(a.lat, a.lon, p.lat, p.lon)
    within = km <= limit_km(who)
    out = [Msg("doctors.ev.chosen", {
        "practice": p.practice_name, "number": p.provider_number, "name": who.person.name,
        "state_key": "doctors.opt.open" if p.open else "doctors.opt.closed", "km": km_text(km),
        "limit": _limit_text(who), "limit_key": "doctors.opt.within" if within else "doctors.opt.beyond"})]
    if is_forced(p, draft, ctx, rule):
        out.append(Msg("doctors.ev.forced", {"rule_key": f"force.{rule.force_rule}"}, "warning"))
    flag = ap3_flag(draft, ctx, rule, field_id)
    if flag is not None:
        out.append(Msg(flag.code, dict(flag.params), "warning"))
    return out


def letter_line() -> Msg:
    """Attention point 2: the operations send letters whose delivery Sygesikring cannot show."""
    return Msg("doctors.ev.letter", level="warning")


# --- the operation ----------------------------------------------------------------------------

def choice_payload(draft: Draft, ctx: WizardContext, rule: ChoiceRule, reason: str, fee: dict, *,
                   field_id: str = "provider", effective: date | None = None,
                   status: str = "approved", provisional_until: date | None = None) -> dict:
    """A ``doctor_choice`` payload; ``forced``/``force_rule``/``via_cpr`` when the force rule applies."""
    p = ctx.provider(draft[field_id])
    if p is None:
        raise ValueError("the provider is unknown")
    eff = effective or ctx.today
    payload: dict = {"provider_number": p.provider_number, "practice_name": p.practice_name,
                     "reason": CHOICE_REASON_TEXT.get(reason, reason), "effective": eff.isoformat(),
                     "forced": False, "status": status, "fee": fee}
    if is_forced(p, draft, ctx, rule):
        payload["forced"] = True
        payload["force_rule"] = rule.force_rule
        via = rule.via(draft, ctx) if rule.via else None
        if via:
            payload["via_cpr"] = via
        basis = (draft.get("force_basis") or "").strip()
        if basis:
            payload["force_basis"] = basis
    if provisional_until is not None:
        payload["provisional_until"] = provisional_until.isoformat()
    return payload
