"""The matching policy: versioned rule parameters and weights, set by the marktmeester.

The newest version is in force. The runtime caches it and asks the database only for the newest
version number before each use (one index lookup), so a change made through any replica is used
by the next proposal everywhere. Every change is published as matching.policy.changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.optimiser.inputs import Weights
from services.matching.app.policy import repository as repo
from services.matching.app.policy.models import PolicyVersion
from services.matching.app.policy.schemas import WEIGHT_FIELD, PolicyChange, PolicyParameters, defaults
from shared.clock import utcnow
from shared.events.models import PolicyChanged
from shared.web.concurrency import require_current
from shared.web.identity import Principal

if TYPE_CHECKING:
    from services.matching.app.config import MatchingSettings
    from shared.runtime import ServiceRuntime

DEFAULTS_BY = "defaults"
_CACHE_KEY = "matching_policy"
_WEIGHT_NAMES = {f.name for f in dataclasses.fields(Weights)}


@dataclass(frozen=True)
class Policy:
    """A policy version in force: its parameters and the optimiser's weights from them."""

    version: int
    parameters: PolicyParameters

    def weights(self, allow_garantiekavel_override: bool = False) -> Weights:
        values = {WEIGHT_FIELD.get(name, name): value for name, value in self.parameters.model_dump().items()}
        return Weights(**{k: v for k, v in values.items() if k in _WEIGHT_NAMES}, allow_garantiekavel_override=allow_garantiekavel_override)

    @property
    def proposal_deadline(self) -> dt.timedelta:
        return dt.timedelta(days=self.parameters.proposal_deadline_days)


def _settings(runtime: ServiceRuntime) -> MatchingSettings:
    return runtime.settings  # type: ignore[return-value]


def _first_values(runtime: ServiceRuntime) -> dict:
    return {"parameters": defaults(_settings(runtime)).model_dump(), "set_by": DEFAULTS_BY, "set_by_org": None,
            "set_at": utcnow(), "note": "Defaults from the service settings"}


async def current(session: AsyncSession, runtime: ServiceRuntime) -> Policy:
    """The version in force (version 1 = the settings' defaults until the marktmeester sets one)."""
    latest = await repo.latest_version(session)
    cached: Policy | None = runtime.cache.get(_CACHE_KEY)
    if latest is None:
        return Policy(1, defaults(_settings(runtime)))
    if cached is None or cached.version != latest:
        row = await repo.get(session, latest)
        assert row is not None
        cached = Policy(row.version, PolicyParameters.model_validate(row.parameters))
        runtime.cache[_CACHE_KEY] = cached
    return cached


async def current_row(session: AsyncSession, runtime: ServiceRuntime) -> PolicyVersion:
    """The stored current version (stores version 1 first when none is stored yet; GETs see it unstored)."""
    latest = await repo.latest_version(session)
    if latest is not None:
        row = await repo.get(session, latest)
        assert row is not None
        return row
    return PolicyVersion(version=1, **_first_values(runtime))


async def seed(session: AsyncSession, runtime: ServiceRuntime) -> None:
    """Store version 1 from the settings when no version is stored (at start; replicas may race: one wins)."""
    if await repo.latest_version(session) is None:
        await repo.add_first(session, _first_values(runtime))


async def change(session: AsyncSession, runtime: ServiceRuntime, principal: Principal, body: PolicyChange,
                 if_match: str | None) -> PolicyVersion:
    """Store version n+1 (If-Match must name version n) and publish it in the same transaction."""
    await seed(session, runtime)
    latest = await repo.lock_latest(session)
    assert latest is not None
    require_current(if_match, latest.version)
    row = PolicyVersion(
        version=latest.version + 1, parameters=body.parameters.model_dump(), set_by=principal.sub, set_by_org=principal.org,
        set_at=utcnow(), note=body.note,
    )
    session.add(row)
    await session.flush()
    await runtime.emit(session, "matching.policy.changed", row.version, PolicyChanged(
        version=row.version, set_by=row.set_by, set_at=row.set_at, parameters=row.parameters,
    ))
    return row
