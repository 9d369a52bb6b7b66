"""The wizard engine: one Textual screen that walks a domain wizard's steps.

Entry point for the inbox and the person screen: :func:`launch_wizard`.
"""

from __future__ import annotations

from typing import Any


def launch_wizard(app: Any, *, cpr: str, task_id: str | None, wizard_key: str,
                  workaround_id: str | None, state: Any = None) -> None:
    """Push the wizard ``wizard_key`` for ``cpr`` (and ``task_id``) on ``app``.

    Resumes the open draft of the same wizard for the same person and task, if one exists
    (``store.open_draft``); otherwise creates a new case. ``app`` must have ``store`` (an
    open Store) and ``today``; ``catalogue`` is used when present, ``session`` (a
    sygesikring_tui.desk.DeskSession) when present. ``state``: the person, when the caller has
    read it already (it is then not read again).
    """
    from .engine import launch

    launch(app, cpr=cpr, task_id=task_id, wizard_key=wizard_key, workaround_id=workaround_id, state=state)


__all__ = ["launch_wizard"]
