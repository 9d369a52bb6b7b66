"""A plain, non-editable ``pip install .`` gives a working app: data/ ships in the wheel."""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
        capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("sygesikring_tui-*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    target = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    # Install the wheel with this interpreter's pip into the fresh venv's site-packages.
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, str(wheel)],
                          capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr
    # Dependencies come from the test venv; PYTHONPATH does not run its .pth files, so the
    # editable install of the repository is not visible.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"], "SYGESIKRING_HOME": str(tmp / "home")}
    return py, env, tmp, Path(target)


def _run(installed, *code_or_args):
    py, env, tmp, _ = installed
    return subprocess.run([str(py), *code_or_args], capture_output=True, text=True, cwd=tmp, env=env)


def test_wheel_finds_its_data_inside_site_packages(installed):
    _, _, _, site = installed
    r = _run(installed, "-c", "from sygesikring_tui.paths import data_dir; print(data_dir())")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == site / "sygesikring_tui" / "_data"
    assert (site / "sygesikring_tui" / "_data" / "i18n" / "da" / "core.json").is_file()


def test_wheel_lists_the_catalogue_and_builds_a_training_store(installed):
    r = _run(installed, "-m", "sygesikring_tui.cli", "workarounds")
    assert r.returncode == 0, r.stderr
    assert "2.7.5" in r.stdout and "Omnummerering" in r.stdout
    r = _run(installed, "-m", "sygesikring_tui.cli", "training", "--tasks", "40", "--seed", "3", "--path", "t.db")
    assert r.returncode == 0, r.stderr
    assert (installed[2] / "t.db").is_file()


def test_wheel_ships_the_ui_package_with_its_styles(installed):
    code = ("import screens.app, pathlib; p = pathlib.Path(screens.app.__file__).parent; "
            "print(sorted(x.name for x in p.glob('*.tcss')))")
    r = _run(installed, "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() != "[]"
