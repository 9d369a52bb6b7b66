"""The wizard model: steps, typed fields, validation and operation planning.

Pure: no I/O, no UI. Texts are translation keys with parameters (:class:`Msg`); the screens
translate them. A wizard's draft is a plain ``dict[str, str]`` of field values as typed, so
it round-trips through the case store's JSON unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ...fmt import parse_date
from .. import cpr as cpr_mod
from .. import operations as ops_mod
from ..model import Operation, PersonState, Provider, Task
from ..operations import PlannedOp, RuleContext, Violation

Draft = dict[str, str]

FIELD_KINDS = ("choice", "text", "date", "provider", "confirm", "cpr")


@dataclass(frozen=True)
class Msg:
    """A text to show: a translation key and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    level: str = "info"  # info | warning | heading


@dataclass(frozen=True)
class Option:
    value: str
    label: Msg


@dataclass(frozen=True)
class FieldError:
    field: str  # field id, or "" for the step as a whole
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WizardContext:
    """What a wizard may look at: the date, the people involved, the providers, the task."""

    today: date
    cpr: str
    task_id: str | None
    states: Mapping[str, PersonState]
    providers: Mapping[str, Provider] = field(default_factory=dict)
    card_fee: int = 0

    @property
    def state(self) -> PersonState:
        return self.states[self.cpr]

    @property
    def task(self) -> Task | None:
        return self.state.task(self.task_id) if self.task_id else None

    def provider(self, number: str) -> Provider | None:
        return self.providers.get(number)

    def rule_context(self) -> RuleContext:
        return RuleContext(today=self.today, provider=self.provider, person=self.states.get,
                           providers=self.providers.values)

    def with_states(self, states: Mapping[str, PersonState]) -> WizardContext:
        return WizardContext(self.today, self.cpr, self.task_id, states, self.providers, self.card_fee)


OptionsFn = Callable[[Draft, WizardContext], list[Option]]
DefaultFn = Callable[[Draft, WizardContext], str]


@dataclass(frozen=True)
class Field:
    id: str
    kind: str
    label: str  # translation key
    options: OptionsFn | None = None  # choice and provider fields
    default: DefaultFn | None = None  # the suggested value (from the evidence)
    required: bool = True
    hint: str | None = None  # translation key shown under the field
    # True when the evidence fixes the value (the default) and the caseworker cannot change it
    locked: Callable[[Draft, WizardContext], bool] | None = None

    def is_locked(self, draft: Draft, ctx: WizardContext) -> bool:
        return self.locked is not None and self.default is not None and self.locked(draft, ctx)

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")


ValidateFn = Callable[[Draft, WizardContext], list[FieldError]]
EvidenceFn = Callable[[Draft, WizardContext], list[Msg]]
AppliesFn = Callable[[Draft, WizardContext], bool]


@dataclass(frozen=True)
class Step:
    id: str
    title: str  # translation key
    fields: tuple[Field, ...] = ()
    validate: ValidateFn | None = None
    evidence: EvidenceFn | None = None
    applies: AppliesFn | None = None


PlanFn = Callable[[Draft, Mapping[str, PersonState], WizardContext], list[PlannedOp]]
RelatedFn = Callable[[PersonState], list[str]]


@dataclass(frozen=True)
class Wizard:
    key: str
    workaround_ids: tuple[str, ...]
    title: str  # translation key
    steps: tuple[Step, ...]
    plan_fn: PlanFn
    related: RelatedFn | None = None  # other CPR numbers the wizard reads and changes
    section: Callable[[Draft], str | None] | None = None  # the guide section the draft follows now

    # -- steps ----------------------------------------------------------------------------
    def step_index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)

    def active_steps(self, draft: Draft, ctx: WizardContext) -> list[int]:
        """Indices of the steps that apply to this draft, in order."""
        return [i for i, s in enumerate(self.steps) if s.applies is None or s.applies(draft, ctx)]

    def next_step(self, current: int, draft: Draft, ctx: WizardContext) -> int | None:
        return next((i for i in self.active_steps(draft, ctx) if i > current), None)

    def previous_step(self, current: int, draft: Draft, ctx: WizardContext) -> int | None:
        return next((i for i in reversed(self.active_steps(draft, ctx)) if i < current), None)

    def fill_defaults(self, step: Step, draft: Draft, ctx: WizardContext) -> Draft:
        """``draft`` with the suggested value of each of ``step``'s fields not yet set (a locked
        field always holds its default)."""
        out = dict(draft)
        for f in step.fields:
            if (f.id not in out and f.default is not None) or f.is_locked(out, ctx):
                out[f.id] = f.default(out, ctx)  # type: ignore[misc] - is_locked implies a default
        return out

    def validate_step(self, step: Step, draft: Draft, ctx: WizardContext) -> list[FieldError]:
        """Field-level checks (required, date, CPR, choice value), then the step's own rule."""
        errors: list[FieldError] = []
        for f in step.fields:
            value = (draft.get(f.id) or "").strip()
            if not value:
                if f.required and f.kind != "confirm":
                    errors.append(FieldError(f.id, "wizard.error.required"))
                continue
            if f.kind == "date":
                try:
                    parse_date(value)
                except ValueError:
                    errors.append(FieldError(f.id, "date.invalid"))
            elif f.kind == "cpr":
                try:
                    cpr_mod.validate(value)
                except cpr_mod.CprError as exc:
                    errors.append(FieldError(f.id, exc.code))
            elif f.kind in ("choice", "provider") and f.options is not None:
                if value not in {o.value for o in f.options(draft, ctx)}:
                    errors.append(FieldError(f.id, "wizard.error.choose"))
        if not errors and step.validate is not None:
            errors.extend(step.validate(draft, ctx))
        return errors

    def validate_all(self, draft: Draft, ctx: WizardContext) -> list[tuple[Step, list[FieldError]]]:
        """Every active step's errors (the review step runs this before planning)."""
        out = []
        for i in self.active_steps(draft, ctx):
            errs = self.validate_step(self.steps[i], draft, ctx)
            if errs:
                out.append((self.steps[i], errs))
        return out

    def plan(self, draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
        return self.plan_fn(draft, states, ctx)

    def section_for(self, draft: Draft) -> str:
        """The guide section the draft follows now (e.g. 2.5.1 once "state-posted" is chosen)."""
        sec = self.section(draft) if self.section else None
        return sec or self.workaround_ids[0]

    def related_cprs(self, state: PersonState) -> list[str]:
        return self.related(state) if self.related else []


# --- helpers shared by the wizards (a typed date: fmt.parse_date) --------------------------

def draft_date(draft: Draft, key: str, fallback: date) -> date:
    try:
        return parse_date(draft.get(key, ""))
    except ValueError:
        return fallback


def compact_cpr(value: str) -> str:
    return cpr_mod.compact(value or "")


def dry_run(planned: Sequence[PlannedOp], states: Mapping[str, PersonState],
            ctx: RuleContext) -> tuple[dict[str, PersonState], list[tuple[PlannedOp, list[Violation]]]]:
    """Check and apply ``planned`` in order, as the store's commit will.

    Returns the end states and, for each operation that breaks a rule, its violations (the
    operation is then skipped, so later ones are checked against the state without it).
    """
    cur = dict(states)
    outer = ctx.person
    ctx = replace(ctx, person=lambda c: cur.get(c) or outer(c))
    problems: list[tuple[PlannedOp, list[Violation]]] = []
    for n, p in enumerate(planned):
        state = cur.get(p.cpr)
        if state is None:
            problems.append((p, [Violation("rule.person_unknown")]))
            continue
        op = Operation(f"dry-run-{n}", p.kind, p.cpr, dict(p.payload), state.version, "dry-run")
        try:
            violations = ops_mod.check(state, op, ctx)
        except ops_mod.PayloadError as exc:
            violations = [Violation("rule.payload", {"detail": str(exc)})]
        if violations:
            problems.append((p, violations))
            continue
        cur[p.cpr] = ops_mod.apply(state, op, ctx)
    return cur, problems


def yes(draft: Draft, key: str) -> bool:
    return (draft.get(key) or "").strip().lower() in ("1", "yes", "true", "ja")
