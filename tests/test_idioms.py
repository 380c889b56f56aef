"""The services' house rules, checked on the source: queries only in repositories, services
never commit, and writing endpoints use the one write session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = [ROOT / "services" / name / "app" for name in ("inventory", "sites", "matching")]
QUERY = re.compile(r"session\.(execute|scalars?|get)\(|\bsa\.(select|update|insert|delete|text)\(|pg_insert\(|paginate(_entities)?\(")
OWN_UNIT_OF_WORK = re.compile(r"\.transaction\(\)|\.sessions\(\)")


def _modules(*, skip: tuple[str, ...]) -> list[Path]:
    return sorted(
        p for app in APPS for p in app.rglob("*.py") if p.name not in skip and "optimiser" not in p.parts
    )


def _hits(pattern: re.Pattern[str], paths: list[Path]) -> list[str]:
    return [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in paths
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]


def test_queries_live_in_repositories() -> None:
    # models.py may declare server defaults; the rebuild CLI opens its own database.
    assert _hits(QUERY, _modules(skip=("repository.py", "models.py"))) == []


def test_services_never_commit() -> None:
    assert _hits(re.compile(r"\.commit\(\)"), _modules(skip=())) == []


@pytest.mark.parametrize("kind", ["endpoints.py", "service.py", "events.py"])
def test_requests_and_handlers_use_the_unit_of_work_they_are_given(kind: str) -> None:
    """Endpoints get WriteSession/Session, handlers the consumer's session; only background jobs open their own."""
    paths = [p for p in _modules(skip=()) if p.name == kind and not (p.parent.name == "expiry" and kind == "service.py")]
    assert _hits(OWN_UNIT_OF_WORK, paths) == []
