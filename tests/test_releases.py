import json
from dataclasses import replace
from datetime import date

import pytest

from sygesikring_tui import cli, releases
from sygesikring_tui.catalogue import load_catalogue
from sygesikring_tui.domain.model import Note
from sygesikring_tui.store import open_store
from tests.factories import OPEN, a_cpr, a_person, a_task

TODAY = date(2026, 11, 25)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SYGESIKRING_HOME", str(tmp_path))
    return tmp_path


def _store_with_callups(path):
    cat = load_catalogue()
    s = open_store(path, training=True)
    posted = a_person(a_cpr(seed=1))
    posted = replace(posted, notes=(Note("n1", "2026-11-18T09:00", "sb", "Kommende 038 gælder en statsudsendt."),))
    conscript = a_person(a_cpr(date(2006, 3, 4), seed=2))
    with s.transaction():
        s.upsert_providers([OPEN])
        for p, tid in ((posted, "t-posted"), (conscript, "t-conscript")):
            task = replace(a_task(p.cpr, "038", tid), workaround_id=cat.suggest("038", p, TODAY).workaround_id)
            s.save_person(replace(p, tasks=(task,)))
    return s


def _suggestions(store):
    return dict(store.conn.execute("SELECT id, workaround_id FROM tasks ORDER BY id"))


def test_a_live_release_stops_suggesting_its_workarounds_and_undo_restores_them(home):
    cat = load_catalogue()
    store = _store_with_callups(home / "t.db")
    assert _suggestions(store) == {"t-conscript": "2.4.1", "t-posted": "2.5.1"}
    live = releases.set_live("1.3", True, cat)
    assert releases.resuggest(store, cat, live, TODAY) == 2
    assert _suggestions(store) == {"t-conscript": None, "t-posted": None}
    live = releases.set_live("1.3", False, cat)
    assert releases.resuggest(store, cat, live, TODAY) == 2
    assert _suggestions(store) == {"t-conscript": "2.4.1", "t-posted": "2.5.1"}
    store.close()


def test_resuggest_does_nothing_when_the_store_is_already_up_to_date(home):
    cat = load_catalogue()
    store = _store_with_callups(home / "t.db")
    assert releases.resuggest(store, cat, frozenset(), TODAY) == 0
    store.close()


def test_cli_release_marks_live_lists_retired_and_undoes(home, capsys):
    assert cli.main(["release", "1.1", "--in-production", "--yes"]) == 0
    # the day it went live is kept: the fault-cost report marks the retirement there
    assert json.loads((home / "releases.json").read_text()) == {"live": ["1.1"],
                                                                 "since": {"1.1": date.today().isoformat()}}
    capsys.readouterr()
    assert cli.main(["workarounds"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("2.7.5"))
    assert line.endswith("udfaset")
    assert not next(l for l in out.splitlines() if l.startswith("2.4.1")).endswith("udfaset")
    assert cli.main(["release", "1.1", "--undo"]) == 0
    assert json.loads((home / "releases.json").read_text()) == {"live": [], "since": {}}


def test_a_release_keeps_the_day_it_was_first_marked_live_and_loses_it_when_undone(home):
    cat = load_catalogue()
    releases.set_live("1.1", True, cat, today=date(2026, 3, 2))
    releases.set_live("1.3", True, cat, today=date(2026, 4, 1))
    releases.set_live("1.1", True, cat, today=date(2026, 5, 5))  # again: still live since March
    assert releases.live_since() == {"1.1": date(2026, 3, 2), "1.3": date(2026, 4, 1)}
    releases.set_live("1.1", False, cat)
    assert releases.live_since() == {"1.3": date(2026, 4, 1)}
    (home / "releases.json").write_text('{"live": ["1.1"]}')  # written before the day was kept
    assert releases.live_since() == {} and releases.live_releases() == {"1.1"}


def test_cli_release_refuses_an_unknown_release(home, capsys):
    assert cli.main(["release", "9.9", "--in-production"]) == 2
    assert "9.9" in capsys.readouterr().err
    assert not (home / "releases.json").exists()


def test_retiring_release_cpr_retires_2_6_2_but_not_its_own_section_3_1_3(home, capsys):
    cat = load_catalogue()
    live = releases.set_live("CPR", True, cat)
    assert "2.6.2" in cat.retired(live) and "3.1.3" not in cat.retired(live)
    # a 021 task (guardianship) is then suggested the individual choices of 3.1.3, same wizard
    ward = replace(a_person(a_cpr(seed=5)), tasks=(a_task(a_cpr(seed=5), "021", "t-021"),))
    assert (cat.suggest("021", ward, TODAY).workaround_id, cat.suggest("021", ward, TODAY, live_releases=live).wizard,
            cat.suggest("021", ward, TODAY, live_releases=live).workaround_id) == ("2.6.2", "guardian_choice", "3.1.3")
    assert cli.main(["workarounds"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line[:1].isdigit()]
    assert len(rows) == 19
    assert next(r for r in rows if r.startswith("3.1.3")).split()[-1] in ("ja", "yes")
    assert next(r for r in rows if r.startswith("2.6.2")).split()[-1] in ("udfaset", "retired")
