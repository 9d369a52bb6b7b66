"""Starting the desk in training mode loads no sync code: training never syncs, and httpx and
the sync client cost start-up time before the first frame. Nor does the inbox's first frame
wait for the domain model, the rule book or the wizards: it lists rows from SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_USE_APP = """
import asyncio, json, sys
from datetime import date
from sygesikring_tui import cli
cli._bring_suggestions_up_to_date(sys.argv[1])  # what `sygesikring-tui` does before the UI
from screens.app import make_app

async def main():
    app = make_app(sys.argv[1], today=date(2026, 11, 25))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await asyncio.sleep(0.4)  # the inbox index is read after the first paint
        await app.workers.wait_for_complete()
        await pilot.press("slash", "a", "escape", "escape", "enter")  # search, then open a person
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = type(app.screen).__name__
    return screen

screen = asyncio.run(main())
loaded = sorted(m for m in sys.modules if m == "httpx" or m.startswith(("httpx.", "sygesikring_tui.sync")))
print(json.dumps({"screen": screen, "loaded": loaded}))
"""


def _run(code: str, *args: str) -> dict:
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_training_desk_runs_without_importing_httpx_or_the_sync_package(training_store):
    out = _run(_USE_APP, str(training_store))
    assert out["screen"] == "PersonScreen"  # the app was really used: inbox, search, a person
    assert out["loaded"] == []


def test_the_check_sees_the_sync_package_when_it_is_imported():
    code = ("import json, sys; import sygesikring_tui.sync\n"
            "print(json.dumps({'loaded': sorted(m for m in sys.modules if m == 'httpx' "
            "or m.startswith(('httpx.', 'sygesikring_tui.sync')))}))")
    out = _run(code)
    assert "httpx" in out["loaded"] and "sygesikring_tui.sync" in out["loaded"]


_FIRST_PAINT = """
import asyncio, json, sys
from datetime import date
from sygesikring_tui import cli
cli._bring_suggestions_up_to_date(sys.argv[1])
from screens.app import make_app

async def main():
    app = make_app(sys.argv[1], today=date(2026, 11, 25))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = type(app.screen).__name__
    return screen

screen = asyncio.run(main())
heavy = ("sygesikring_tui.domain.wizards", "sygesikring_tui.domain.model", "sygesikring_tui.domain.operations",
         "sygesikring_tui.desk", "msgspec", "stdnum")
print(json.dumps({"screen": screen, "loaded": sorted(m for m in heavy if m in sys.modules)}))
"""


def test_the_inbox_paints_before_the_domain_model_or_any_wizard_is_imported(training_store):
    # every wizard module is read when a case is opened (or a person shown), the model and its
    # codec when a person is read: not before the inbox's first frame
    out = _run(_FIRST_PAINT, str(training_store))
    assert out == {"screen": "InboxScreen", "loaded": []}


def test_the_first_paint_check_sees_the_domain_model_when_it_is_imported(training_store):
    code = _FIRST_PAINT.replace("screen = asyncio.run(main())",
                                "screen = 'InboxScreen'\nimport sygesikring_tui.domain.model")
    out = _run(code, str(training_store))
    assert out["loaded"] == ["msgspec", "sygesikring_tui.domain.model"]
