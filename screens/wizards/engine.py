"""The Textual wizard engine: one screen that walks a domain wizard (steps, review, commit).

Keys (they work inside inputs too): Ctrl+N next (Enter in a field does the same), Ctrl+B
back, Ctrl+S commit on the review step, Esc close (the draft is kept), F1 help.

The draft is saved to the case store at every step change, on close, and half a second
after the caseworker stops typing in a field, so quitting or a crash resumes at the same
step with at most the last keystrokes lost (``launch`` finds the open draft). Nothing in
here decides a rule: validation and planning are the domain wizard's, the attention points
are domain.attention's (via domain.wizards.common), commit is the store's.

Never colour alone: a yes/no field reads "[x] Ja" / "[ ] Nej", the highlighted choice is
marked "> ", warnings start with "! ", an operation that breaks a rule with "FEJL: ".
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.reactive import reactive
from textual.timer import Timer
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option as UiOption

from sygesikring_tui import logs
from sygesikring_tui.domain.cpr import format_cpr, mask
from sygesikring_tui.domain.model import Case, PersonState
from sygesikring_tui.domain.operations import PlannedOp, Violation
from sygesikring_tui.domain.wizards import WIZARDS, FieldError, Msg, Step, Wizard, WizardContext, dry_run
from sygesikring_tui.domain.wizards.common import (
    ReviewFlag,
    describe,
    person_lines,
    plan_parent_cprs,
    review_attention,
    start_attention,
    task_line,
)
from sygesikring_tui.desk import DRAFT_WIZARD_KEY, DeskSession, find_draft  # noqa: F401 - find_draft: re-exported
from sygesikring_tui.fmt import field_date
from sygesikring_tui.i18n import t
from sygesikring_tui.store import wizard_time
from sygesikring_tui.store.db import RuleViolation, StoreError

from ..keys import shown_key
from ..widgets import KeyBar

log = logging.getLogger(__name__)

AUTOSAVE_DELAY = 0.5  # seconds of quiet after a keystroke before the draft is saved


# -- text helpers ------------------------------------------------------------------------------

def tr(msg: Msg | FieldError | Violation) -> str:
    """Translate a domain message or rule violation; parameters named ``*_key`` are
    translation keys themselves."""
    params = dict(msg.params)
    for k, v in list(params.items()):
        if k.endswith("_key") and isinstance(v, str):
            params[k] = t(v, **{pk: pv for pk, pv in params.items() if not pk.endswith("_key")})
    key = msg.code if isinstance(msg, Violation) else msg.key
    return t(key, **params)


def _catalogue(app: Any) -> Any:
    cat = getattr(app, "catalogue", None)
    if cat is None:
        from sygesikring_tui.catalogue import load_catalogue

        cat = load_catalogue()
    return cat


# -- launching ---------------------------------------------------------------------------------

class WizardCommitted(Message):
    """Posted to the app when a wizard's case is committed (the inbox may refresh)."""

    def __init__(self, case_id: str, cpr: str, task_id: str | None) -> None:
        super().__init__()
        self.case_id = case_id
        self.cpr = cpr
        self.task_id = task_id


def session_of(app: Any) -> DeskSession:
    """The app's desk session (store, catalogue, clock, caseworker); one is made from the app's
    store and clock when it has none (a test app)."""
    session = getattr(app, "session", None)
    if isinstance(session, DeskSession):
        return session
    return DeskSession(app.store, _catalogue(app), lambda: app.today, caseworker=lambda: _author(app))


def retired_release(app: Any, wizard: Wizard, workaround_id: str | None) -> tuple[str, str] | None:
    """(section, release) when the workaround this run follows is planned for a release that
    is live in production (the fault is fixed), else None."""
    wid = workaround_id if workaround_id in wizard.workaround_ids else wizard.workaround_ids[0]
    try:
        wa = _catalogue(app).workarounds.get(wid)
        live = session_of(app).live_releases()
    except Exception:  # noqa: BLE001 - the warning must not stop a wizard
        log.exception("live releases unavailable")
        return None
    if wa is None or not wa.release or wa.release not in live:
        return None
    return wa.id, wa.release


def launch(app: Any, *, cpr: str, task_id: str | None, wizard_key: str, workaround_id: str | None,
           state: PersonState | None = None) -> None:
    """Open the wizard's case (``state``: the person, when the caller has read it already)."""
    wizard = WIZARDS.get(wizard_key)
    if wizard is None:
        app.notify(t("wizard.engine.unknown_wizard", key=wizard_key), severity="error")
        return
    retired = retired_release(app, wizard, workaround_id)
    if retired is None:
        _open(app, wizard, cpr=cpr, task_id=task_id, workaround_id=workaround_id, state=state)
        return
    log.info("wizard %s started for a retired workaround %s (release %s live)", wizard.key, *retired)

    def answered(go_on: bool | None) -> None:
        if go_on:
            _open(app, wizard, cpr=cpr, task_id=task_id, workaround_id=workaround_id, state=state)

    section, release = retired
    app.push_screen(RetiredWarning(t("release.retired_warning", section=section, release=release)), answered)


def _open(app: Any, wizard: Wizard, *, cpr: str, task_id: str | None, workaround_id: str | None,
          state: PersonState | None = None) -> None:
    try:
        opened = session_of(app).open_case(wizard, cpr, task_id, workaround_id, state)
    except StoreError as exc:
        app.notify(t(f"store.{exc.code}", path=str(exc.path), detail=exc.detail), severity="error")
        return
    if opened is None:
        app.notify(t("wizard.engine.unknown_person"), severity="error")
        return
    case = opened.case
    log.info("wizard %s %s for %s (case %s)", wizard.key, "resumed" if opened.resumed else "started", mask(cpr),
             case.id)
    app.push_screen(WizardScreen(wizard, case, resumed=opened.resumed, context=opened.context))


class RetiredWarning(ModalScreen[bool]):
    """Before the first step of a retired workaround: the fault is fixed; continue or stop."""

    DEFAULT_CSS = """
    RetiredWarning { align: center middle; }
    RetiredWarning > Vertical { width: 70; max-width: 100%; height: auto; border: thick $warning;
                                background: $surface; padding: 0 1; }
    RetiredWarning #rw-title { text-style: bold; }
    RetiredWarning #rw-text { margin: 1 0; }
    RetiredWarning OptionList { height: auto; }
    """
    BINDINGS = [Binding("escape", "stop", show=False, id="wizard.retired.stop")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("! " + t("wizard.retired.title"), id="rw-title")
            yield Static(self._text, id="rw-text", markup=False)
            yield ChoiceList(UiOption("  " + t("wizard.retired.stop"), id="stop"),
                             UiOption("  " + t("wizard.retired.continue"), id="continue"), id="rw-choice",
                             compact=True)

    def on_mount(self) -> None:
        self.query_one(ChoiceList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id == "continue")

    def action_stop(self) -> None:
        self.dismiss(False)


# -- fields that show their state in text, not only in colour ----------------------------------

class ChoiceList(OptionList):
    """An OptionList that marks the highlighted option with "> " (options are given two
    leading spaces for it), so the choice does not rest on the highlight colour. The marker is
    part of the option's prompt, swapped when the highlight moves (public API only)."""

    _marked: int | None = None  # the option that carries the marker

    def watch_highlighted(self, highlighted: int | None) -> None:
        self._mark(highlighted)
        super().watch_highlighted(highlighted)

    def _mark(self, index: int | None) -> None:
        if index == self._marked:
            return
        for i, marker in ((self._marked, "  "), (index, "> ")):
            if i is None or i >= self.option_count:
                continue
            prompt = self.get_option_at_index(i).prompt
            if isinstance(prompt, str) and len(prompt) >= 2 and prompt[:2] in ("  ", "> "):
                self.replace_option_prompt_at_index(i, marker + prompt[2:])
        self._marked = index


class Toggle(Widget, can_focus=True):
    """A yes/no field that says its state in words: "[x] Ja" or "[ ] Nej", then the label.

    Space toggles, j/y sets yes, n sets no; Enter moves on like Enter in any other field."""

    DEFAULT_CSS = """
    Toggle { height: auto; width: 100%; margin-top: 1; }
    Toggle:focus { background: $primary 30%; text-style: bold; }
    """
    BINDINGS = [
        Binding("space", "toggle", show=False, id="wizard.toggle"),
        Binding("j,y", "set(True)", show=False, id="wizard.toggle.yes"),
        Binding("n", "set(False)", show=False, id="wizard.toggle.no"),
        Binding("enter", "submit", show=False, id="wizard.toggle.submit"),
    ]
    value: reactive[bool] = reactive(False)

    class Changed(Message):
        def __init__(self, toggle: Toggle, value: bool) -> None:
            super().__init__()
            self.toggle = toggle
            self.value = value

    class Submitted(Message):
        pass

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.label = label
        self.set_reactive(Toggle.value, value)

    def render(self) -> Text:
        state = t("wizard.toggle.on") if self.value else t("wizard.toggle.off")
        text = Text()
        text.append(state, style="bold")
        text.append("  " + self.label)
        return text

    def watch_value(self, value: bool) -> None:
        self.post_message(self.Changed(self, value))

    def action_toggle(self) -> None:
        self.value = not self.value

    def action_set(self, value: bool) -> None:
        self.value = value

    def action_submit(self) -> None:
        self.post_message(self.Submitted())

    def on_click(self) -> None:
        self.focus()
        self.value = not self.value


# -- help --------------------------------------------------------------------------------------

def help_entries(wizard: Wizard, cat: Any) -> list[tuple[str, str, str, tuple[str, ...], str | None, list[str]]]:
    """(section, title, rule, jira, release, steps) for every guide section the wizard follows:
    its workaround ids, the catalogue's sections naming it, and attention points (e.g. AP4)."""
    ids = list(dict.fromkeys([*wizard.workaround_ids, *(w.id for w in cat.for_wizard(wizard.key))]))
    out = []
    for wid in ids:
        wa = cat.workarounds.get(wid)
        if wa is not None:
            section = ", ".join([wa.id, *wa.also_sections])
            out.append((section, wa.title(), wa.summary(), tuple(wa.jira), wa.release, wa.steps()))
            continue
        ap = cat.attention_points.get(wid)
        if ap is not None:
            out.append((ap.id, ap.title(), ap.text(), tuple(ap.jira), ap.release, []))
    return out


def wizard_help_text(wizard: Wizard, cat: Any, live: frozenset[str] = frozenset()) -> str:
    """F1 in a wizard: per guide section its title, Jira ids, planned release, the guide's rule
    in a few sentences (the catalogue summary) and its steps; then the keys."""
    parts: list[str] = []
    entries = help_entries(wizard, cat)
    for section, title, rule, jira, release, steps in entries:
        parts.append(t("wizard.help.section", section=section, title=title))
        parts.append(t("wizard.help.meta", jira=", ".join(jira) or t("wizard.engine.none"),
                       release=release or t("wizard.engine.none")))
        if release and release in live:
            parts.append("! " + t("wizard.help.retired", release=release))
        parts.append(f"{t('wizard.help.rule')}: {rule}")
        if steps:
            parts.append(t("wizard.help.steps") + ":")
            parts.extend(f"  {i}. {x}" for i, x in enumerate(steps, 1))
        parts.append("")
    if not entries:
        parts += [t("wizard.help.missing"), ""]
    parts.append(t("wizard.engine.help_keys"))
    return "\n".join(parts)


class WizardHelp(ModalScreen[None]):
    DEFAULT_CSS = """
    WizardHelp { align: center middle; }
    WizardHelp > Vertical { width: 78; max-width: 100%; height: 22; max-height: 100%;
                            border: thick $accent; background: $surface; }
    WizardHelp #wh-title { text-style: bold; padding: 0 1; }
    WizardHelp VerticalScroll { height: 1fr; padding: 0 1; }
    WizardHelp #wh-keys { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,f1,q", "close", show=False, id="wizard.help.close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self._title = title
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("wizard.engine.help_title", title=self._title), id="wh-title")
            with VerticalScroll():
                yield Static(self._text, id="wh-text", markup=False)
            yield Label(t("wizard.engine.help_close"), id="wh-keys")

    def action_close(self) -> None:
        self.dismiss(None)


# -- the wizard screen -------------------------------------------------------------------------

class WizardScreen(Screen[str | None]):
    """One wizard run. Dismisses with the committed case id, or None when closed."""

    DEFAULT_CSS = """
    WizardScreen { layout: vertical; }
    WizardScreen #wiz-title { height: 1; background: $primary; color: $text; text-style: bold; padding: 0 1; }
    WizardScreen #wiz-step { height: 1; text-style: bold; padding: 0 1; }
    WizardScreen #wiz-guide { height: 1; color: $text-muted; padding: 0 1; }
    WizardScreen #wiz-who { height: auto; max-height: 2; padding: 0 1; text-style: bold; }
    WizardScreen #wiz-who.-empty { display: none; }
    WizardScreen #wiz-attention { height: auto; max-height: 4; color: $warning; text-style: bold; padding: 0 1; }
    WizardScreen #wiz-attention.-empty { display: none; }
    WizardScreen .wiz-attn { margin-top: 1; color: $warning; }
    WizardScreen #wiz-body { height: 1fr; padding: 0 1; }
    WizardScreen .wiz-evidence { margin-bottom: 1; }
    WizardScreen .wiz-label { text-style: bold; margin-top: 1; }
    WizardScreen .wiz-hint { color: $text-muted; }
    WizardScreen .wiz-error { color: $error; text-style: bold; }
    WizardScreen .wiz-error.-empty { display: none; }
    WizardScreen #wiz-step-error { color: $error; text-style: bold; padding: 0 1; height: auto; max-height: 6; }
    WizardScreen #wiz-step-error.-empty { display: none; }
    WizardScreen OptionList { height: auto; max-height: 10; }
    WizardScreen OptionList:focus { background: $primary 15%; }
    WizardScreen Input { width: 100%; background: $boost; }
    WizardScreen Input:focus { background: $primary 30%; }
    WizardScreen TextArea { height: 5; background: $boost; }
    """

    # The footer is the desk's KeyBar (as on every screen), filled in by _update_keys.
    BINDINGS = [
        Binding("ctrl+n", "next", "wizard.engine.next", priority=True, id="wizard.next"),
        Binding("ctrl+b", "back", "wizard.engine.back", priority=True, id="wizard.back"),
        Binding("ctrl+s", "commit", "wizard.engine.commit", priority=True, id="wizard.commit"),
        Binding("escape", "close", "wizard.engine.close", id="wizard.close"),
        Binding("f1", "help", "wizard.engine.help", priority=True, id="wizard.help"),
        Binding("down,j", "review_scroll('down')", show=False, id="wizard.review.down"),
        Binding("up,k", "review_scroll('up')", show=False, id="wizard.review.up"),
        Binding("pagedown", "review_scroll('page_down')", show=False, id="wizard.review.page_down"),
        Binding("pageup", "review_scroll('page_up')", show=False, id="wizard.review.page_up"),
        Binding("home,g", "review_scroll('home')", show=False, id="wizard.review.top"),
        Binding("end,G", "review_scroll('end')", show=False, id="wizard.review.bottom"),
    ]

    def __init__(self, wizard: Wizard, case: Case, *, resumed: bool = False,
                 context: WizardContext | None = None) -> None:
        super().__init__()
        self.wizard = wizard
        self.case = case
        self.resumed = resumed
        self.draft: dict[str, str] = {k: str(v) for k, v in case.draft.items() if v is not None}
        self.draft[DRAFT_WIZARD_KEY] = wizard.key
        self.step_no = int(case.step)  # index into wizard.steps; len(steps) is the review
        self.ctx: WizardContext | None = context  # read when the case was opened, else on mount
        self._planned: list[PlannedOp] = []
        self._review_ok = False
        self._busy = False
        self._showing = False
        self._autosave_timer: Timer | None = None
        self._acks: dict[str, str] = {}  # review toggle id -> acknowledgement id (AP3/AP4)
        self._flags: list[ReviewFlag] = []

    # -- context -----------------------------------------------------------------------------
    @property
    def store(self) -> Any:
        return self.app.store

    @property
    def today(self) -> date:
        return self.app.today

    def _load_context(self) -> WizardContext:
        return session_of(self.app).context(self.wizard, self.case)

    @property
    def review_no(self) -> int:
        return len(self.wizard.steps)

    @property
    def on_review(self) -> bool:
        return self.step_no >= self.review_no

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="wiz-title", markup=False)
        yield Static("", id="wiz-step", markup=False)
        yield Static("", id="wiz-guide", markup=False)
        yield Static("", id="wiz-who", classes="-empty", markup=False)
        yield Static("", id="wiz-attention", classes="-empty", markup=False)
        body = VerticalScroll(id="wiz-body")
        body.can_focus = False  # Tab goes only to the fields, never to the invisible container
        yield body
        yield Static("", id="wiz-step-error", classes="-empty", markup=False)
        yield KeyBar([], id="keybar")

    async def on_mount(self) -> None:
        wizard_time.begin(self.store, self.case.id)  # the caseworker's time in the draft, for the report
        if self.ctx is None:
            self.ctx = self._load_context()
        self._start_attention()
        active = self.wizard.active_steps(self.draft, self.ctx)
        if not self.on_review and self.step_no not in active:
            self.step_no = active[0] if active else self.review_no
        await self._show_step()
        if self.resumed:
            self.notify(t("wizard.engine.resumed", n=self._position()[0]))

    def on_unmount(self) -> None:
        wizard_time.end(self.store, self.case.id)  # closed or left; after a commit nothing is open

    def refresh_texts(self) -> None:
        """ctrl+l: the footer, the header and the step (or review) again in the new language;
        what is typed and ticked stays."""
        self.refresh_bindings()
        if self.ctx is None or not self.is_mounted:
            return
        self._update_keys()
        self._collect()
        ticked = {tid: any(n.value for n in self.query(f"#{tid}").results(Toggle)) for tid in self._acks}

        async def again() -> None:
            self._start_attention()
            await self._show_step()
            for tid, value in ticked.items():
                for node in self.query(f"#{tid}").results(Toggle):
                    node.value = value

        self.call_later(again)

    def _start_attention(self) -> None:
        """Attention point 1 at the start of a wizard with a doctor choice: shown on every step."""
        assert self.ctx is not None
        try:
            msgs = start_attention(self.wizard, self.ctx)
        except Exception:  # noqa: BLE001 - a check that cannot run must not stop the wizard
            log.exception("attention check failed for case %s", self.case.id)
            msgs = []
        node = self.query_one("#wiz-attention", Static)
        node.update("\n".join(t("wizard.attn.start_prefix") + tr(m) for m in msgs))
        node.set_class(not msgs, "-empty")

    def _position(self) -> tuple[int, int]:
        active = self.wizard.active_steps(self.draft, self.ctx)
        total = len(active) + 1
        n = total if self.on_review else (active.index(self.step_no) + 1 if self.step_no in active else 1)
        return n, total

    def _update_keys(self) -> None:
        """The footer: the keys that act on this step, Enter first where it moves on."""
        keys: list[tuple[str, str]] = []
        if self.on_review:
            keys.append((shown_key(self.app, "wizard.commit", "^s"), "wizard.engine.commit"))
        else:
            keys.append(("↵/" + shown_key(self.app, "wizard.next", "^n"), "wizard.engine.next"))
        if self.check_action("back", ()):
            keys.append((shown_key(self.app, "wizard.back", "^b"), "wizard.engine.back"))
        keys += [(shown_key(self.app, "wizard.close", "Esc"), "wizard.engine.close"),
                 (shown_key(self.app, "wizard.help", "F1"), "wizard.engine.help")]
        self.query_one(KeyBar).set_keys(keys)

    def _header(self) -> None:
        n, total = self._position()
        step_title = t("wizard.engine.review") if self.on_review else t(self.wizard.steps[self.step_no].title)
        self.query_one("#wiz-title", Static).update(t(self.wizard.title))
        self.query_one("#wiz-step", Static).update(t("wizard.engine.step", n=n, total=total, title=step_title))
        section = self.wizard.section_for(self.draft)
        wa = None
        try:
            wa = _catalogue(self.app).workarounds.get(section)
        except Exception:  # noqa: BLE001 - the header must render without the catalogue
            log.exception("catalogue unavailable")
        jira = ", ".join(wa.jira) if wa and wa.jira else t("wizard.engine.none")
        release = (wa.release if wa and wa.release else t("wizard.engine.none"))
        self.query_one("#wiz-guide", Static).update(
            t("wizard.engine.guide", section=section, jira=jira, release=release))
        who = self._who_lines()
        node = self.query_one("#wiz-who", Static)
        node.update("\n".join(tr(m) for m in who))
        node.set_class(not who, "-empty")

    def _who_lines(self) -> list[Msg]:
        """Whose case and which task: pinned above the step, so it never scrolls away."""
        assert self.ctx is not None
        try:
            return [*person_lines(self.ctx.state, self.today), *task_line(self.ctx)]
        except Exception:  # noqa: BLE001 - the header must render without them
            log.exception("person line unavailable for case %s", self.case.id)
            return []

    def _pinned(self, m: Msg) -> bool:
        """An evidence line the pinned header already shows (this person, this task)."""
        return m.key == "wizard.ev.task" or (m.key == "wizard.ev.person" and self.ctx is not None
                                              and m.params.get("cpr") == format_cpr(self.ctx.cpr))

    def _evidence_text(self, lines: list[Msg]) -> Text:
        text = Text()
        for i, m in enumerate(x for x in lines if not self._pinned(x)):
            if i:
                text.append("\n")
            style = {"heading": "bold", "warning": "bold yellow"}.get(m.level, "")
            text.append(("! " if m.level == "warning" else "") + tr(m), style=style)
        return text

    async def _show_step(self) -> None:
        self._showing = True
        try:
            await self._show_step_widgets()
        finally:
            self._showing = False

    async def _show_step_widgets(self) -> None:
        assert self.ctx is not None
        self._acks, self._flags = {}, []
        body = self.query_one("#wiz-body", VerticalScroll)
        await body.remove_children()
        self._set_step_error([])
        if not self.on_review:
            self.draft = self.wizard.fill_defaults(self.wizard.steps[self.step_no], self.draft, self.ctx)
        self._header()
        self._update_keys()
        if self.on_review:
            await body.mount_all(self._review_widgets())
            self.refresh_bindings()
            body.scroll_home(animate=False)
            acks = list(self.query(Toggle))
            self.set_focus(acks[0] if acks else None)
            return
        step = self.wizard.steps[self.step_no]
        widgets: list[Widget] = []
        if step.evidence is not None:
            widgets.append(Static(self._evidence_text(step.evidence(self.draft, self.ctx)),
                                  classes="wiz-evidence", markup=False))
        first: Widget | None = None
        for f in step.fields:
            value = self.draft.get(f.id, "")
            locked = f.is_locked(self.draft, self.ctx)
            if f.kind == "confirm":
                w: Widget = Toggle(t(f.label), value=value == "yes", id=f"fld-{f.id}")
            else:
                widgets.append(Label(t(f.label), classes="wiz-label"))
                if f.kind in ("choice", "provider"):
                    opts = f.options(self.draft, self.ctx) if f.options else []
                    w = ChoiceList(*[UiOption("  " + tr(o.label), id=o.value) for o in opts], id=f"fld-{f.id}",
                                   markup=False, compact=True)
                elif f.kind == "text" and f.id.endswith("note"):
                    w = TextArea(value, id=f"fld-{f.id}", soft_wrap=True, compact=True, show_line_numbers=False)
                else:
                    # Tab into a field puts the cursor at its end: one key never replaces it all
                    w = Input(value=field_date(value) if f.kind == "date" else value, id=f"fld-{f.id}",
                              compact=True, placeholder=t("wizard.hint.date") if f.kind == "date" else "",
                              select_on_focus=False, disabled=locked)
            widgets.append(w)
            if locked:  # said in words: a disabled field is only greyed out
                widgets.append(Static(t("wizard.hint.locked"), classes="wiz-hint", markup=False))
            elif f.hint:
                widgets.append(Static(t(f.hint), classes="wiz-hint", markup=False))
            widgets.append(Static("", id=f"err-{f.id}", classes="wiz-error -empty", markup=False))
            first = first or w
        await body.mount_all(widgets)
        for f in step.fields:
            if f.kind in ("choice", "provider"):
                ol = self.query_one(f"#fld-{f.id}", OptionList)
                value = self.draft.get(f.id, "")
                try:
                    ol.highlighted = ol.get_option_index(value) if value else 0
                except Exception:  # noqa: BLE001 - a stale value: highlight the first option
                    ol.highlighted = 0 if ol.option_count else None
        body.scroll_home(animate=False)
        self.refresh_bindings()
        if first is not None:
            self.set_focus(first)
        self.call_after_refresh(self._show_highlights)

    def _show_highlights(self) -> None:
        """Every choice list scrolled to its chosen option (a pre-selected one may be far down),
        then the focused field in view again."""
        for ol in self.query("#wiz-body ChoiceList").results(ChoiceList):
            ol.scroll_to_highlight()
        if self.focused is not None:
            self.focused.scroll_visible(animate=False)

    # -- reading and validating fields -------------------------------------------------------
    def _collect(self) -> None:
        if self.on_review:
            return
        for f in self.wizard.steps[self.step_no].fields:
            nodes = self.query(f"#fld-{f.id}")
            if not nodes:
                continue
            w = nodes.first()
            if isinstance(w, Toggle):
                self.draft[f.id] = "yes" if w.value else "no"
            elif isinstance(w, OptionList):
                opt = w.highlighted_option
                self.draft[f.id] = opt.id if opt is not None and opt.id is not None else ""
            elif isinstance(w, Input):
                self.draft[f.id] = w.value
            elif isinstance(w, TextArea):
                self.draft[f.id] = w.text

    def _show_errors(self, step: Step, errors: list[FieldError]) -> None:
        by_field: dict[str, list[str]] = {}
        for e in errors:
            by_field.setdefault(e.field, []).append(tr(e))
        for f in step.fields:
            for node in self.query(f"#err-{f.id}"):
                msgs = by_field.pop(f.id, [])
                node.update("\n".join(msgs))
                node.set_class(not msgs, "-empty")
        self._set_step_error([m for msgs in by_field.values() for m in msgs])
        for f in step.fields:
            if any(e.field == f.id for e in errors):
                for node in self.query(f"#fld-{f.id}"):
                    self.set_focus(node, scroll_visible=False)
                    self.call_after_refresh(self._reveal, f.id)
                break

    def _reveal(self, field_id: str, tries: int = 20) -> None:
        """Scroll the body so the field and its message below it are in view; when both do not
        fit, the message and as much of the field as fits above it. (The message is laid out a
        moment after it is filled in: until then, look again.)"""
        body = self.query_one("#wiz-body", VerticalScroll)
        fields, errs = self.query(f"#fld-{field_id}"), self.query(f"#err-{field_id}")
        if not fields or not errs or not self.is_attached:
            return
        top, err = fields.first().virtual_region, errs.first().virtual_region
        if not err.height:
            if tries:
                self.set_timer(0.01, lambda: self._reveal(field_id, tries - 1))
            return
        height = body.scrollable_content_region.height
        target = top.union(err)
        if target.height > height:
            target = Region(target.x, err.bottom - height, target.width, height)
        body.scroll_to_region(target, animate=False, immediate=True)

    def _set_step_error(self, lines: list[str]) -> None:
        node = self.query_one("#wiz-step-error", Static)
        node.update("\n".join(lines))
        node.set_class(not lines, "-empty")

    def _save(self) -> None:
        try:
            self.store.save_draft(self.case.id, self.step_no, dict(self.draft))
        except StoreError as exc:
            self._set_step_error([t(f"store.{exc.code}", path=str(exc.path), detail=exc.detail)])

    # -- actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next":
            return not self.on_review
        if action in ("commit", "review_scroll"):
            return self.on_review
        if action == "back":
            return self.ctx is not None and (
                self.on_review or self.wizard.previous_step(self.step_no, self.draft, self.ctx) is not None)
        return True

    async def action_next(self) -> None:
        if self._busy or self.ctx is None or self.on_review:
            return
        self._busy = True
        try:
            self._collect()
            step = self.wizard.steps[self.step_no]
            errors = self.wizard.validate_step(step, self.draft, self.ctx)
            if errors:
                self._show_errors(step, errors)
                self._save()
                return
            nxt = self.wizard.next_step(self.step_no, self.draft, self.ctx)
            self.step_no = self.review_no if nxt is None else nxt
            self._save()
            await self._show_step()
        except Exception as exc:  # noqa: BLE001 - never a traceback on screen
            self._unexpected(exc)
        finally:
            self._busy = False

    async def action_back(self) -> None:
        if self._busy or self.ctx is None:
            return
        self._busy = True
        try:
            self._collect()
            prev = (self.wizard.active_steps(self.draft, self.ctx) or [0])[-1] if self.on_review else \
                self.wizard.previous_step(self.step_no, self.draft, self.ctx)
            if prev is None:
                return
            self.step_no = prev
            self._save()
            await self._show_step()
        except Exception as exc:  # noqa: BLE001
            self._unexpected(exc)
        finally:
            self._busy = False

    def action_review_scroll(self, how: str) -> None:
        """The review scrolls by keys with or without a focused field."""
        body = self.query_one("#wiz-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "page_down": body.scroll_page_down,
         "page_up": body.scroll_page_up, "home": body.scroll_home, "end": body.scroll_end}[how](animate=False)

    def action_close(self) -> None:
        self._collect()
        self._save()
        self.notify(t("wizard.engine.saved"))
        self.dismiss(None)

    def help_text(self) -> str:
        """The guide's rule for this wizard's sections, their Jira ids and releases, then the keys."""
        from sygesikring_tui.releases import live_releases

        try:
            return wizard_help_text(self.wizard, _catalogue(self.app), live_releases())
        except Exception:  # noqa: BLE001
            log.exception("catalogue unavailable for help")
            return t("wizard.engine.help_keys")

    @property
    def TITLE_KEY(self) -> str:  # noqa: N802 - read by the app's F1 help
        return self.wizard.title

    def action_help(self) -> None:
        self._collect()
        app_help = getattr(self.app, "action_help", None)
        if callable(app_help):  # the desk app's help screen calls help_text()
            app_help()
            return
        self.app.push_screen(WizardHelp(t(self.wizard.title), self.help_text()))

    # -- review and commit -------------------------------------------------------------------
    def _review_widgets(self) -> list[Widget]:
        assert self.ctx is not None
        self._planned, self._review_ok = [], False
        self._acks, self._flags = {}, []
        problems = self.wizard.validate_all(self.draft, self.ctx)
        lines = Text()
        if problems:
            step, errs = problems[0]
            self._set_step_error([t("wizard.engine.step_errors", step=t(step.title))] + [tr(e) for e in errs])
            return [Static(lines, classes="wiz-evidence")]
        try:
            planned = self.wizard.plan(self.draft, self.ctx.states, self.ctx)
        except Exception:  # noqa: BLE001 - a draft the plan cannot read
            log.exception("wizard %s could not plan case %s", self.wizard.key, self.case.id)
            self._set_step_error([t("error.unexpected", log=str(logs.log_path()))])  # the class name is in the log
            return [Static(lines, classes="wiz-evidence")]
        _end, violations = dry_run(planned, self.ctx.states, self.ctx.rule_context())
        flags = self._attention(planned)
        lines.append(t("wizard.engine.review_intro"), style="bold")
        if not planned:
            lines.append("\n" + t("wizard.engine.review_empty"))
        bad = {id(p) for p, _v in violations}
        for i, op in enumerate(planned, 1):
            lines.append(f"\n{i:>2}. ")
            if id(op) in bad:
                lines.append(t("wizard.review.bad_prefix") + tr(describe(op, self.ctx.states)), style="bold red")
            else:
                lines.append(tr(describe(op, self.ctx.states)))
        if violations:
            self._set_step_error([t("wizard.engine.commit_failed")] +
                                 [tr(v) for _p, vs in violations for v in vs])
        else:
            self._planned, self._review_ok = planned, True
        widgets: list[Widget] = [Static(lines, classes="wiz-evidence", id="wiz-review")]
        for n, f in enumerate(flags):
            text = Text("! " + tr(f.msg), style="bold")
            for line in f.lines:
                text.append("\n" + tr(line))
            if f.ack is None and f.msg.key == "attention.ap4":
                text.append("\n" + t("wizard.attn.confirmed_in_wizard"))
            widgets.append(Static(text, classes="wiz-attn", id=f"attn-{n}"))
            if f.ack is not None:
                tid = f"ack-{n}"
                self._acks[tid] = f.ack
                widgets.append(Toggle(t("wizard.attn.ack_label"), False, id=tid))
        self._flags = flags
        return widgets

    def _attention(self, planned: list[PlannedOp]) -> list[ReviewFlag]:
        """Attention points 2-4 for the plan (domain.wizards.common.review_attention); the
        parents of a child getting a doctor are loaded from the store for attention point 3."""
        assert self.ctx is not None
        try:
            parents: dict[str, PersonState] = {}
            for cpr in plan_parent_cprs(planned, self.ctx.states):
                st = self.ctx.states.get(cpr) or self.store.load_person(cpr)
                if st is not None:
                    parents[cpr] = st
            return review_attention(planned, self.ctx.states, self.ctx, parents, self.draft)
        except StoreError as exc:
            self._set_step_error([t(f"store.{exc.code}", path=str(exc.path), detail=exc.detail)])
            return []

    def missing_acks(self) -> list[str]:
        """The review's acknowledgement toggles not yet switched on (ids)."""
        return [tid for tid in self._acks if not any(n.value for n in self.query(f"#{tid}").results(Toggle))]

    async def action_commit(self) -> None:
        if self._busy or not self.on_review:
            return
        if not self._review_ok:
            return
        missing = self.missing_acks()
        if missing:
            self._set_step_error([t("wizard.attn.ack_missing")])
            self.set_focus(self.query_one(f"#{missing[0]}", Toggle))
            return
        self._busy = True
        try:
            ops = session_of(self.app).commit(self.case.id, self._planned)
        except RuleViolation as exc:
            self._set_step_error([t("wizard.engine.commit_failed")] + [tr(v) for v in exc.violations])
            self._busy = False
            return
        except StoreError as exc:
            self._set_step_error([t("wizard.engine.commit_failed"),
                                  t(f"store.{exc.code}", path=str(exc.path), detail=exc.detail)])
            self._busy = False
            return
        except Exception as exc:  # noqa: BLE001
            self._unexpected(exc)
            self._busy = False
            return
        log.info("wizard %s committed case %s for %s: %d operations", self.wizard.key, self.case.id,
                 mask(self.case.cpr), len(ops))
        training = getattr(self.app, "is_training", False)
        self.notify(t("wizard.engine.committed_training" if training else "wizard.engine.committed", count=len(ops)))
        self.app.post_message(WizardCommitted(self.case.id, self.case.cpr, self.case.task_id))
        self.dismiss(self.case.id)

    def _unexpected(self, exc: BaseException) -> None:
        log.error("wizard %s, case %s: %s", self.wizard.key, self.case.id, type(exc).__name__,
                  exc_info=(type(exc), exc, exc.__traceback__))
        self._set_step_error([t("error.unexpected", log=str(logs.log_path()))])

    # -- Enter in a field moves on -------------------------------------------------------------
    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        await self.action_next()

    @on(OptionList.OptionSelected)
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        await self.action_next()

    @on(Toggle.Submitted)
    async def _toggle_submitted(self, event: Toggle.Submitted) -> None:
        event.stop()
        if self.on_review:
            await self.action_commit()
        else:
            await self.action_next()

    # -- the draft is saved while typing (debounced), so a crash loses at most the last keys ----
    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Toggle.Changed)
    @on(OptionList.OptionHighlighted)
    def _field_changed(self, event: Message) -> None:
        if self.on_review or self._showing:
            return
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(AUTOSAVE_DELAY, self._autosave)

    def _autosave(self) -> None:
        self._autosave_timer = None
        if self._busy or self._showing or self.on_review or not self.is_attached:
            return
        self._collect()
        self._save()


def _author(app: Any) -> str:
    """The signed-in caseworker's initials (the trainee in training; "" when nobody): the
    server checks every operation is in the name of a caseworker signed in on this desk."""
    v = getattr(app, "author", "")
    return v if isinstance(v, str) else ""

