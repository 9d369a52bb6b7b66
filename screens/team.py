"""A team on one inbox: signing a caseworker in and out, and claiming tasks ("Tag opgave").

- :class:`SignInScreen` asks for initials and the personal secret when the desk is connected
  to a server and nobody is signed in; the desk keeps only the session token the server
  gives (``sygesikring_tui.store.session``). Escape leaves the inbox read-only.
- :class:`TeamActions` (mixed into the app): claim, release, reassign, sign out (``ctrl+g``;
  ``ctrl+o`` is the inbox's "all statuses") and sign-out after :data:`IDLE_SIGN_OUT` without
  a key; starting a wizard on an unclaimed task claims it, on a task someone else holds asks
  first (a :class:`screens.confirm.ChoiceDialog`, "no" chosen at first).
- Training mode has a fixed trainee (``session.TRAINEE``) and never asks anyone to sign in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.i18n import t
from sygesikring_tui.store import claims, session

from .widgets import AppHeader, Guarded, KeyBar, fmt_date, training_tag

log = logging.getLogger(__name__)

IDLE_SIGN_OUT = 15 * 60.0  # seconds without a key before the desk signs the caseworker out
IDLE_CHECK = 30.0  # seconds between looks at the idle time
SIGN_OUT_KEY = "ctrl+g"


def since_text(since: str | None) -> str:
    return fmt_date((since or "")[:10]) if since else "–"


def violation_text(exc: Exception) -> str:
    """The first rule a claim broke, in words (whose, since when)."""
    from sygesikring_tui.store.db import RuleViolation

    if isinstance(exc, RuleViolation) and exc.violations:
        v = exc.violations[0]
        return t(v.code, **v.params)
    return str(exc)


class SignInScreen(Guarded, Screen[bool]):
    """Initials and personal secret; Enter signs in, Escape goes on read-only (False)."""

    HELP_KEY = "help.sign_in"
    AUTO_FOCUS = "#signin-initials"
    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical { width: 60; max-width: 100%; height: auto; border: thick $accent; padding: 1 2; }
    SignInScreen #signin-title { text-style: bold; width: 100%; }
    SignInScreen #signin-text { width: 100%; margin: 1 0; }
    SignInScreen Input { width: 100%; }
    SignInScreen #signin-error { color: $error; text-style: bold; height: auto; min-height: 1; }
    """
    BINDINGS = [Binding("escape", "read_only", show=False, id="signin.read_only"),
                Binding("f1", "app.help", show=False, id="signin.help")]

    def compose(self) -> ComposeResult:
        yield AppHeader("signin.title")
        with Vertical():
            yield Label(t("signin.title"), id="signin-title")
            yield Static(t("signin.text"), id="signin-text")
            yield Label(t("signin.initials"), id="signin-initials-label")
            yield Input(id="signin-initials", max_length=16, restrict=r"[A-Za-z0-9]*")
            yield Label(t("signin.secret"), id="signin-secret-label")
            yield Input(id="signin-secret", password=True, max_length=64)
            yield Static("", id="signin-error")
        yield KeyBar([("↵", "signin.key.sign_in"), ("Esc", "signin.key.read_only"), ("F1", "ui.help"),
                      ("^q", "ui.quit")])

    def on_mount(self) -> None:
        for i in self.query(Input):
            i.cursor_blink = bool(getattr(self.app, "cursor_blink", True))

    def refresh_texts(self) -> None:
        for sel, key in (("#signin-title", "signin.title"), ("#signin-initials-label", "signin.initials"),
                         ("#signin-secret-label", "signin.secret")):
            self.query_one(sel, Label).update(t(key))
        self.query_one("#signin-text", Static).update(t("signin.text"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        initials = self.query_one("#signin-initials", Input).value.strip().upper()
        secret = self.query_one("#signin-secret", Input).value
        if event.input.id == "signin-initials" and not secret:
            self.query_one("#signin-secret", Input).focus()
            return
        if not initials or not secret:
            self.show_error(t("signin.missing"))
            return
        self.show_error(t("signin.busy"))
        self._sign_in(initials, secret)

    @work(thread=True, exclusive=True, group="sign-in")
    def _sign_in(self, initials: str, secret: str) -> None:
        app: Any = self.app
        try:
            got = app.sign_in_request(initials, secret)
        except Exception as exc:  # noqa: BLE001 - a wrong secret, no server: said in words
            kind = getattr(exc, "kind", "")
            key = "signin.wrong" if kind == "auth" else "signin.offline" if kind in ("offline", "server") \
                else "signin.failed"
            log.info("sign-in of %s refused (%s)", initials, kind or type(exc).__name__)
            app.call_from_thread(self.show_error, t(key))
            return
        app.call_from_thread(self._signed_in, got)

    def _signed_in(self, got: dict[str, Any]) -> None:
        app: Any = self.app
        signed = session.SignedIn(str(got["initials"]), str(got["name"]), bool(got["team_lead"]),
                                  str(got["session"]), str(got["expires"]))
        session.remember(app.store, signed)
        log.info("caseworker %s signed in", signed.initials)
        self.query_one("#signin-secret", Input).value = ""
        self.dismiss(True)
        app.signed_in_changed()
        app.notify(t("signin.welcome", name=signed.name, initials=signed.initials), timeout=3)

    def show_error(self, text: str) -> None:
        self.query_one("#signin-error", Static).update(text)

    def action_read_only(self) -> None:
        self.dismiss(False)
        self.app.notify(t("signin.read_only"), timeout=4)


class ReassignDialog(Guarded, ModalScreen[str | None]):
    """The initials of the caseworker to give the task to (the team is listed when known)."""

    HELP_KEY = "help.reassign"
    DEFAULT_CSS = """
    ReassignDialog { align: center middle; }
    ReassignDialog > Vertical { width: 70; max-width: 100%; height: auto; border: thick $accent;
                                background: $surface; padding: 1 2; }
    ReassignDialog #reassign-title { text-style: bold; width: 100%; }
    ReassignDialog #reassign-team { width: 100%; margin: 1 0; color: $text-muted; }
    ReassignDialog #reassign-keys { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False, id="reassign.cancel"),
                Binding("f1", "app.help", show=False, id="reassign.help")]  # (a modal stops the app's F1)

    def __init__(self, team: list[tuple[str, str]]) -> None:
        super().__init__()
        self.team = team

    def _team_text(self) -> str:
        return ", ".join(f"{i} ({n})" for i, n in self.team) if self.team else t("reassign.team_unknown")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{t('reassign.title')}{training_tag(self.app)}", id="reassign-title")
            yield Static(self._team_text(), id="reassign-team")
            yield Input(id="reassign-input", max_length=16, restrict=r"[A-Za-z0-9]*",
                        placeholder=t("reassign.placeholder"))
            yield Label(t("reassign.keys"), id="reassign-keys")

    def refresh_texts(self) -> None:
        self.query_one("#reassign-title", Label).update(f"{t('reassign.title')}{training_tag(self.app)}")
        self.query_one("#reassign-team", Static).update(self._team_text())
        self.query_one("#reassign-input", Input).placeholder = t("reassign.placeholder")
        self.query_one("#reassign-keys", Label).update(t("reassign.keys"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip().upper()
        if value:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TeamActions:
    """The app's side of the team (mixed into SygesikringApp; needs its store, server, today)."""

    store: Any
    server: str | None
    is_training: bool
    _token: str | None
    _last_input: float = 0.0

    # -- who ---------------------------------------------------------------------------
    _caseworker_named: session.SignedIn | None = None

    @property
    def caseworker(self) -> session.SignedIn | None:
        """Who is signed in (the trainee in training); None: nobody."""
        if self._caseworker_named is not None:
            return self._caseworker_named
        if self.store is None:
            return None
        return session.current(self.store)

    @caseworker.setter
    def caseworker(self, initials: str) -> None:
        """Name the caseworker outright (a test; a desk without a server)."""
        self._caseworker_named = session.SignedIn(initials, initials) if initials else None

    @property
    def author(self) -> str:
        """The initials every operation made now is in the name of ("" when nobody)."""
        cw = self.caseworker
        return cw.initials if cw is not None else ""

    @property
    def team_required(self) -> bool:
        """Whether the server's municipality has caseworkers (then every operation must be in
        a signed-in one's name); as last seen, kept in the store for an offline start."""
        if self.store is None or not self.server or self.is_training:
            return False
        return session.team_required(self.store)

    @property
    def read_only(self) -> bool:
        """Connected to a server whose municipality has caseworkers, and nobody signed in:
        the desk only shows."""
        return self.team_required and self.caseworker is None

    def who_text(self) -> str:
        """For the status line: who is signed in (nothing in training: always the trainee)."""
        if self.is_training:
            return ""
        cw = self.caseworker
        if cw is None:
            return t("signin.nobody") if self.team_required else ""
        return t("signin.who", initials=cw.initials)

    # -- sign-in and out -----------------------------------------------------------------
    def start_team(self) -> None:
        """At start: ask for a sign-in when connected and nobody is (the server is asked
        whether its municipality has caseworkers); watch the idle time."""
        app: Any = self
        self._last_input = time.monotonic()
        app.set_interval(IDLE_CHECK, self._idle_check)
        if not self.server or self.is_training:
            return
        if self.read_only:
            app.push_screen(SignInScreen())
        self._probe_team()

    @work(thread=True, group="team-probe", exit_on_error=False)
    def _probe_team(self) -> None:
        from sygesikring_tui.sync import SyncClient

        app: Any = self
        try:
            with SyncClient(self.server or "", self._token or "", timeout=10) as client:
                required = bool(client.caseworkers())
        except Exception as exc:  # noqa: BLE001 - offline: the last known answer stands
            log.info("team not asked (%s)", type(exc).__name__)
            return
        app.call_from_thread(self._team_known, required)

    def _team_known(self, required: bool) -> None:
        app: Any = self
        if required == self.team_required:
            return
        session.set_team_required(self.store, required)
        self.signed_in_changed()
        if self.read_only and not isinstance(app.screen, SignInScreen):
            app.push_screen(SignInScreen())

    def note_input(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = time.monotonic()

    def _idle_check(self) -> None:
        cw = self.caseworker
        if cw is None or self.is_training or not self.server:
            return
        if time.monotonic() - self._last_input >= IDLE_SIGN_OUT:
            log.info("caseworker %s signed out after idle time", cw.initials)
            self.sign_out(idle=True)

    def sign_in_request(self, initials: str, secret: str) -> dict[str, Any]:
        """Ask the server (in a worker thread): the session it gives."""
        from sygesikring_tui.sync import SyncClient

        with SyncClient(self.server or "", self._token or "", timeout=15) as client:
            return client.sign_in(initials, secret)

    def signed_in_changed(self) -> None:
        app: Any = self
        app.refresh_sync_status(force=True)
        for screen in app.screen_stack:
            fn = getattr(screen, "team_changed", None)
            if callable(fn):
                fn()

    def action_sign_out(self) -> None:
        self.sign_out()

    def sign_out(self, idle: bool = False) -> None:
        app: Any = self
        if self.is_training:
            app.notify(t("signin.training"), timeout=3)
            return
        cw = self.caseworker
        if cw is None:
            if self.team_required and not isinstance(app.screen, SignInScreen):
                app.push_screen(SignInScreen())
            return
        session.forget(self.store)
        if cw.session and self.server:
            self._end_session(cw.session)
        log.info("caseworker %s signed out", cw.initials)
        self.signed_in_changed()
        app.notify(t("signin.signed_out_idle" if idle else "signin.signed_out", initials=cw.initials), timeout=4)
        if self.team_required and not isinstance(app.screen, SignInScreen):
            app.push_screen(SignInScreen())

    @work(thread=True, group="sign-out")
    def _end_session(self, token: str) -> None:
        """Tell the server (best effort: offline, the session simply expires)."""
        from sygesikring_tui.sync import SyncClient

        try:
            with SyncClient(self.server or "", self._token or "", timeout=10) as client:
                client.sign_out(token)
        except Exception as exc:  # noqa: BLE001
            log.info("sign-out not told to the server (%s)", type(exc).__name__)

    # -- claiming ------------------------------------------------------------------------
    def _task_here(self) -> tuple[str, Any] | None:
        app: Any = self
        cur = app._current_task()
        if cur is None or cur[1] is None:
            app.notify(t("inbox.no_task_selected"), severity="warning")
            return None
        task = self.store.task(cur[1])
        if task is None:
            app.notify(t("inbox.no_task_selected"), severity="warning")
            return None
        return cur[0], task

    def _may_change(self) -> str | None:
        """The initials to act as, or None (said why) when nobody is signed in."""
        app: Any = self
        who = self.author
        if self.read_only:
            app.notify(t("signin.needed"), severity="warning")
            return None
        return who or ""  # "" : a desk of a municipality without caseworkers

    def _claim_op(self, do: Callable[[], Any], done_key: str, cpr: str, quiet: bool = False, **params: Any) -> bool:
        """Run a claim, release or hand-over; a rule's no is said at once (``quiet``: no word
        when it went through, e.g. the claim a wizard's start makes)."""
        app: Any = self
        try:
            do()
        except Exception as exc:  # noqa: BLE001 - a rule said no: shown at once, nothing written
            from sygesikring_tui.store.db import RuleViolation

            if not isinstance(exc, RuleViolation):
                raise
            app.notify(violation_text(exc), severity="warning", timeout=6)
            return False
        log.info("%s on %s", done_key, mask(cpr))
        if not quiet:
            app.notify(t(done_key, **params), timeout=3)
        self._after_claim_change()
        return True

    def _after_claim_change(self) -> None:
        app: Any = self
        app._reload_inboxes()
        if app.sync_worker is not None:
            app.sync_worker.wake()
        app.refresh_sync_status()

    def action_claim_task(self) -> None:
        here = self._task_here()
        who = self._may_change() if here else None
        if here is None or who is None:
            return
        if not who:
            app: Any = self
            app.notify(t("signin.needed"), severity="warning")
            return
        cpr, task = here
        today = getattr(self, "today")
        self._claim_op(lambda: claims.claim(self.store, cpr, task.id, who, today), "claim.done", cpr)

    def action_release_task(self) -> None:
        here = self._task_here()
        who = self._may_change() if here else None
        if here is None or who is None:
            return
        cpr, task = here
        today = getattr(self, "today")
        self._claim_op(lambda: claims.release(self.store, cpr, task.id, who, today), "claim.released", cpr)

    def action_reassign_task(self) -> None:
        app: Any = self
        here = self._task_here()
        who = self._may_change() if here else None
        if here is None or who is None:
            return
        cpr, task = here
        cw = self.caseworker
        if not (cw is not None and cw.team_lead) and task.assignee != who:
            app.notify(t("rule.task_assign_lead_only"), severity="warning")
            return
        today = getattr(self, "today")

        def chosen(to: str | None) -> None:
            if to:
                self._claim_op(lambda: claims.reassign(self.store, cpr, task.id, to, who, today), "claim.reassigned",
                               cpr, initials=to)

        app.push_screen(ReassignDialog(self.team_members()), chosen)

    def team_members(self) -> list[tuple[str, str]]:
        """The team to give a task to: the training team, or the server's list (when it answers)."""
        if self.is_training:
            from sygesikring_tui.training import TEAM

            return [(i, n) for i, n, _lead in TEAM]
        if not self.server:
            return []
        from sygesikring_tui.sync import SyncClient

        try:
            with SyncClient(self.server, self._token or "", timeout=3) as client:
                return [(c["initials"], c["name"]) for c in client.caseworkers()]
        except Exception as exc:  # noqa: BLE001 - offline: typed initials still work
            log.info("team list not fetched (%s)", type(exc).__name__)
            return []

    def before_wizard(self, cpr: str, task_id: str | None, go: Callable[[], None]) -> None:
        """Starting a wizard on a task: an unclaimed one is claimed first; one someone else
        holds asks first; nobody signed in (connected desk) may not start one."""
        app: Any = self
        if self.read_only:  # nothing is changed in nobody's name
            app.notify(t("signin.needed"), severity="warning")
            return
        if task_id is None:
            go()
            return
        task = self.store.task(task_id)
        who = self.author
        if task is None or not who or task.status.value != "open" or task.assignee == who:
            go()
            return
        if task.assignee is None:
            if self._claim_op(lambda: claims.claim(self.store, cpr, task_id, who, getattr(self, "today")),
                              "claim.done", cpr, quiet=True):
                go()
            return

        def answered(answer: str | None) -> None:
            if answer == "yes":
                go()

        from .confirm import ChoiceDialog

        app.push_screen(ChoiceDialog(lambda: t("claim.others.title"),
                                     lambda: t("claim.others.text", by=task.assignee,
                                               since=since_text(task.claimed_at)),
                                     [("no", lambda: t("claim.others.no")), ("yes", lambda: t("claim.others.yes"))]),
                        answered)
