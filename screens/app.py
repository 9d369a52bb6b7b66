"""The Textual application: one App class, a ``make_app`` factory the tests call, and
``run_app`` for the command line.

- The store is opened exclusively; a :class:`StoreError` is a clear message naming the file
  (``run_app`` prints it and returns 2 without starting the UI; the app shows it in place of
  the inbox). Nothing is written to a store that cannot be opened.
- No traceback ever reaches the screen: an exception in an action or a handler is logged
  (CPR numbers masked by ``sygesikring_tui.logs``) and the caseworker sees ``error.unexpected``.
  Committed work is in the store already (one transaction per wizard commit).
- ``today`` freezes the clock: everything date-dependent in the UI uses ``app.today``.
- With ``server`` and ``token`` the app syncs with a sygesikring-server: a
  :class:`sygesikring_tui.sync.SyncWorker` runs in a thread worker (its own store
  connection), is woken after every committed wizard and stopped on exit. A training store
  never starts it (the status line says so). Conflicts and rejected operations are listed on
  :class:`screens.sync_view.ConflictScreen` (key ``c`` in the inbox).
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette, Hit, Hits
from textual.screen import ModalScreen, Screen
from textual.system_commands import SystemCommandsProvider

from sygesikring_tui import i18n
from sygesikring_tui.catalogue import Catalogue, load_catalogue
from sygesikring_tui.domain.cpr import mask
from sygesikring_tui.i18n import t
from sygesikring_tui.logs import MaskCprFilter, mask_text
from sygesikring_tui.store import Store, StoreError, open_store

from .dialogs import MessageDialog, StoreErrorScreen, TooSmallScreen
from .help import HelpScreen, help_key_for, help_text_for
from .sync_view import ConflictLine, SyncStatusLine
from .team import SIGN_OUT_KEY, TeamActions
from .widgets import AppHeader, Guarded, TrainingBanner, refresh_all_texts

if TYPE_CHECKING:
    from sygesikring_tui.desk import DeskSession

log = logging.getLogger(__name__)

SYNC_POLL = 1.0  # seconds between status line refreshes (the worker's rounds are picked up here)

MIN_WIDTH = 80
MIN_HEIGHT = 24


def store_error_message(exc: StoreError) -> str:
    from sygesikring_tui.cli import store_error_text

    return store_error_text(exc)


def log_file() -> str:
    """The path of the log file the app writes to (where the caseworker's IT finds details)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and any(isinstance(f, MaskCprFilter) for f in handler.filters):
            return handler.baseFilename
    from sygesikring_tui.logs import log_path

    return str(log_path())  # where logs.setup writes (never a bare placeholder in the message)


class DeskCommands(SystemCommandsProvider):
    """The palette's commands (:meth:`SygesikringApp.get_system_commands`); a search that
    matches none of them says so in the UI language (one inert line) instead of Textual's
    English "No matches found"."""

    async def search(self, query: str) -> Hits:
        found = False
        async for hit in super().search(query):
            found = True
            yield hit
        if not found and query.strip():
            yield Hit(1.0, t("palette.no_match", query=query.strip()), lambda: None, text=query,
                      help=t("palette.no_match.help"))


class SygesikringApp(Guarded, TeamActions, App[int]):
    """The desk app. Build it with :func:`make_app`."""

    CSS_PATH = "styles.tcss"
    TITLE = "Sygesikring"
    COMMANDS = {DeskCommands}
    BINDINGS = [
        Binding("f1", "help", show=False, id="help"),
        Binding("ctrl+q", "quit", show=False, priority=True, id="quit"),
        Binding("ctrl+l", "toggle_language", show=False, priority=True, id="language"),
        # (ctrl+o is the inbox's "all statuses")
        Binding(SIGN_OUT_KEY, "sign_out", show=False, priority=True, id="sign_out"),
    ]

    def __init__(self, store_path: Path | str, *, today: date | None = None, lang: str | None = None,
                 store: Store | None = None, catalogue: Catalogue | None = None,
                 cursor_blink: bool | None = None, server: str | None = None, token: str | None = None,
                 sync_interval: float = 5.0) -> None:
        super().__init__()
        self.store_path = Path(store_path)
        self._today = today
        if lang:
            i18n.set_language(lang)
        self.catalogue = catalogue or load_catalogue()
        self.cursor_blink = (today is None) if cursor_blink is None else cursor_blink
        if today is not None:
            self.animation_level = "none"
        self.store_error: StoreError | None = None
        self.store: Store = store  # type: ignore[assignment]
        self._own_store = store is None
        if store is None:
            try:
                self.store = open_store(self.store_path, create=False, exclusive=True)
            except StoreError as exc:
                self.store_error = exc
                log.warning("store refused: %s", exc.code)
        self.is_training = bool(self.store is not None and self.store.is_training)
        # -- sync (see module doc) --
        self.server = server or None
        self._token = token
        self.sync_interval = sync_interval
        self.sync_worker: Any = None  # sygesikring_tui.sync.SyncWorker while running
        self.sync_status: Any = None  # the last SyncStatus shown
        # The status line is shown when a server was given, or the desk store has synced before
        # (then it says "Ingen server" and still counts what waits and what was refused).
        self.sync_visible = bool(self.server) or self._has_synced()
        self._sync_dirty = False  # set by the worker's thread after a round
        self._sync_data_key: tuple[int, int, int] | None = None  # (cursor, conflicts, rejected) last shown
        self._redo: dict[str, list[str]] = {}  # cpr -> op_ids of the case whose wizard is being redone
        self.error_count = 0
        self._too_small = False
        self.keymap: dict[str, str] = {}  # binding id -> keys, from the keymap file (on mount)
        self._session: DeskSession | None = None
        self.title = self._title()

    @property
    def session(self) -> DeskSession:
        """What the screens suggest, open and commit a case with (no Textual in it); made on
        first use, after the inbox's first frame. Operations are in the name of whoever is
        signed in at the moment of the commit."""
        if self._session is None:
            from sygesikring_tui.desk import DeskSession

            self._session = DeskSession(self.store, self.catalogue, lambda: self.today, caseworker=lambda: self.author)
        return self._session

    # -- clock, title ------------------------------------------------------------------
    @property
    def today(self) -> date:
        return self._today or date.today()

    def _title(self) -> str:
        return f"{t('app.training')} – {t('app.title')}" if self.is_training else t("app.title")

    # -- screens -----------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        if self.store_error is not None:
            error = self.store_error
            return StoreErrorScreen(lambda: store_error_message(error))
        from .inbox import InboxScreen

        return InboxScreen()

    def on_mount(self) -> None:
        from .keys import apply_user_keymap

        self.keymap = apply_user_keymap(self)  # the caseworker's keymap file, if any
        self._check_size(self.size.width, self.size.height)
        self.screen_change_signal.subscribe(self, self._on_screen_change)
        self._on_screen_change(self.screen)
        if self.store_error is None:
            self.refresh_sync_status()
            self.start_sync()
            self.set_interval(SYNC_POLL, self._sync_tick)
            self.start_team()

    async def on_event(self, event: events.Event) -> None:
        self.note_input(event)  # the idle sign-out counts from the last key
        await super().on_event(event)

    # -- sync with the server ----------------------------------------------------------
    def _has_synced(self) -> bool:
        if self.store is None or self.is_training:
            return False
        from sygesikring_tui.store import sync_state

        return sync_state.get(self.store, sync_state.CURSOR) is not None

    def start_sync(self) -> bool:
        """Start the background sync worker (when a server and a token were given). Never on
        a training store: the core would refuse too, but the desk does not even try."""
        if not self.server or self.store is None or self.sync_worker is not None:
            return False
        if self.is_training:
            log.warning("training store: not syncing with %s", self.server)
            return False
        if not self._token:
            log.warning("no token: not syncing with %s", self.server)
            return False
        from sygesikring_tui.sync import SyncWorker

        self.sync_worker = SyncWorker(self.store_path, self.server, self._token, interval=self.sync_interval,
                                      on_status=self._on_sync_round)
        self.run_worker(self.sync_worker.run, thread=True, exclusive=True, group="sync", name="sync",
                        exit_on_error=False)
        log.info("sync worker started for %s", self.server)
        return True

    def stop_sync(self) -> None:
        if self.sync_worker is not None:
            self.sync_worker.stop()
            log.info("sync worker stopped")

    def _on_sync_round(self, status: Any) -> None:
        """Called in the worker's thread after every round: only flag it (never block on the
        UI thread); :meth:`_sync_tick` picks it up."""
        self._sync_dirty = True

    def _sync_tick(self) -> None:
        if self._sync_dirty:
            self._sync_dirty = False
            self.refresh_sync_status()
            # Every round writes the sync state (online, last sync), which would look like a
            # store change to the inbox; reload only when tasks may have changed: the pull
            # cursor moved (pulled persons) or a refused operation installed the server's state.
            from sygesikring_tui.store import sync_state

            st = self.sync_status
            key = (sync_state.cursor(self.store), st.conflicts, st.rejected)
            if key != self._sync_data_key:
                self._sync_data_key = key
                self._reload_inboxes()
        elif self.sync_visible:
            self.refresh_sync_status()  # the age of the oldest waiting operation moves on

    def refresh_sync_status(self, force: bool = False) -> None:
        """Read the sync state from the store and repaint the status and conflict lines
        (``force``: also when it is unchanged, e.g. someone signed in)."""
        if self.store is None:
            return
        from sygesikring_tui.store import sync_state  # not .sync (httpx): training never syncs

        st = sync_state.status(self.store)
        changed = st != self.sync_status
        self.sync_status = st
        if not changed and not force:
            return
        for screen in self.screen_stack:
            for w in screen.query(SyncStatusLine):
                w.refresh()
            for c in screen.query(ConflictLine):
                c.refresh_texts()

    def _reload_inboxes(self) -> None:
        """Pulled changes: the inbox re-reads; a person screen on top shows the new state."""
        from .inbox import InboxScreen
        from .person import PersonScreen

        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen) and screen.is_mounted:
                lst = screen.inbox_list
                if lst.is_mounted:
                    lst.reload_if_changed()
        if isinstance(self.screen, PersonScreen) and self.screen.is_mounted:
            self.screen.load()

    def on_wizard_committed(self, message: Any) -> None:
        """A wizard's case is in the store: push it now; a redone conflict is settled."""
        from sygesikring_tui.store import sync_state

        for op_id in self._redo.pop(message.cpr, []):
            try:
                sync_state.resolve(self.store, op_id, "redo", t("sync.redo_note", case=message.case_id))
                log.info("conflict %s settled by redoing the wizard (case %s)", op_id, message.case_id)
            except KeyError:
                log.info("conflict %s was settled already", op_id)
        self.refresh_sync_status()  # "1 venter" first, then the worker is woken to push it
        if self.sync_worker is not None:
            self.sync_worker.wake()

    def open_conflicts(self) -> None:
        from .sync_view import ConflictScreen

        if not isinstance(self.screen, ConflictScreen):
            self.push_screen(ConflictScreen())

    def action_open_report(self) -> None:
        """The fault-cost report (R in the inbox, or the palette)."""
        from .report import open_report

        open_report(self)

    def redo_conflict(self, item: Any) -> None:
        """Rerun the wizard that made a refused operation, on the fresh (server's) data. When
        that wizard commits, every refused operation of the same case is marked resolved
        ("redo"): the new case replaces the whole old one. Cancelling the wizard leaves the
        conflicts in place."""
        from sygesikring_tui.store import sync_state

        from .sync_view import wizard_for

        key, wid = wizard_for(item, self)
        if not key:
            self.notify(t("sync.redo_no_wizard"), severity="warning")
            return
        same_case = [c.op_id for c in sync_state.conflicts(self.store, item.cpr)
                     if item.case_id is not None and c.case_id == item.case_id]
        self._redo[item.cpr] = same_case or [item.op_id]
        self.launch(cpr=item.cpr, task_id=item.task_id, wizard_key=key, workaround_id=wid)

    def drop_conflict(self, item: Any, note: str) -> None:
        from sygesikring_tui.store import sync_state

        sync_state.resolve(self.store, item.op_id, "drop", note)
        log.info("conflict %s on %s dropped with a note", item.op_id, mask(item.cpr))
        self.notify(t("sync.dropped"))
        self.refresh_sync_status()

    def _on_screen_change(self, screen: Screen) -> None:
        """Training mode: every full screen shows TRÆNING in text. Screens of this package
        carry an AppHeader/TrainingBanner; any other screen (e.g. a wizard) gets a banner
        line mounted at its top. Modal dialogs keep the screen under them (and its banner)
        visible and name TRÆNING in their title."""
        if not self.is_training or isinstance(screen, (ModalScreen, TooSmallScreen)):
            return
        if screen.query(TrainingBanner) or screen.query(AppHeader):
            return
        if screen.children:
            screen.mount(TrainingBanner(classes="-added"), before=0)

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        if small and not self._too_small:
            self._too_small = True
            self.push_screen(TooSmallScreen())
        elif not small and self._too_small:
            self._too_small = False
            if isinstance(self.screen, TooSmallScreen):
                self.pop_screen()

    def settled(self) -> None:
        """The long-lived objects are in place (screens, catalogue, the inbox index): move
        them out of the cyclic garbage collector's way. A full collection otherwise walks
        every one of them, a 50-100 ms pause that lands in the middle of typing. Frozen
        objects are still freed by reference counting; only cycles among them would stay."""
        gc.freeze()

    @property
    def too_small(self) -> bool:
        return self._too_small

    def on_unmount(self) -> None:
        self.stop_sync()
        if self._own_store and self.store is not None:
            self.store.close()

    # -- errors ------------------------------------------------------------------------
    def report_error(self, exc: BaseException) -> None:
        """An unexpected exception: log it (masked) and tell the caseworker briefly."""
        self.error_count += 1
        log.error("unexpected error: %s", mask_text(f"{type(exc).__name__}: {exc}"),
                  exc_info=(type(exc), exc, exc.__traceback__))
        try:
            if not isinstance(self.screen, MessageDialog):
                self.push_screen(MessageDialog(lambda: t("error.title"), lambda: t("error.unexpected", log=log_file())))
        except Exception:  # noqa: BLE001 - never let reporting raise
            log.exception("could not show the error message")

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        try:
            return await super()._dispatch_action(namespace, action_name, params)
        except Exception as exc:  # noqa: BLE001 - a key press must never end the app
            self.report_error(exc)
            return True

    def _handle_exception(self, error: Exception) -> None:
        """Last line of defence (an error outside any guarded handler): log it and end with a
        short message instead of Textual's traceback."""
        log.critical("fatal error: %s", mask_text(f"{type(error).__name__}: {error}"),
                     exc_info=(type(error), error, error.__traceback__))
        self._return_code = 1
        if self._exception is None:  # run_test re-raises it, so tests still see the bug
            self._exception = error
            self._exception_event.set()
        self.panic(Text(t("error.fatal", log=log_file())))

    # -- actions -----------------------------------------------------------------------
    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            screen.dismiss(None)
            return
        if isinstance(screen, TooSmallScreen):
            return
        def texts() -> tuple[str, str]:
            return t(getattr(screen, "TITLE_KEY", None) or help_key_for(screen) + ".title"), help_text_for(screen)

        self.push_screen(HelpScreen(*texts(), texts=texts))

    def action_command_palette(self) -> None:
        """The command palette, its placeholder in the UI language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=t("palette.placeholder")))

    def action_toggle_language(self) -> None:
        self.set_language("en" if i18n.language() == "da" else "da")

    def set_language(self, lang: str) -> None:
        i18n.set_language(lang)
        self.title = self._title()
        for screen in self.screen_stack:
            refresh_all_texts(screen)
        if isinstance(self.screen, CommandPalette):
            # The palette's list was read in the old language: open it afresh in the new one.
            async def reopen() -> None:
                await self.pop_screen()
                self.action_command_palette()

            self.call_later(reopen)
        self.notify(t("ui.language_set"), timeout=2)

    def action_open_inbox(self) -> None:
        from .inbox import InboxScreen

        while len(self.screen_stack) > 1 and not isinstance(self.screen, InboxScreen):
            self.pop_screen()

    def launch(self, *, cpr: str, task_id: str | None, wizard_key: str, workaround_id: str | None,
               state: Any = None) -> None:
        """Start a wizard (the wizard engine owns the screens); ``state``: the person, if read.
        On a task, claim it first or ask when someone else holds it (:meth:`before_wizard`)."""

        def go() -> None:
            # a claim made just now changed the person: the wizard reads it afresh
            fresh = state is None or self.store.conn.execute(
                "SELECT version FROM persons WHERE cpr = ?", (cpr,)).fetchone() == (state.version,)
            self._launch_now(cpr=cpr, task_id=task_id, wizard_key=wizard_key, workaround_id=workaround_id,
                             state=state if fresh else None)

        self.before_wizard(cpr, task_id, go)

    def _launch_now(self, *, cpr: str, task_id: str | None, wizard_key: str, workaround_id: str | None,
                    state: Any = None) -> None:
        try:
            from screens.wizards import launch_wizard
        except ImportError:
            self.notify(t("ui.wizards_missing"), severity="warning")
            return
        log.info("start wizard %s for %s", wizard_key, mask(cpr))

        def resume() -> None:
            launch_wizard(self, cpr=cpr, task_id=task_id, wizard_key=wizard_key, workaround_id=workaround_id,
                          state=state)

        from sygesikring_tui.desk import find_draft
        from sygesikring_tui.domain.wizards import WIZARDS

        wizard = WIZARDS.get(wizard_key)
        draft = find_draft(self.store, wizard, cpr, task_id, workaround_id) if wizard is not None else None
        if draft is None:
            resume()
            return
        from .drafts import check_before_resume

        check_before_resume(self, draft, resume)

    def start_suggested_wizard(self, cpr: str, task_id: str | None) -> None:
        """Start the wizard the catalogue suggests for the task (or say there is none); the
        person is read once, here, and handed on to the wizard."""
        sug = self.session.suggest(cpr, task_id)
        if sug is None:
            self.notify(t("inbox.no_task_selected"), severity="warning")
            return
        if not sug.wizard_key:
            self.notify(t("close.no_wizard_hint", event=sug.task.event_code), severity="warning")
            return
        self.launch(cpr=cpr, task_id=task_id, wizard_key=sug.wizard_key, workaround_id=sug.workaround_id,
                    state=sug.state)

    def _current_task(self) -> tuple[str, str | None] | None:
        """The (cpr, task id) the caseworker is looking at, if any."""
        from .inbox import InboxScreen
        from .person import PersonScreen

        screen = self.screen
        if isinstance(screen, InboxScreen):
            row = screen.inbox_list.selected
            return (row["cpr"], row["id"]) if row else None
        if isinstance(screen, PersonScreen):
            entry = screen.suggested_entry()
            return (screen.cpr, entry.task_id if entry else screen.task_id)
        return None

    def action_suggested_wizard(self) -> None:
        from .person import PersonScreen

        if isinstance(self.screen, PersonScreen):
            self.screen.action_wizard()
            return
        cur = self._current_task()
        if cur is None:
            self.notify(t("inbox.no_task_selected"), severity="warning")
            return
        self.start_suggested_wizard(*cur)

    def action_close_task(self) -> None:
        """Close the task the caseworker is looking at with a reason (no wizard)."""
        from .person import PersonScreen

        if isinstance(self.screen, PersonScreen):
            self.screen.action_close_task()
            return
        cur = self._current_task()
        if cur is None:
            self.notify(t("inbox.no_task_selected"), severity="warning")
            return
        from .task_close import close_task_flow

        close_task_flow(self, *cur)

    def action_followups(self) -> None:
        """Every open follow-up across persons."""
        from .followups import FollowupsScreen

        if not isinstance(self.screen, FollowupsScreen):
            self.push_screen(FollowupsScreen())

    def action_find_person(self) -> None:
        """Ask for a CPR number and open that person (any person of the store)."""
        from .find_person import FindPersonDialog
        from .person import PersonScreen

        def opened(number: str | None) -> None:
            if number:
                self.push_screen(PersonScreen(number))

        self.push_screen(FindPersonDialog(), opened)

    # -- command palette ---------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from .inbox import InboxScreen

        yield SystemCommand(t("cmd.inbox"), t("cmd.inbox.help"), self.action_open_inbox)
        yield SystemCommand(t("cmd.find_person"), t("cmd.find_person.help"), self.action_find_person)
        if isinstance(screen, InboxScreen):
            yield SystemCommand(t("cmd.open_person"), t("cmd.open_person.help"), screen.inbox_list.action_select)
            yield SystemCommand(t("cmd.search"), t("cmd.search.help"), screen.action_focus_search)
            yield SystemCommand(t("cmd.filter"), t("cmd.filter.help"), screen.action_filter)
            yield SystemCommand(t("cmd.clear_filters"), t("cmd.clear_filters.help"), screen.action_clear_filters)
        if self._current_task() is not None:
            yield SystemCommand(t("cmd.wizard"), t("cmd.wizard.help"), self.action_suggested_wizard)
            yield SystemCommand(t("cmd.close_task"), t("cmd.close_task.help"), self.action_close_task)
            yield SystemCommand(t("cmd.claim"), t("cmd.claim.help"), self.action_claim_task)
            yield SystemCommand(t("cmd.release"), t("cmd.release.help"), self.action_release_task)
            yield SystemCommand(t("cmd.reassign"), t("cmd.reassign.help"), self.action_reassign_task)
        yield SystemCommand(t("cmd.followups"), t("cmd.followups.help"), self.action_followups)
        if self.server and not self.is_training:
            yield SystemCommand(t("cmd.sign_out"), t("cmd.sign_out.help"), self.action_sign_out)
        st = self.sync_status
        if st is not None and (st.conflicts or st.rejected):
            yield SystemCommand(t("cmd.conflicts"), t("cmd.conflicts.help"), self.open_conflicts)
        yield SystemCommand(t("cmd.report"), t("cmd.report.help"), self.action_open_report)
        yield SystemCommand(t("cmd.help"), t("cmd.help.help"), self.action_help)
        yield from self.release_commands()
        yield SystemCommand(t("cmd.lang_da"), t("cmd.lang_da.help"), lambda: self.set_language("da"))
        yield SystemCommand(t("cmd.lang_en"), t("cmd.lang_en.help"), lambda: self.set_language("en"))
        yield SystemCommand(t("cmd.quit"), t("cmd.quit.help"), self.action_quit)

    # -- retirement by release (sygesikring_tui.releases) -------------------------------
    def release_commands(self) -> Iterable[SystemCommand]:
        """Palette: mark each planned release as in production, or undo a live one."""
        from sygesikring_tui.releases import known_releases, live_releases

        live = live_releases()
        for rel in known_releases(self.catalogue):
            if rel in live:
                yield SystemCommand(t("cmd.release_undo", release=rel), t("cmd.release_undo.help", release=rel),
                                    lambda rel=rel: self.set_release_live(rel, False))
            else:
                yield SystemCommand(t("cmd.release_live", release=rel), t("cmd.release_live.help", release=rel),
                                    lambda rel=rel: self.confirm_release_live(rel))

    def confirm_release_live(self, release: str) -> None:
        """Say which workarounds stop being suggested and for how many open tasks, then mark
        the release live only if the caseworker says so (undo stays in the palette)."""
        from sygesikring_tui.releases import impact

        from .confirm import confirm

        found = impact(self.store, self.catalogue, release, self.today)

        def text() -> str:
            return t("release.confirm.text", release=release, sections=", ".join(found.sections), n=found.tasks)

        def answered(answer: str | None) -> None:
            if answer == "yes":
                self.set_release_live(release, True)

        self.push_screen(confirm(lambda: t("release.confirm.title", release=release), text, "release.confirm.yes"),
                         answered)

    def set_release_live(self, release: str, live: bool) -> None:
        """Mark ``release`` live (or undo), re-suggest the open tasks, refresh the inbox."""
        from sygesikring_tui.releases import resuggest, set_live

        from .inbox import InboxScreen

        now_live = set_live(release, live, self.catalogue)
        changed = resuggest(self.store, self.catalogue, now_live, self.today)
        sections = ", ".join(w.id for w in self.catalogue.workarounds.values() if w.release == release) or "-"
        log.info("release %s %s; %d tasks re-suggested", release, "live" if live else "undone", changed)
        self.notify(t("release.live" if live else "release.undone", release=release, sections=sections))
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.inbox_list.reload()


def make_app(store_path: Path | str, *, today: date | None = None, lang: str | None = None,
             store: Store | None = None, catalogue: Catalogue | None = None,
             cursor_blink: bool | None = None, server: str | None = None, token: str | None = None,
             sync_interval: float = 5.0) -> SygesikringApp:
    """Build the app. ``today`` freezes the clock (and turns off cursor blink) for tests.
    ``server`` and ``token``: sync with that sygesikring-server in the background."""
    return SygesikringApp(store_path, today=today, lang=lang, store=store, catalogue=catalogue,
                          cursor_blink=cursor_blink, server=server, token=token, sync_interval=sync_interval)


def run_app(store_path: Path | str, *, lang: str | None = None, server: str | None = None,
            token: str | None = None) -> int:
    """Run the desk app on ``store_path``; the exit code (2: the store cannot be used).
    With ``server`` and ``token`` it syncs with that server (never a training store)."""
    if lang:
        i18n.set_language(lang)
    try:
        store = open_store(Path(store_path), create=False, exclusive=True)
    except StoreError as exc:
        log.warning("store refused: %s", exc.code)
        print(store_error_message(exc), file=sys.stderr)
        return 2
    try:
        app = make_app(store_path, store=store, server=server, token=token)
        code = app.run()
    finally:
        store.close()
    return int(code or (app.return_code or 0))
