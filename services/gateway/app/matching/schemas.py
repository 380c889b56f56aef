"""Matching run schemas: the matching service's own models, so the public OpenAPI is typed."""

from services.matching.app.runs.schemas import RunIn, RunOut

MatchingRun = RunOut
MatchingRunCreate = RunIn

__all__ = ["MatchingRun", "MatchingRunCreate"]
