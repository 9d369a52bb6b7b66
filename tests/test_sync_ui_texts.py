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
