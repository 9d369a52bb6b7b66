"""2.5.1 Before the event: the note that the coming CPR 038 concerns a state-posted citizen.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import PersonState
from ..operations import PlannedOp
from ..workarounds import has_state_posted_note
from . import texts
from .base import Draft, Field, FieldError, Msg, Step, Wizard, WizardContext
from .common import address_lines, group_line, note_lines, person_lines


def _note_evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
    s = ctx.state
    out = person_lines(s, ctx.today) + [group_line(s, ctx.today)] + address_lines(s)
    if has_state_posted_note(s):
        out.append(Msg("wizard.state_posted_note.ev.exists", level="warning"))
    out.append(Msg("wizard.ev.notes_heading", level="heading"))
    return out + note_lines(s)


def _note_validate(draft: Draft, ctx: WizardContext) -> list[FieldError]:
    # The 038 wizard finds the note by this word; without it the note would not be evidence.
    if texts.STATE_POSTED_MARK not in (draft.get("note") or "").lower():
        return [FieldError("note", "wizard.state_posted_note.error.mark")]
    return []


def plan_state_posted_note(draft: Draft, states: Mapping[str, PersonState], ctx: WizardContext) -> list[PlannedOp]:
    return [PlannedOp(ctx.cpr, "note_add", {"text": draft["note"].strip()})]


STATE_POSTED_NOTE = Wizard(
    key="state_posted_note",
    workaround_ids=("2.5.1",),
    title="wizard.state_posted_note.title",
    steps=(
        Step("note", "wizard.state_posted_note.step.note",
             (Field("note", "text", "wizard.field.note",
                    default=lambda draft, ctx: texts.note_state_posted_before()),),
             validate=_note_validate, evidence=_note_evidence),
    ),
    plan_fn=plan_state_posted_note,
)
