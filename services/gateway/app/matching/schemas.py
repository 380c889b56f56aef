"""Matching run shapes; free-form until the matching service publishes its models."""

from services.gateway.app.generic import resource

MatchingRun = resource(
    "MatchingRun",
    "A national matching run: its mode, status and results (proposals, shortfall).",
    {
        "id": "7d6c5b4a-3f2e-4d1c-9b0a-8f7e6d5c4b3a",
        "dry_run": True,
        "status": "finished",
        "proposals": 12,
        "shortfall_units": 48,
    },
)
MatchingRunCreate = resource("MatchingRunCreate", "Start a national run; `dry_run` proposes nothing binding.", {"dry_run": True})
