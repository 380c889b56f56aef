"""App factory of the matching service (run: uvicorn --factory services.matching.app.main:create_app)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from services.matching.app import models  # noqa: F401 - registers the tables on Base
from services.matching.app.config import MatchingSettings
from services.matching.app.db import bus_tables, clock_table
from services.matching.app.events import handlers
from services.matching.app.ledger.endpoints import router as ledger_router
from services.matching.app.policy import service as policies
from services.matching.app.policy.endpoints import router as policy_router
from services.matching.app.proposals import service as proposals
from services.matching.app.proposals.endpoints import router as proposals_router
from services.matching.app.rematch.matcher import matcher_loop
from services.matching.app.runs.endpoints import router as runs_router
from services.matching.app.stats.endpoints import router as stats_router
from shared import product_clock
from shared.product_clock import restore_clock
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app
from shared.web.dead_letters import dead_letters_router

log = logging.getLogger(__name__)


async def expiry_loop(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Pending proposals past their deadline (in product time) expire and their demand is matched again."""
    interval = runtime.settings.expiry_check_interval_s  # type: ignore[attr-defined]
    while not stop.is_set():
        try:
            async with runtime.transaction() as session:
                # another replica's consumer may have moved the clock: take over the persisted offset
                await product_clock.refresh(session, runtime, clock_table)
                await proposals.expire_overdue(session, runtime)
        except Exception:
            log.exception("proposal expiry check failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def seed_policy(runtime: ServiceRuntime) -> None:
    """A start step: version 1 of the matching policy is stored before anyone reads the history or changes it."""
    async with runtime.transaction() as session:
        await policies.seed(session, runtime)


def create_app(settings: MatchingSettings | None = None) -> FastAPI:
    settings = settings or MatchingSettings()
    runtime = ServiceRuntime(
        settings, bus_tables, handlers=handlers, background=[expiry_loop, matcher_loop],
        startup=[restore_clock(clock_table), seed_policy],
    )
    return create_service_app(
        runtime,
        routers=[proposals_router, runs_router, policy_router, stats_router, ledger_router, dead_letters_router()],
        title="Herplaatsing matching service",
        description="Internal service: the read model of relocation demand and plot supply, the optimiser, proposals and their two-party acceptance.",
    )
