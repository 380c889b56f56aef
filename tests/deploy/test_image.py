"""The one image (Dockerfile, .dockerignore, pinned requirements): checked by parsing."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import tomllib

import pytest

from .conftest import DEPLOY, ROOT


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def dockerignored(path: str) -> bool:
    """docker's rule: the last pattern matching the path or one of its parents decides."""
    patterns = [
        p.strip() for p in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if p.strip() and not p.strip().startswith("#")
    ]
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        options = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        if any(fnmatch.fnmatchcase(c, o) for c in candidates for o in options):
            excluded = not negate
    return excluded


def test_base_image_is_python_311_slim():
    args = dict(a.split("=", 1) for w, a in instructions() if w == "ARG" and "=" in a)
    bases = [a.split()[0] for w, a in instructions() if w == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], b) for b in bases]
    assert resolved and all(b.startswith("python:3.11-slim") for b in resolved)


def test_runs_as_a_numeric_non_root_user():
    users = [a for w, a in final_stage() if w == "USER"]
    assert users, "the runtime stage must switch user"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes runAsNonRoot can verify it"
    # ...the same uid the Kubernetes pods declare.
    assert f"runAsUser: {uid}" in (DEPLOY / "sites.yaml").read_text(encoding="utf-8")


def test_healthcheck_probes_readiness():
    checks = [a for w, a in final_stage() if w == "HEALTHCHECK"]
    assert len(checks) == 1 and "/readyz" in checks[0]


def test_installs_exactly_the_pinned_lock_and_verifies_it():
    runs = " ".join(a for w, a in instructions() if w == "RUN")
    copies = [a for w, a in instructions() if w == "COPY"]
    assert any(a.startswith("deploy/requirements.txt ") for a in copies)
    assert "pip install --no-deps -r /tmp/requirements.txt" in runs
    assert "pip install --no-deps ." in runs
    assert "pip check" in runs


def test_command_is_left_to_compose_and_kubernetes():
    cmds = [a for w, a in final_stage() if w == "CMD"]
    assert cmds == ['["herplaatsing", "--help"]']
    assert not [a for w, a in final_stage() if w == "ENTRYPOINT"]


def test_everything_the_build_copies_is_in_the_context():
    sources = []
    for word, args in instructions():
        if word == "COPY" and not args.startswith("--from"):
            sources += args.split()[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), f"{source} is copied but .dockerignore drops it"


@pytest.mark.parametrize("path", [".venv", ".git", ".env", "deploy/secrets.env", "shared/__pycache__", ".herplaatsing"])
def test_local_state_and_secrets_stay_out_of_the_context(path):
    assert dockerignored(path)


# --- the lock -----------------------------------------------------------------------------------


def _lock_module():
    spec = importlib.util.spec_from_file_location("lock_requirements", DEPLOY / "lock_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _locked() -> dict[str, str]:
    return {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
        for line in (DEPLOY / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }


def test_lock_holds_exactly_the_runtime_closure_of_pyproject():
    # The image installs the lock with --no-deps: a package missing here would be missing
    # at runtime. (Transitive versions may differ from this venv; names may not.)
    lock = _lock_module()
    needed = {name.replace("_", "-") for name in lock.closure(lock.direct_requirements())}
    assert set(_locked()) == needed, "run: .venv/bin/python deploy/lock_requirements.py"


def test_lock_pins_every_direct_dependency_at_its_pyproject_version():
    lock = _locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        name, version = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", requirement).groups()
        assert lock[name.lower().replace("_", "-")] == version, requirement
    assert "pytest" not in lock, "test tools stay out of the image"
