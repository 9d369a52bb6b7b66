"""Follow-ups are ticked off with a date and a caseworker, and listed across persons with
the due ones marked in text; `n` writes a note on the person. Each is an operation through
the store (outbox, history), made by real key presses."""

from __future__ import annotations


from screens.app import make_app
from screens.followups import FollowupsScreen, TickFollowupDialog
from screens.person import PersonScreen
from screens.person_actions import PersonNoteDialog
from sygesikring_tui.domain.operations import PlannedOp
from sygesikring_tui.store import open_store
from sygesikring_tui.store.followups import OPEN_FOLLOWUPS_SQL, open_followups, tick_problems
from sygesikring_tui.store.quick import commit_quick
from tests.conftest import TODAY
from tests.desk_kit import DESK_FIXTURES, SIZE, first_open_task, screen_text, settle

pytestmark = DESK_FIXTURES


def add_followups(path, cpr: str, *items: tuple[str, str | None]) -> None:
    with open_store(path) as s:
        for text, due in items:
            payload = {"text": text, **({"due": due} if due else {})}
            commit_quick(s, "test", cpr, None, [PlannedOp(cpr, "followup_add", payload)], TODAY)


def person_with_a_due_followup(path) -> str:
    """The CPR number of the first open task's person, given the follow-up "Ring til lægen"
    due 20-11-2026 (before TODAY)."""
    with open_store(path) as s:
        _tid, cpr = first_open_task(s)
    add_followups(path, cpr, ("Ring til lægen", "2026-11-20"))
    return cpr


def test_open_followups_lists_every_persons_open_ones_due_first(training_store):
    with open_store(training_store) as s:
        (a, _), (b, _) = s.conn.execute("SELECT cpr, 1 FROM persons ORDER BY cpr LIMIT 2").fetchall()
    add_followups(training_store, a, ("Ring til lægen", "2026-11-20"), ("Uden frist", None))
    add_followups(training_store, b, ("Send brev", "2026-12-20"))
    with open_store(training_store) as s:
        found = open_followups(s.conn)
        assert [(f.cpr, f.text) for f in found] == [(a, "Ring til lægen"), (b, "Send brev"), (a, "Uden frist")]
        assert [f.is_due(TODAY) for f in found] == [True, False, False]


def test_open_followups_reads_only_persons_that_have_some_through_the_partial_index(training_store):
    with open_store(training_store) as s:
        (a, _), (b, _) = s.conn.execute("SELECT cpr, 1 FROM persons ORDER BY cpr LIMIT 2").fetchall()
    add_followups(training_store, a, ("Ring til lægen", "2026-11-20"))
    add_followups(training_store, b, ("Send brev", None))
    with open_store(training_store) as s:
        plan = " ".join(str(r[3]) for r in s.conn.execute("EXPLAIN QUERY PLAN " + OPEN_FOLLOWUPS_SQL))
        assert "USING INDEX persons_with_followups" in plan
        # a person whose follow-ups list is empty is not in the index at all
        n_indexed = s.conn.execute(
            "SELECT count(*) FROM persons INDEXED BY persons_with_followups "
            "WHERE instr(doc, '\"followups\":[{') > 0").fetchone()[0]
        n_with = sum(1 for (doc,) in s.conn.execute("SELECT doc FROM persons") if '"followups":[{' in doc)
        assert n_indexed == n_with >= 2


def test_a_tick_date_must_be_a_date_not_after_today_and_needs_a_caseworker():
    assert tick_problems("25-11-2026", "sb", TODAY) == {}
    assert tick_problems("2026-11-24", "sb", TODAY) == {}
    assert tick_problems("26-11-2026", "sb", TODAY) == {"date": "followup.error.future"}
    assert tick_problems("32-11-2026", " ", TODAY) == {"date": "date.invalid",
                                                       "caseworker": "followup.error.caseworker"}


async def test_the_followups_view_marks_due_ones_in_text_and_a_tick_in_the_signed_in_name_removes_it(training_store):
    with open_store(training_store) as s:
        _tid, cpr = first_open_task(s)
    add_followups(training_store, cpr, ("Ring til lægen", "2026-11-20"), ("Send brev", "2026-12-20"))
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)  # (read in a thread)
        assert isinstance(app.screen, FollowupsScreen)
        text = screen_text(app)
        assert "2 åbne opfølgninger · 1 forfalden" in text
        line = next(x for x in text.splitlines() if "Ring til lægen" in x)
        assert "OVERSKREDET" in line and "20-11-2026" in line
        assert "OVERSKREDET" not in next(x for x in text.splitlines() if "Send brev" in x)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TickFollowupDialog)
        date_field = app.screen.query_one("#tick-date")
        assert date_field.value == "25-11-2026"
        assert app.screen.focused is date_field  # one follow-up: straight to its date
        date_field.value = ""
        await pilot.press(*"24-11-2026")
        signed_in = app.author
        assert signed_in and signed_in in screen_text(app)  # who ticks it: shown, not typed
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FollowupsScreen)
        assert "Ring til lægen" not in screen_text(app)
        fu = next(f for f in app.store.load_person(cpr).followups if f.text == "Ring til lægen")
        assert (fu.done, fu.done_by) == ("2026-11-24", signed_in)
        assert app.store.outbox()[-1]["payload"]["author"] == signed_in
        assert app.store.outbox()[-1]["kind"] == "followup_done"
    assert app.error_count == 0


async def test_a_tick_date_after_today_is_refused_beside_the_date_field(training_store):
    cpr = person_with_a_due_followup(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(PersonScreen(cpr))
        await pilot.pause()
        assert "a  Afkryds" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TickFollowupDialog)
        app.screen.query_one("#tick-date").value = ""
        await pilot.press(*"01-12-2026", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TickFollowupDialog)
        lines = screen_text(app).splitlines()
        at = next(i for i, x in enumerate(lines) if "Udført den" in x)
        assert "Datoen ligger efter i dag" in "".join(lines[at + 1:at + 5])
        assert all(not f.done for f in app.store.load_person(cpr).followups)
        app.screen.query_one("#tick-date").value = ""
        await pilot.press(*"25-11-2026", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        await pilot.press("4")
        await pilot.pause()
        assert "25-11-2026 af" in screen_text(app)
        assert "a  Afkryds" not in screen_text(app)  # nothing open to tick any more
    assert app.error_count == 0


async def test_n_on_the_person_screen_writes_a_note_that_is_an_operation(training_store):
    with open_store(training_store) as s:
        _tid, cpr = first_open_task(s)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PersonScreen) and app.screen.cpr == cpr
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PersonNoteDialog)
        await pilot.press("enter")  # empty: refused beside the field
        await pilot.pause()
        assert isinstance(app.screen, PersonNoteDialog)
        assert "Notatet kan ikke være tomt." in screen_text(app)
        await pilot.press(*"Borgeren har ringet", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        await pilot.press("4")
        await pilot.pause()
        assert "Borgeren har ringet" in screen_text(app)
        await pilot.press("6")
        await pilot.pause()
        assert "Notat skrevet" in screen_text(app)
        st = app.store.load_person(cpr)
        assert [n.text for n in st.notes if n.text == "Borgeren har ringet"]
        assert [o["kind"] for o in app.store.outbox()] == ["note_add"]
    assert app.error_count == 0


async def test_enter_in_the_followups_view_opens_the_person_on_the_notes_tab(training_store):
    cpr = person_with_a_due_followup(training_store)
    app = make_app(training_store, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PersonScreen) and screen.cpr == cpr
        assert screen.query_one("TabbedContent").active == "tab-notes"
        assert "Ring til lægen" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FollowupsScreen)
    assert app.error_count == 0
