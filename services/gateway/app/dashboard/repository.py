"""The statistics calls behind the dashboards (stats contract, marktmeester identity forwarded)."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from services.gateway.app.dashboard.schemas import CapacityStats, PlacementStats, ProposalStats
from services.gateway.app.upstream import Upstreams, UpstreamUnavailable
from shared.web.identity import Principal
from shared.web.problems import ProblemError

M = TypeVar("M", bound=BaseModel)


async def _stats(upstreams: Upstreams, service: str, path: str, principal: Principal, model: type[M]) -> M:
    body = await upstreams.fetch_json(service, path, principal)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        raise ProblemError(
            502, "Bad gateway", f"The {service} service answered {path} with an unexpected shape ({fields})."
        ) from None


async def all_stats(upstreams: Upstreams, principal: Principal) -> tuple[PlacementStats, CapacityStats, ProposalStats]:
    """The three services' statistics, fetched concurrently.

    When several fail, a service that is down is named first (that is the root cause an
    operator must fix), then any other problem.
    """
    results = await asyncio.gather(
        _stats(upstreams, "inventory", "/api/v1/stats/placements", principal, PlacementStats),
        _stats(upstreams, "sites", "/api/v1/stats/capacity", principal, CapacityStats),
        _stats(upstreams, "matching", "/api/v1/stats/proposals", principal, ProposalStats),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise next((f for f in failures if isinstance(f, UpstreamUnavailable)), failures[0])
    placements, capacity, proposals = results
    return placements, capacity, proposals  # type: ignore[return-value]
