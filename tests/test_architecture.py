"""Where things live: the import contract ([tool.importlinter] in pyproject.toml) and a library that names no service."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from herplaatsing.registry import ROOT, SERVICES

CONTRACTS = {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}
LIBRARY = ROOT / "shared"
EVENT_CONTRACT = LIBRARY / "events"  # subjects ("inventory.placement.expiring") are the event contract itself


def test_the_contract_has_no_exceptions():
    assert set(CONTRACTS) == {"services-independent", "library-standalone", "services-without-runner", "runner-acyclic"}
    assert not any("ignore_imports" in c or "allow_indirect_imports" in c for c in CONTRACTS.values())


@pytest.mark.parametrize(
    "contract",
    [
        "services-independent",
        "library-standalone",
        "services-without-runner",
        "runner-acyclic",
    ],
)
def test_import_contract(contract):
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", "--contract", contract], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _service_strings(source: str) -> list[str]:
    """String literals (not docstrings) that are a service's name or start with one (`sites.`, `matching/`)."""
    names = "|".join(SERVICES)
    naming = re.compile(rf"^/?(?:herplaatsing[/_])?(?:{names})(?:$|[./:_-])")
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return [
        f"{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip and naming.search(node.value)
    ]


def test_the_library_names_no_service():
    module_paths = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in LIBRARY.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.search(r"\bservices[./]", line)
    ]
    assert not module_paths, "the library refers to service modules:\n" + "\n".join(module_paths)
    named = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in LIBRARY.rglob("*.py")
        if not path.is_relative_to(EVENT_CONTRACT)
        for hit in _service_strings(path.read_text(encoding="utf-8"))
    ]
    assert not named, "the library names services (the registry is herplaatsing/registry.py):\n" + "\n".join(named)


def test_the_string_check_sees_what_it_must():
    source = '"""A docstring about the sites service."""\nPORTS = {"gateway": 8000}\nAPP = f"matching.app.{x}"\nX = "matchings"\n'
    assert [hit.split(": ", 1)[1] for hit in _service_strings(source)] == ["'gateway'", "'matching.app.'"]
