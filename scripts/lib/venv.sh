# Shared by scripts/up and scripts/test: a project venv with the locked dependencies
# (deploy/requirements-dev.txt: hashes, runtime + embedded + test, the set CI installs too).
SUPPORTED_PYTHONS="3.13 3.12 3.11"   # pyproject.toml requires-python; newest first

# The newest supported Python on PATH (or $PYTHON when set).
find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return 0; fi
  local version candidate
  for version in $SUPPORTED_PYTHONS; do
    # runs it, not just finds it: a pyenv shim exists for versions that are not selected
    if python_supported "python$version"; then echo "python$version"; return 0; fi
  done
  for candidate in python3 python; do
    if python_supported "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

python_supported() {
  "$1" -c 'import sys; sys.exit(sys.version_info[:2] not in [(3, 11), (3, 12), (3, 13)])' 2>/dev/null
}

ensure_venv() {  # the extras argument of older callers is ignored: one locked set for all
  local python
  if ! python="$(find_python)" || ! python_supported "$python"; then
    echo "herplaatsing needs Python 3.11, 3.12 or 3.13 (found: $(python3 --version 2>&1 || echo none))." >&2
    echo "Install one (e.g. apt-get install python3.12-venv) or point PYTHON=/path/to/python3.x at it." >&2
    return 1
  fi
  if [ -x .venv/bin/python ] && ! python_supported .venv/bin/python; then
    echo "removing .venv: made with an unsupported Python" >&2
    rm -rf .venv
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "first run: creating .venv with $("$python" --version 2>&1)"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-lock"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ deploy/requirements-dev.txt -nt "$stamp" ]; then
    echo "installing the locked dependencies into .venv (deploy/requirements-dev.txt; 1-2 minutes the first time)..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r deploy/requirements-dev.txt
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
    touch "$stamp"
    echo "dependencies installed"
  fi
}
