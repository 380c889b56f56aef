"""Municipalities come from the shipped CBS reference list (shared/reference), not from a table."""

from __future__ import annotations

from shared.reference import Municipality, municipalities, provinces


def all_sorted() -> list[Municipality]:
    return sorted(municipalities().values(), key=lambda m: m.code)


def get(code: str) -> Municipality | None:
    return municipalities().get(code)


def province_exists(code: str) -> bool:
    return code in provinces()
