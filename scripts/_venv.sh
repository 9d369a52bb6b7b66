# Shared by scripts/app and scripts/test: make .venv and (re)install the project into it
# whenever pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv (first run) ..." >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installing sygesikring-tui and its dependencies into .venv ..." >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e '.[dev]' >&2
  # bytecode now, as a wheel's install does: a machine with PYTHONDONTWRITEBYTECODE set would
  # otherwise compile every module from source at every start of the app
  .venv/bin/python -m compileall -q sygesikring_tui screens >/dev/null
  rm -f .venv/.installed-*
  touch "$stamp"
fi
