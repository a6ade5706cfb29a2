# Sourced by bin/serve and bin/test: a .venv with the project installed, kept in step with pyproject.toml.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ensure_venv() {  # $1: the pip extras to install, "" or "[dev]"
  local extras="$1" py="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "Podpisant needs Python 3.11 or newer as '$py' (set PYTHON=/path/to/python3.11)." >&2
      exit 1
    fi
    echo "==> creating .venv"
    "$py" -m venv .venv || {
      echo "Could not create .venv: install the venv module (apt-get install python3-venv)." >&2
      exit 1
    }
  fi
  local stamp=".venv/.installed${extras:+-dev}" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing dependencies${extras:+ (with test tools)}"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
    echo "$want" > "$stamp"
  fi
  .venv/bin/pybabel compile --quiet -d translations 2>/dev/null || .venv/bin/pybabel compile -d translations
}
