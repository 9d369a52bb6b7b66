import subprocess
import sys

CORE = [
    "sygesikring_tui", "sygesikring_tui.domain.model", "sygesikring_tui.domain.operations",
    "sygesikring_tui.domain.rules", "sygesikring_tui.domain.cpr", "sygesikring_tui.domain.workarounds",
    "sygesikring_tui.store", "sygesikring_tui.store.inbox", "sygesikring_tui.catalogue",
    "sygesikring_tui.cli", "sygesikring_tui.training",
]


def test_core_imports_without_textual_or_screens():
    code = (
        "import importlib, pkgutil, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        "import sygesikring_tui\n"
        "for info in pkgutil.walk_packages(sygesikring_tui.__path__, 'sygesikring_tui.'):\n"
        "    importlib.import_module(info.name)\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'screens'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
