"""The doctor step of the event wizards (2.6.7, 2.6.8, 2.7.3, 2.7.8) with its force step: a
closed practice is taken only under a forcing rule that covers it (domain.forcing), named in
the operation, with the caseworker's written basis; and the helpers these wizards share.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .. import fees as fees_mod
from .. import rules
from ..model import CprEvent, PersonState, Provider, RelationKind
from . import doctor_choice as dc
from . import texts
from .base import Draft, Field, FieldError, Msg, Option, Step, WizardContext
from .common import fee_dict
from .texts import force_note


def task_event(ctx: WizardContext) -> CprEvent | None:
    t = ctx.task
    if t is None or not t.event_id:
        return None
    return next((e for e in ctx.state.events if e.id == t.event_id), None)


def event_data(ctx: WizardContext) -> dict:
    ev = task_event(ctx)
    return dict(ev.data) if ev else {}


def event_fee(reason_code: str, when: date, ctx: WizardContext, free_text: str) -> dict:
    """Free or paid by domain.fees, with the why written in the record's words."""
    free = fees_mod.DOCTOR_REASONS[reason_code]
    return fee_dict(ctx, "doctor_choice", reason_code, free_text if free else texts.FEE_PAID_OWN, when)


def iso(day: date) -> str:
    return day.isoformat()


def today_iso(draft: Draft, ctx: WizardContext) -> str:
    return iso(ctx.today)


# -- doctor choice: built on doctor_choice (offer, validation, payload), plus the force basis --
#
# A closed practice is never taken silently: every wizard here lists closed practices (their
# state in words) but a closed choice leads to the "force" step, where the caseworker picks
# one of the force rules that apply to this person and this practice and writes what it
# rests on (e.g. who at the practice accepted). The rule is named in the operation and the
# basis goes into the note.

ACCEPTED = dc.ChoiceRule(closed="force", force_rule="doctor_accepted")
# Which closed practices these rules cover is decided by their predicates in domain.forcing
# (the last group 1 GP of a return; no two open practices within reach), as check does.
RETURN_TO_LAST = dc.ChoiceRule(closed="force", force_rule="return_to_last_gp")
NO_OPEN_IN_REACH = dc.ChoiceRule(closed="force", force_rule="no_open_within_reach")

# Per wizard, the force rules that may cover a closed practice; the last one is the widest
# (the doctor's acceptance covers any closed practice) and drives the offer and validation.
TRANSFER_RULES = (ACCEPTED,)
CHILD_FREE_RULES = (ACCEPTED,)
REDISCOVERY_RULES = (RETURN_TO_LAST, ACCEPTED)
CHILD_HOME_RULES = (NO_OPEN_IN_REACH, ACCEPTED)


def open_nearest(ctx: WizardContext, exclude: Sequence[str] = ()) -> str:
    for r in rules.rank_providers(ctx.state.person.address, ctx.providers.values()):
        if r.provider.open and r.provider.provider_number not in exclude:
            return r.provider.provider_number
    return ""


def chosen_provider(draft: Draft, ctx: WizardContext) -> Provider | None:
    return ctx.provider(draft.get("provider", ""))


def _is_closed_choice(draft: Draft, ctx: WizardContext) -> bool:
    p = chosen_provider(draft, ctx)
    return p is not None and not p.open


def applicable_rules(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule]) -> list[dc.ChoiceRule]:
    """The candidate force rules that cover the chosen closed practice for this person."""
    p = chosen_provider(draft, ctx)
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
        prov = chosen_provider(draft, ctx)
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


def validate_doctor(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule],
                     effective: date) -> list[FieldError]:
    """doctor_choice.validate (AP1, group 1, known, not the same, closed only under a rule), and
    group 1 on the effective date too (a choice may take effect later)."""
    errs = dc.validate("provider", draft, ctx, candidates[-1])
    if errs:
        return errs
    no_group1 = rules.group1_problem(ctx.state, effective)
    if no_group1 is not None:
        return [FieldError("provider", *no_group1)]
    cur = ctx.state.current_doctor(effective)
    p = chosen_provider(draft, ctx)
    if cur is not None and p is not None and cur.provider_number == p.provider_number:
        return [FieldError("provider", "doctors.error.same", {"practice": p.practice_name})]
    return []


def choice_payload_for(draft: Draft, ctx: WizardContext, candidates: Sequence[dc.ChoiceRule], *, reason: str,
                    effective: date, fee: dict) -> dict:
    return dc.choice_payload(draft, ctx, active_rule(draft, ctx, candidates), reason, fee, effective=effective)


def force_note_part(draft: Draft, ctx: WizardContext) -> str:
    prov = chosen_provider(draft, ctx)
    if prov is None or prov.open:
        return ""
    return " " + force_note(draft.get("force_rule", ""), draft.get("force_basis", ""))


def provider_field(rule: dc.ChoiceRule, default) -> Field:
    return dc.provider_field(rule, default=default)


def note_field() -> Field:
    return Field("note", "text", "wizard.events.field.note_extra", required=False, default=lambda dr, cx: "")


def parents_of(state: PersonState, *kinds: RelationKind) -> list[str]:
    return list(dict.fromkeys(r.other_cpr for r in state.relations if r.kind in kinds))


def chosen_parent(draft: Draft, ctx: WizardContext) -> PersonState | None:
    return ctx.states.get(draft.get("parent", ""))
