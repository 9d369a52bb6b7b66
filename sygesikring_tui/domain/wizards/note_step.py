"""The note step of the doctor-choice wizards (2.1.1, 2.3.1, 2.3.2, 2.6.1, 2.6.2): the note
composed from the draft, the caseworker's remark, the task closed.
"""

from __future__ import annotations


from ..operations import PlannedOp
from . import doctor_choice as dc
from .base import Draft, Field, Msg, Step, WizardContext


RECENT_MOVE_DAYS = 90


def _extra(draft: Draft) -> str:
    return (draft.get("extra_note") or "").strip()


def with_extra_note(text: str, draft: Draft) -> str:
    extra = _extra(draft)
    return f"{text} Bemærkning: {extra}" if extra else text


def close_task(ctx: WizardContext, reason: str) -> list[PlannedOp]:
    t = ctx.task
    if t is None or t.status.value != "open":
        return []
    return [PlannedOp(ctx.cpr, "task_close", {"task_id": t.id, "reason": reason})]


def note_step(text_fn, title: str = "doctors.step.note") -> Step:
    def evidence(draft: Draft, ctx: WizardContext) -> list[Msg]:
        return [Msg("doctors.ev.note_preview", level="heading"), Msg("doctors.ev.note_text", {"text": text_fn(draft, ctx)}),
                dc.letter_line()]
    return Step("note", title, (Field("extra_note", "text", "doctors.field.extra_note", required=False,
                                      default=lambda dr, cx: ""),), evidence=evidence)


def chosen_practice(draft: Draft, ctx: WizardContext, field_id: str = "provider") -> tuple[str, str]:
    p = ctx.provider(draft.get(field_id, ""))
    return (p.practice_name, p.provider_number) if p else ("?", draft.get(field_id, ""))
