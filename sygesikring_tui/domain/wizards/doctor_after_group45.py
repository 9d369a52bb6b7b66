"""2.4.1 / 3.1.7: who is the doctor when a person leaves group 4 or 5 for group 1.

The guide (2.4.1): on discharge "the system automatically assigns the previous doctor". When
the doctor choice ran through the service, it simply goes on ("keep"). When it ended, the
person would stand in group 1 with no doctor: the step says so as a warning and offers to
put back the last group 1 GP (a closed practice is forced under the rule
``return_to_last_gp``, free as a return to group 1), or a new open doctor, or -- knowingly --
none. Used by the discharge wizard (2.4.1) and the new-card wizard (3.1.7).
"""

from __future__ import annotations

from datetime import date

from .. import forcing
from ..model import PersonState
from ..operations import PlannedOp
from .base import Draft, Field, FieldError, Msg, Option, WizardContext, draft_date
from .common import fee_dict, provider_options

FIELD = "new_doctor"
KEEP, RESTORE, NONE = "keep", "restore", "none"
REASON_RESTORE = "tilbage til seneste læge i gruppe 1"
FEE_FREE_RESTORE = "tilbage til gruppe 1 – gratis"


def service(state: PersonState, on: date):
    """The group 4/5 registration the person leaves on ``on`` (running the day before)."""
    running = [g for g in state.groups if g.group in (4, 5) and g.effective < on and (g.end is None or g.end >= on)]
    return max(running, key=lambda g: g.effective) if running else None


def last_gp(state: PersonState, on: date) -> str | None:
    """The last group 1 GP before the service that ends on ``on``."""
    g = service(state, on)
    return forcing.gp_before(state, g.effective) if g is not None else None


def running_doctor(state: PersonState, on: date):
    return state.current_doctor(on)


def options(draft: Draft, ctx: WizardContext, on: date) -> list[Option]:
    s = ctx.state
    out: list[Option] = []
    cur = running_doctor(s, on)
    if cur is not None:
        out.append(Option(KEEP, Msg("wizard.after45.opt.keep", {"practice": cur.practice_name,
                                                                "number": cur.provider_number})))
    else:
        gp = ctx.provider(last_gp(s, on) or "")
        if gp is not None:
            out.append(Option(RESTORE, Msg("wizard.after45.opt.restore", {
                "practice": gp.practice_name, "number": gp.provider_number,
                "open_key": "wizard.opt.open" if gp.open else "wizard.opt.closed"})))
        out.append(Option(NONE, Msg("wizard.after45.opt.none")))
    return out + provider_options(ctx)


def default(draft: Draft, ctx: WizardContext, on: date) -> str:
    return next(o.value for o in options(draft, ctx, on) if o.value in (KEEP, RESTORE, NONE))


def evidence(draft: Draft, ctx: WizardContext, on: date) -> list[Msg]:
    if running_doctor(ctx.state, on) is not None:
        return []
    out = [Msg("wizard.after45.ev.no_doctor", level="warning")]
    if last_gp(ctx.state, on):
        out.append(Msg("wizard.after45.ev.restore"))
    return out


def validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    choice = draft.get(FIELD, KEEP)
    if choice in (KEEP, RESTORE, NONE):
        return []
    prov = ctx.provider(choice)
    if prov is None:
        return [FieldError(FIELD, "rule.provider_unknown", {"provider": choice})]
    if not prov.open:
        return [FieldError(FIELD, "rule.provider_closed", {"practice": prov.practice_name})]
    return []


def field(label: str, on_fn) -> Field:
    return Field(FIELD, "provider", label, options=lambda dr, cx: options(dr, cx, on_fn(dr, cx)),
                 default=lambda dr, cx: default(dr, cx, on_fn(dr, cx)))


def restore_op(ctx: WizardContext, state: PersonState, on: date) -> PlannedOp | None:
    """The doctor choice putting back the last group 1 GP (after the switch to group 1)."""
    prov = ctx.provider(last_gp(state, on) or "")
    if prov is None:
        return None
    payload = {"provider_number": prov.provider_number, "practice_name": prov.practice_name,
               "reason": REASON_RESTORE, "effective": on.isoformat(), "forced": not prov.open,
               "fee": fee_dict(ctx, "doctor_choice", "group_return", FEE_FREE_RESTORE, on)}
    if not prov.open:
        payload["force_rule"] = "return_to_last_gp"
    return PlannedOp(state.cpr, "doctor_choice", payload)


def words(draft: Draft, ctx: WizardContext, on: date) -> str:
    """The doctor after the switch, in the record's words (for the note)."""
    choice = draft.get(FIELD, KEEP)
    s = ctx.state
    if choice == KEEP:
        cur = running_doctor(s, on)
        return f"lægevalget fortsætter: {cur.practice_name} ({cur.provider_number})" if cur else "intet lægevalg"
    if choice == RESTORE:
        prov = ctx.provider(last_gp(s, on) or "")
        return f"seneste læge i gruppe 1 genindsat: {prov.practice_name} ({prov.provider_number})" if prov else "?"
    if choice == NONE:
        return "intet lægevalg – Sikrede er i gruppe 1 uden læge og skal vælge læge"
    prov = ctx.provider(choice)
    return f"nyt lægevalg: {prov.practice_name} ({prov.provider_number})" if prov else choice


def on_date(draft: Draft, ctx: WizardContext) -> date:
    return draft_date(draft, "effective", ctx.today)
