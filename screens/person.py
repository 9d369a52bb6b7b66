"""The person screen: everything the case store holds about one insured person, in tabs that
fit 80×24, and the wizards that apply, each startable by key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from sygesikring_tui import i18n
from sygesikring_tui.domain.model import CPR_STATUS, GROUPS, PersonState, Sex
from sygesikring_tui.fmt import free_reason, history_text, timestamp_text
from sygesikring_tui.i18n import t

from .sync_view import SyncStatusLine
from .widgets import AppHeader, Guarded, KeyBar, TrainingBanner, due_marker, fmt_bool, fmt_cpr, fmt_date

if TYPE_CHECKING:
    from .app import SygesikringApp

log = logging.getLogger(__name__)

TABS = ("facts", "insurance", "cards", "notes", "tasks", "history", "wizards")


def t_or(key: str, fallback: str) -> str:
    """The translation of ``key`` if there is one, else ``fallback`` (for open-ended codes)."""
    lang = i18n.language()
    if key in i18n.table(lang) or key in i18n.table(i18n.DEFAULT):
        return t(key)
    return fallback


@dataclass(frozen=True)
class WizardEntry:
    wizard_key: str
    workaround_id: str | None
    task_id: str | None
    label: str
    suggested: bool
    draft: Any = None  # the open draft (a Case) of this wizard for this task, if any


def applicable_wizards(state: PersonState, app: SygesikringApp) -> list[WizardEntry]:
    """Wizards suggested by the person's open tasks first, then every catalogue wizard."""
    from sygesikring_tui.releases import live_releases

    cat = app.catalogue
    live = live_releases()
    out: list[WizardEntry] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for task in state.open_tasks():
        # Live releases: a workaround retired by a release in production is not suggested.
        sug = cat.suggest(task.event_code, state, app.today, app.store.provider, live)
        if not sug.wizard:
            continue
        w = cat.workarounds.get(sug.workaround_id) if sug.workaround_id else None
        title = f"{w.id} {w.title()}" if w else sug.wizard
        label = t("person.wizard_for_task", title=title, event=f"{task.event_code} {cat.event_name(task.event_code)}",
                  due=fmt_date(task.due))
        key = (sug.wizard, sug.workaround_id, task.id)
        if key not in seen:
            seen.add(key)
            out.append(WizardEntry(sug.wizard, sug.workaround_id, task.id, label, True,
                                   _draft(app, sug.wizard, state.cpr, task.id, sug.workaround_id)))
    for w in sorted(cat.workarounds.values(), key=lambda w: [int(x) for x in w.id.split(".")]):
        if not w.wizard:
            continue
        key = (w.wizard, w.id, None)
        if key not in seen:
            seen.add(key)
            out.append(WizardEntry(w.wizard, w.id, None, f"{w.id} {w.title()}", False,
                                   _draft(app, w.wizard, state.cpr, None, w.id)))
    return out


def _draft(app: SygesikringApp, wizard_key: str, cpr: str, task_id: str | None, workaround_id: str | None) -> Any:
    """The open draft of this wizard for this person and task (a Case), if any."""
    from sygesikring_tui.domain.wizards import WIZARDS

    from sygesikring_tui.desk import find_draft

    wizard = WIZARDS.get(wizard_key)
    return find_draft(app.store, wizard, cpr, task_id, workaround_id) if wizard is not None else None


def _table(*headers: str) -> Table:
    table = Table(expand=True, box=None, pad_edge=False, show_edge=False, header_style="bold",
                  show_header=bool(headers))
    for h in headers:
        table.add_column(h, overflow="fold")
    return table


def _facts_table(rows: list[tuple[str, str]]) -> Table:
    table = Table(expand=True, box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True, width=20)
    table.add_column(overflow="fold", ratio=1)
    for k, v in rows:
        table.add_row(k, v)
    return table


def _section(title: str, body: RenderableType | None, empty_key: str = "person.none") -> Group:
    head = Text(title, style="bold underline")
    return Group(head, body if body is not None else Text(t(empty_key), style="italic"), Text(""))


class PersonScreen(Guarded, Screen[None]):
    HELP_KEY = "help.person"
    DEFAULT_CSS = """
    PersonScreen #person-summary { height: 1; width: 100%; padding: 0 1; text-style: bold; }
    PersonScreen TabbedContent { height: 1fr; }
    PersonScreen TabPane { padding: 0; }
    PersonScreen VerticalScroll { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    PersonScreen #wizard-list { height: 1fr; border: none; }
    PersonScreen #wizard-attention { height: auto; padding: 0 1; color: $warning; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", show=False, id="person.back"),
        Binding("w", "wizard", show=False, id="person.wizard"),
        *[Binding(str(i + 1), f"tab('{name}')", show=False, id=f"person.tab.{name}") for i, name in enumerate(TABS)],
        Binding("n", "note", show=False, id="person.note"),
        Binding("l", "close_task", show=False, id="person.close_task"),
        Binding("a", "tick_followup", show=False, id="person.tick_followup"),
        Binding("d", "discard_draft", show=False, id="person.discard_draft"),
        Binding("t", "app.claim_task", show=False, id="person.claim"),
        Binding("T", "app.release_task", show=False, id="person.release"),
        Binding("v", "app.reassign_task", show=False, id="person.reassign"),
    ]

    def __init__(self, cpr: str, task_id: str | None = None, tab: str | None = None) -> None:
        super().__init__()
        self.cpr = cpr
        self.task_id = task_id
        self._first_tab = tab
        self.state: PersonState | None = None
        self.wizards: list[WizardEntry] = []
        self._shown = False

    @property
    def sapp(self) -> SygesikringApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield AppHeader("person.title")
        yield TrainingBanner()
        yield Label("", id="person-summary")
        with TabbedContent(id="person-tabs"):
            for i, name in enumerate(TABS):
                with TabPane(f"{i + 1} {t(f'person.tab.{name}')}", id=f"tab-{name}"):
                    if name == "wizards":
                        yield Static("", id="wizard-attention")
                        yield OptionList(id="wizard-list")
                    else:
                        with VerticalScroll(id=f"scroll-{name}"):
                            yield Static("", id=f"body-{name}")
        yield SyncStatusLine(id="sync-status")
        yield KeyBar(self._keys(), id="keybar")

    def _keys(self) -> list[tuple[str, ...]]:
        """The keys that matter now: ``a`` only with an open follow-up, ``d`` only on the
        Wizards tab when the highlighted wizard has a draft."""
        keys = [("1-7", "person.key.tabs"), ("w", "person.key.wizard_short", "person.wizard"),
                ("n", "person.key.note", "person.note"), ("l", "person.key.close", "person.close_task")]
        st = self.state
        drafted = self.is_mounted and self._highlighted_draft() is not None
        if drafted:
            keys.append(("d", "person.key.discard", "person.discard_draft"))
        elif st is not None and any(not f.done for f in st.followups):
            keys.append(("a", "person.key.tick", "person.tick_followup"))
        keys += [("Esc", "ui.back", "person.back"), ("F1", "ui.help", "help")]
        # The tab row shows the numbers already: "1-7" is the first to go when space is short.
        if sum(len(k[0]) + len(t(k[1])) + 6 for k in keys) - 2 > 80:
            keys.pop(0)
        return keys

    def _update_keys(self) -> None:
        if self.is_mounted:
            self.query_one("#keybar", KeyBar).set_keys(self._keys())

    def on_mount(self) -> None:
        self.load()
        if self._first_tab in TABS:
            self.action_tab(self._first_tab)
        else:
            self.query_one("#scroll-facts", VerticalScroll).focus()

    def on_screen_resume(self) -> None:
        if self._shown:
            self.load()  # back from a wizard: it may have changed the person
        self._shown = True

    # -- data ---------------------------------------------------------------------------
    def load(self) -> None:
        self.state = self.sapp.store.load_person(self.cpr)
        self.render_all()

    def refresh_texts(self) -> None:
        tabs = self.query_one(TabbedContent)
        for i, name in enumerate(TABS):
            tabs.get_tab(f"tab-{name}").label = f"{i + 1} {t(f'person.tab.{name}')}"
        self.render_all()

    def render_all(self) -> None:
        summary = self.query_one("#person-summary", Label)
        if self.state is None:
            summary.update(t("person.not_found", cpr=fmt_cpr(self.cpr)))
            for name in TABS[:-1]:
                self.query_one(f"#body-{name}", Static).update("")
            self.wizards = []
            self.query_one("#wizard-list", OptionList).clear_options()
            return
        st = self.state
        today = self.sapp.today
        g = st.current_group(today)
        d = st.current_doctor(today)
        if d is None:
            doctor = t("person.none")
        elif d.status.value == "missing" or not d.practice_name:
            doctor = t_or(f"choice.{d.status.value}", d.status.value)
        else:
            doctor = d.practice_name
        parts = [fmt_cpr(st.cpr), st.person.name,
                 t("person.group_short", group=g.group if g else "–"), t("person.doctor_short", doctor=doctor)]
        if st.open_tasks():
            parts.append(t("person.open_tasks_short", n=len(st.open_tasks())))
        # One line: a long practice name is cut with "…", never mid-word at the edge.
        summary.update(Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"))
        self.query_one("#body-facts", Static).update(self._facts())
        self.query_one("#body-insurance", Static).update(self._insurance())
        self.query_one("#body-cards", Static).update(self._cards())
        self.query_one("#body-notes", Static).update(self._notes())
        self.query_one("#body-tasks", Static).update(self._tasks())
        self.query_one("#body-history", Static).update(self._history())
        self._render_wizards()
        self._update_keys()

    # -- tabs ---------------------------------------------------------------------------
    def _facts(self) -> RenderableType:
        st = self.state
        assert st is not None
        p = st.person
        cat = self.sapp.catalogue
        muni = cat.municipality(p.address.municipality_code)
        muni_text = f"{p.address.municipality_code} {muni.name}" if muni else str(p.address.municipality_code)
        status_name = CPR_STATUS.get(p.cpr_status, "")
        rows = [
            (t("person.cpr"), fmt_cpr(p.cpr)),
            (t("person.name"), p.name),
            (t("person.birth_date"), fmt_date(p.birth_date)),
            (t("person.sex"), t("person.sex.male") if p.sex == Sex.MALE else t("person.sex.female")),
            (t("person.address"), f"{p.address.street}, {p.address.postcode} {p.address.city}"),
            (t("person.municipality"), muni_text),
            (t("person.supplementary"), p.supplementary_address or t("person.none")),
            (t("person.cpr_status"), t("person.cpr_status_value", status=t_or(f"cpr_status.{status_name}",
                                                                           t("cpr_status.other")), code=p.cpr_status)),
            (t("person.luna"), t("person.luna_known") if p.luna_known else t("person.luna_unknown")),
        ]
        if p.name_changed_on:
            rows.append((t("person.name_changed_on"), fmt_date(p.name_changed_on)))
        if p.married_on:
            rows.append((t("person.married_on"), fmt_date(p.married_on)))
        parts: list[RenderableType] = [_facts_table(rows), Text("")]
        rel = None
        if st.relations:
            rel = _table(t("person.rel.kind"), t("person.cpr"), t("person.name"), t("person.since"))
            for r in st.relations:
                rel.add_row(t_or(f"relation.{r.kind.value}", r.kind.value), fmt_cpr(r.other_cpr), r.other_name,
                            fmt_date(r.since))
        parts.append(_section(t("person.relations"), rel))
        addr = None
        if st.addresses:
            addr = _table(t("person.from"), t("person.address"), t("person.municipality"))
            for a in sorted(st.addresses, key=lambda a: a.start, reverse=True):
                sup = f" ({t('person.supplementary_short')})" if a.supplementary else ""
                addr.add_row(fmt_date(a.start), f"{a.address.street}, {a.address.postcode} {a.address.city}{sup}",
                             str(a.address.municipality_code))
        parts.append(_section(t("person.address_history"), addr))
        if st.cpr_changes:
            ch = _table(t("person.old_cpr"), t("person.new_cpr"), t("person.changed_on"))
            for c in st.cpr_changes:
                ch.add_row(fmt_cpr(c.old_cpr), fmt_cpr(c.new_cpr), fmt_date(c.changed_on))
            parts.append(_section(t("person.cpr_changes"), ch))
        return Group(*parts)

    def _insurance(self) -> RenderableType:
        st = self.state
        assert st is not None
        today = self.sapp.today
        order = {"current": 0, "future": 1, "previous": 2}
        groups = None
        if st.groups:
            groups = _table(t("person.group"), t("person.effective"), t("person.end"), t("person.state"),
                            t("person.reason"))
            for g in sorted(st.groups, key=lambda g: (order[g.status(today)], g.effective)):
                name = t_or(f"group.{GROUPS.get(g.group, '')}", "")
                groups.add_row(f"{g.group} {name}".strip(), fmt_date(g.effective), fmt_date(g.end),
                               t(f"person.state.{g.status(today)}"), g.reason)
        doctors = None
        if st.doctors:
            # Stacked blocks, not a table: five facts per choice do not fit 80 columns as columns.
            doctors = Text()
            for d in sorted(st.doctors, key=lambda d: (order[d.state(today)], d.effective)):
                provider = f"{d.provider_number} {d.practice_name}".strip() or "–"
                state = t(f"person.state.{d.state(today)}") + " / " + t_or(f"choice.{d.status.value}", d.status.value)
                if d.provisional_until:
                    state += " " + t("person.provisional_until", date=fmt_date(d.provisional_until))
                doctors.append(f"{provider}", style="bold")
                doctors.append(f"  {state}\n")
                period = f"{t('person.effective')} {fmt_date(d.effective)}"
                if d.end:
                    period += f", {t('person.end').lower()} {fmt_date(d.end)}"
                reason = t_or(f"reason.{d.reason}", d.reason) or "–"
                line = f"  {period} · {t('person.reason')}: {reason} · {t('person.fee')}: {self._fee(d.fee)}"
                if d.forced:
                    rule = t_or(f"force.{d.force_rule}", d.force_rule) if d.force_rule else ""
                    line += " · " + t("person.forced", rule=rule)
                doctors.append(line + "\n")
            doctors.rstrip()
        attention = []
        from sygesikring_tui.domain import rules

        block = rules.blocking_future_switch(st, today)
        if block:
            attention.append(Text(t("person.attention1", group=block.group, date=fmt_date(block.effective)),
                                  style="bold"))
        return Group(*attention, _section(t("person.groups"), groups), _section(t("person.doctors"), doctors))

    @staticmethod
    def _fee(fee: Any) -> str:
        if fee.paid:
            return t("person.fee_paid", amount=fee.amount) + (f" ({fee.reason})" if fee.reason else "")
        if not fee.reason:
            return t("person.fee_free_plain")
        return t("person.fee_free", reason=free_reason(t_or(f"fee_reason.{fee.reason}", fee.reason)))

    def _cards(self) -> RenderableType:
        st = self.state
        assert st is not None
        cards = None
        if st.cards:
            cards = _table(t("person.ordered_on"), t("person.card_status"), t("person.fee"), t("person.reason"))
            for c in sorted(st.cards, key=lambda c: c.ordered_on, reverse=True):
                cards.add_row(fmt_date(c.ordered_on), t_or(f"card.{c.status.value}", c.status.value),
                              self._fee(c.fee), t_or(f"card_reason.{c.reason}", c.reason))
        return _section(t("person.cards"), cards)

    def _notes(self) -> RenderableType:
        st = self.state
        assert st is not None
        notes = None
        if st.notes:
            notes = _table(t("person.created"), t("person.author"), t("person.text"))
            for n in sorted(st.notes, key=lambda n: n.created, reverse=True):
                notes.add_row(timestamp_text(n.created), n.author, n.text)
        fus = None
        if st.followups:
            fus = _table(t("person.created"), t("person.text"), t("person.due"), t("person.done"))
            for f in sorted(st.followups, key=lambda f: (f.done is not None, f.due or date.max)):
                done = t("person.followup_open")
                if f.done:
                    done = t("followup.done_by", date=fmt_date(f.done[:10]), who=f.done_by) if f.done_by \
                        else fmt_date(f.done[:10])
                fus.add_row(fmt_date(f.created[:10]), f.text, fmt_date(f.due), done)
        return Group(_section(t("person.followups"), fus), _section(t("person.notes"), notes))

    def _tasks(self) -> RenderableType:
        st = self.state
        assert st is not None
        cat = self.sapp.catalogue
        today = self.sapp.today
        tasks = None
        from sygesikring_tui.drafts import draft_task_ids

        drafted = draft_task_ids(self.sapp.store) if st.tasks else frozenset()
        if st.tasks:
            tasks = _table(t("inbox.col.due"), t("inbox.col.status"), t("inbox.col.event"), t("inbox.col.workaround"))
            for task in sorted(st.tasks, key=lambda x: (x.status.value != "open", x.due)):
                marker = due_marker(task.due, task.status.value, today)
                status = marker or t(f"status.{task.status.value}")
                if task.closed_reason:
                    status += f" ({task.closed_reason})"
                if task.assignee:
                    status += f" · {task.assignee}"
                if task.id in drafted:
                    status += f" · {t('draft.marker')}"
                if task.id == self.task_id:
                    status = "▶ " + status
                w = cat.workarounds.get(task.workaround_id) if task.workaround_id else None
                tasks.add_row(fmt_date(task.due), status, f"{task.event_code} {cat.event_name(task.event_code)}",
                              f"{w.id} {w.title()}" if w else t("inbox.no_workaround"))
        events = None
        if st.events:
            events = _table(t("person.event_date"), t("person.received"), t("inbox.col.event"))
            for e in sorted(st.events, key=lambda e: e.event_date, reverse=True):
                events.add_row(fmt_date(e.event_date), fmt_date(e.received), f"{e.code} {cat.event_name(e.code)}")
        return Group(_section(t("person.tasks"), tasks), _section(t("person.events"), events))

    def _history(self) -> RenderableType:
        st = self.state
        assert st is not None
        hist = None
        if st.history:
            hist = _table(t("person.at"), t("person.action"))
            cat = self.sapp.catalogue
            for h in sorted(st.history, key=lambda h: h.at, reverse=True):
                hist.add_row(timestamp_text(h.at), history_text(h, st, cat.event_name))
        return _section(t("person.history"), hist)

    def _render_wizards(self) -> None:
        st = self.state
        assert st is not None
        self.wizards = applicable_wizards(st, self.sapp)
        ol = self.query_one("#wizard-list", OptionList)
        ol.clear_options()
        for i, w in enumerate(self.wizards):
            prefix = "★ " if w.suggested else "  "
            marker = f"{t('draft.marker')} " if w.draft is not None else ""
            ol.add_option(Option(f"{prefix}{marker}{w.label}", id=str(i)))
        from sygesikring_tui.releases import live_releases

        live = live_releases()
        notes = []
        for task in st.open_tasks():
            sug = self.sapp.catalogue.suggest(task.event_code, st, self.sapp.today, self.sapp.store.provider, live)
            if sug.attention:
                ap = self.sapp.catalogue.attention_points.get(sug.attention)
                notes.append(f"! {ap.title() if ap else sug.attention}")
        head = t("person.wizards_intro") if self.wizards else t("person.no_wizards")
        self.query_one("#wizard-attention", Static).update("\n".join([head, *notes]))
        if self.wizards:
            ol.highlighted = 0

    # -- actions ------------------------------------------------------------------------
    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{name}"
        target = "#wizard-list" if name == "wizards" else f"#scroll-{name}"
        self.query_one(target).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "wizard-list":
            self.start(self.wizards[int(event.option.id or 0)])

    def action_wizard(self) -> None:
        """Start the wizard highlighted on the wizards tab, else the first suggested one."""
        if not self.wizards:
            self.notify(t("person.no_wizards"), severity="warning")
            return
        tabs = self.query_one(TabbedContent)
        ol = self.query_one("#wizard-list", OptionList)
        entry = self.wizards[ol.highlighted or 0] if tabs.active == "tab-wizards" else self.suggested_entry()
        if entry is None:
            self.action_tab("wizards")
            return
        self.start(entry)

    def suggested_entry(self) -> WizardEntry | None:
        """The suggested wizard for the task we came from, else the first suggestion."""
        sug = [w for w in self.wizards if w.suggested]
        return next((w for w in sug if w.task_id == self.task_id), sug[0] if sug else None)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "wizard-list":
            self._update_keys()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._update_keys()

    def help_text(self) -> str:
        """On a person with an open task the guide has no wizard for: what the guide says."""
        from .task_close import task_guide_text

        st = self.state
        tasks = [x for x in st.open_tasks() if x.id == self.task_id] if st is not None else []
        if st is not None and not tasks:
            tasks = st.open_tasks()
        guides = [g for g in (task_guide_text(self.sapp, self.cpr, x.id) for x in tasks[:3]) if g]
        return "\n\n".join([*guides, t(self.HELP_KEY), t("help.person.daily")])

    def _highlighted_draft(self) -> WizardEntry | None:
        if self.query_one(TabbedContent).active != "tab-wizards":
            return None
        ol = self.query_one("#wizard-list", OptionList)
        if ol.highlighted is None or not 0 <= ol.highlighted < len(self.wizards):
            return None
        entry = self.wizards[ol.highlighted]
        return entry if entry.draft is not None else None

    def action_note(self) -> None:
        """Write a free-text note on the person (a ``note_add`` operation)."""
        from .person_actions import note_flow

        note_flow(self.sapp, self.cpr, self.task_id)

    def action_close_task(self) -> None:
        """Close one of the person's open tasks with a reason (the one we came from first)."""
        from .task_close import close_task_flow

        close_task_flow(self.sapp, self.cpr, self.task_id, choose=True)

    def action_tick_followup(self) -> None:
        from .followups import person_open_followups, tick_flow

        tick_flow(self.sapp, self.cpr, person_open_followups(self.sapp, self.cpr))

    def action_discard_draft(self) -> None:
        """Discard the highlighted wizard's draft (Wizards tab), or the drafts of the task we
        came from, after a confirmation."""
        from .drafts import discard_flow

        entry = self._highlighted_draft()
        if entry is not None:
            cases = [entry.draft]
        else:
            cases = [w.draft for w in self.wizards if w.draft is not None and
                     (w.task_id == self.task_id or self.task_id is None)]
        discard_flow(self.sapp, list({c.id: c for c in cases}.values()), self.load)

    def start(self, entry: WizardEntry) -> None:
        self.sapp.launch(cpr=self.cpr, task_id=entry.task_id, wizard_key=entry.wizard_key,
                         workaround_id=entry.workaround_id)
