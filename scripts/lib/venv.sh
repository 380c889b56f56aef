# Shared by scripts/up and scripts/test: a project venv with the pinned dependencies.
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
  fi
  "$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "herplaatsing needs Python 3.11"'
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed${extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip==25.3
    .venv/bin/python -m pip install --quiet -e ".${extras}"
    touch "$stamp"
  fi
}
