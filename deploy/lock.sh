#!/usr/bin/env bash
# Locks every dependency with hashes (uv pip compile, universal: Python 3.11-3.13, any OS):
#   deploy/requirements.txt      the image: the runtime closure of pyproject.toml
#   deploy/requirements-dev.txt  scripts/up, scripts/test and CI: runtime + embedded + test extras,
#                                constrained to the runtime lock, so both install the same versions
# Run after changing a pin in pyproject.toml:  bash deploy/lock.sh
# Add --upgrade to move the unpinned (transitive) packages to their newest releases.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9   # the lock tool is pinned too: another uv may resolve differently
uv=".tools/uv-${UV_VERSION}/bin/uv"
if [ ! -x "$uv" ]; then
  echo "installing uv ${UV_VERSION} into .tools/ (once)"
  python3 -m pip install --quiet --disable-pip-version-check --target ".tools/uv-${UV_VERSION}" "uv==${UV_VERSION}"
fi
compile() {
  "$uv" pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash deploy/lock.sh" "$@"
}
compile --output-file deploy/requirements.txt "$@"
compile --extra embedded --extra test --constraint deploy/requirements.txt \
  --output-file deploy/requirements-dev.txt "$@"
echo "wrote deploy/requirements.txt and deploy/requirements-dev.txt"
