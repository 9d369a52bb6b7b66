"""The sync status line's words: every state said in text, the last error in a few words
(never a traceback), and it fits an 80-column terminal without losing what matters."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from screens.sync_view import error_words, fmt_age, fmt_when, status_text
from sygesikring_tui import i18n
from sygesikring_tui.store.sync_state import SyncStatus

TODAY = date(2026, 3, 2)
WIDTH = 78  # 80 columns less the line's padding


@pytest.fixture(autouse=True)
def danish():
    i18n.set_language("da")
    yield
    i18n.set_language("da")


def st(**kw) -> SyncStatus:
    base = dict(online=True, waiting=0, last_sync=None, oldest_waiting_age=None, conflicts=0, rejected=0,
                last_error=None)
    base.update(kw)
    return SyncStatus(**base)


def test_online_line_names_every_fact_in_words():
    when = datetime(2026, 3, 2, 9, 15).astimezone().isoformat()
    text = status_text(st(waiting=3, oldest_waiting_age=125, last_sync=when, conflicts=1, rejected=2),
                       today=TODAY, width=WIDTH)
    assert text == "Online · 3 venter (ældste 2 min.) · synk. 09:15 · konflikter: 1 · afviste: 2"
    assert len(text) <= WIDTH


def test_offline_with_an_error_keeps_state_error_waiting_and_nonzero_counts_within_80_columns():
    text = status_text(st(online=False, waiting=12345, oldest_waiting_age=3 * 86400, conflicts=17, rejected=4,
                          last_sync="2026-02-27T10:00:00+01:00",
                          last_error="offline: ConnectError\nTraceback (most recent call last)"),
                       today=TODAY, width=WIDTH)
    assert len(text) <= WIDTH
    for part in ("OFFLINE (serveren svarer ikke)", "12345 venter", "konflikter: 17", "afviste: 4"):
        assert part in text
    assert "Traceback" not in text and "ConnectError" not in text


def test_a_wide_terminal_shows_everything():
    text = status_text(st(online=False, waiting=2, oldest_waiting_age=30, last_error="server: boom"), today=TODAY,
                       width=200)
    assert "(ældste 30 sek.)" in text and "synk. aldrig" in text and "konflikter: 0" in text
    assert "fejl på serveren" in text and "boom" not in text


def test_training_says_it_never_syncs():
    assert status_text(st(waiting=5), training=True) == "TRÆNING – synkroniserer aldrig"


def test_never_tried_and_no_server_are_said_in_words():
    assert status_text(st(online=None)).startswith("Forbinder")
    assert status_text(st(online=None, waiting=1), configured=False) == \
        "Ingen server · 1 venter · konflikter: 0 · afviste: 0"


@pytest.mark.parametrize("error,words", [
    ("offline: ConnectError", "serveren svarer ikke"), ("auth: bad token", "nøglen afvist"),
    ("protocol: 422", "serveren afviste data"), ("KeyError: 'x'", "uventet fejl (se loggen)")])
def test_errors_in_words(error, words):
    assert error_words(error) == words


def test_ages_and_times():
    assert [fmt_age(s) for s in (5, 61, 7200, 90000)] == ["5 sek.", "1 min.", "2 t.", "1 d."]
    assert fmt_when(None) == "aldrig"
    assert fmt_when(datetime(2026, 3, 1, 8, 5).astimezone().isoformat(), TODAY) == "01-03 08:05"


# -- a rejected operation is shown with its reason ---------------------------------------------

async def test_a_rejected_operation_is_listed_with_its_rule_reason_translated(tmp_path):
    import random

    from screens.app import make_app
    from screens.sync_view import ConflictScreen, detail, reason_texts
    from sygesikring_tui import sync
    from sygesikring_tui.domain.model import to_json
    from sygesikring_tui.domain.operations import PlannedOp
    from sygesikring_tui.store import open_store
    from sygesikring_tui.store.sync_state import record_answers
    from tests.server.srvkit import make_person
    from tests.test_sync_ui_pilot import plain

    person = make_person(random.Random(4), n_tasks=1)
    path = tmp_path / "desk.db"
    with open_store(path, training=False) as s:
        with s.transaction():
            s.save_person(person)
        case = s.create_case("2.4.1", person.cpr, None, {"_wizard": "callup"})
        [op] = s.commit_case(case.id, [PlannedOp(person.cpr, "group_switch", {
            "group": 5, "effective": "2026-03-02", "reason": "værnepligt"})], TODAY)
        # What the push records when the server's rules refuse it (the server's state comes back).
        record_answers(s, [{"op_id": op.op_id, "status": "rejected", "state": to_json(person),
                            "reasons": [{"code": "rule.group_same", "params": {"group": 5}},
                                        {"code": "rule.weird_new_rule", "params": {}}]}])
    app = make_app(path, today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.sync_status.rejected == 1
        assert str(app.screen.query_one("#conflict-line").render()) == "! Serveren udførte ikke alt: 1 afvist. Tast c"
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        item = screen.selected
        assert item.status == "rejected"
        assert reason_texts(item) == ["Sikrede er allerede i sikringsgruppe 5.",
                                      "Serveren afviste operationen (rule.weird_new_rule)."]
        text = plain(detail(item, TODAY, app.catalogue))
        assert "Årsag: Sikrede er allerede i sikringsgruppe 5." in text
        assert "AFVIST" in screen.query_one("#conflict-list").get_option_at_index(0).prompt
        await pilot.press("d", *"gruppen var rigtig", "enter")
        await pilot.pause()
        assert screen.items == [] and app.sync_status.rejected == 0
        assert sync.status(app.store).rejected == 0


def test_the_inbox_conflict_line_names_only_what_there_is_in_the_right_plural(monkeypatch):
    from types import SimpleNamespace

    from screens.sync_view import ConflictLine

    line = ConflictLine()
    shown: list[str] = []
    monkeypatch.setattr(ConflictLine, "update", lambda self, text, layout=True: shown.append(str(text)))
    for conflicts, rejected in ((1, 0), (2, 1), (0, 3)):
        monkeypatch.setattr(ConflictLine, "app", SimpleNamespace(sync_status=st(conflicts=conflicts, rejected=rejected)))
        line.refresh_texts()
    assert shown == ["! Serveren udførte ikke alt: 1 konflikt. Tast c",
                     "! Serveren udførte ikke alt: 2 konflikter, 1 afvist. Tast c",
                     "! Serveren udførte ikke alt: 3 afviste. Tast c"]


def test_server_errors_and_a_readable_token_file_always_show():
    text = status_text(st(online=False, waiting=12345, oldest_waiting_age=3 * 86400, conflicts=1, rejected=3,
                          server_errors=2, token_warning=True, last_error="server: boom"),
                       today=TODAY, width=WIDTH + 40)
    assert "afviste: 1" in text and "fejl hos serveren: 2" in text and "kan læses af andre" in text
    narrow = status_text(st(waiting=2, rejected=2, server_errors=2), today=TODAY, width=WIDTH)
    assert "fejl hos serveren: 2" in narrow and "afviste" not in narrow


async def test_an_operation_held_as_a_server_error_is_listed_with_the_answer_and_can_be_dropped(tmp_path):
    import random

    from screens.app import make_app
    from screens.sync_view import ConflictScreen, detail, reason_texts
    from sygesikring_tui import sync
    from sygesikring_tui.domain.operations import PlannedOp
    from sygesikring_tui.store import open_store
    from sygesikring_tui.store.sync_state import hold_server_error
    from tests.server.srvkit import make_person
    from tests.test_sync_ui_pilot import plain

    person = make_person(random.Random(4), n_tasks=1)
    path = tmp_path / "desk.db"
    with open_store(path, training=False) as s:
        with s.transaction():
            s.save_person(person)
        case = s.create_case("2.1", person.cpr, None)
        [op] = s.commit_case(case.id, [PlannedOp(person.cpr, "note_add", {"text": "ringet op"})], TODAY)
        hold_server_error(s, op.op_id, "HTTP 500: Internal Server Error", None)
    app = make_app(path, today=TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert (app.sync_status.rejected, app.sync_status.server_errors) == (1, 1)
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        item = screen.selected
        assert "FEJL HOS SERVEREN" in str(screen.query_one("#conflict-list").get_option_at_index(0).prompt)
        [reason] = reason_texts(item)
        assert "HTTP 500: Internal Server Error" in reason
        assert "HTTP 500" in plain(detail(item, TODAY, app.catalogue))
        await pilot.press("d", *"serveren er rettet", "enter")
        await pilot.pause()
        assert screen.items == [] and sync.status(app.store).server_errors == 0
