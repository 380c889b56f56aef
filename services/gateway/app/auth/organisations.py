"""Whether a caller's organisation may act: registered and active, else 403 that says which and why.

Who belongs to which organisation is the identity provider's word (the `org` claim); whether that
organisation takes part is the registry's:
- an investor's org must be an active organisation of the inventory service's registry. The answer
  is remembered `organisation_cache_s` (30 s): a deactivation takes effect within that time, and an
  unregistered org is never let through on an old answer (only answers are cached, failures are not);
- a municipality's org must be a CBS gemeentecode (shared.reference);
- the marktmeester's org, when the token carries one, must be one of `marktmeester_orgs` ("rvo").
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal
from urllib.parse import quote

from services.gateway.app.config import GatewaySettings
from services.gateway.app.upstream import Upstreams
from shared.domain import Role
from shared.reference import municipalities
from shared.web.identity import Principal
from shared.web.problems import ProblemError

Standing = Literal["active", "deactivated", "unregistered"]
# The gateway reads the registry as the marktmeester would (every organisation is readable by anyone signed in).
REGISTRY_READER = Principal(sub="gateway-organisation-check", role=Role.marktmeester, org=None)
MAX_CACHED = 10_000


def refused(org: str, standing: Standing) -> ProblemError:
    if standing == "deactivated":
        return ProblemError(403, "Forbidden", f"The organisation {org} is deactivated; its users cannot act for it.", organisation=org)
    return ProblemError(403, "Forbidden", f"The organisation {org} is not registered.", organisation=org)


class OrganisationCheck:
    def __init__(self, settings: GatewaySettings, upstreams: Upstreams) -> None:
        self._settings = settings
        self._upstreams = upstreams
        self._cache: dict[str, tuple[float, Standing]] = {}
        self._pending: dict[str, asyncio.Future[Standing]] = {}

    async def require_active(self, principal: Principal) -> None:
        """403 unless the caller's organisation is registered and active (nothing to check without a role)."""
        org = principal.org
        if principal.role is Role.marktmeester:
            if org is not None and org not in self._settings.marktmeester_orgs:
                raise refused(org, "unregistered")
        elif principal.role is Role.municipality:
            if org not in municipalities():
                raise ProblemError(403, "Forbidden", f"The organisation {org} is not registered (not a CBS gemeentecode).", organisation=org)
        elif principal.role is Role.investor and org is not None:
            standing = await self.standing(org)
            if standing != "active":
                raise refused(org, standing)

    async def standing(self, org: str) -> Standing:
        cached = self._cache.get(org)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        pending = self._pending.get(org)
        if pending is not None:  # one lookup per organisation at a time; the others wait for its answer
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request itself was cancelled
                # the request that asked was cancelled: ask again below
        future: asyncio.Future[Standing] = asyncio.get_running_loop().create_future()
        self._pending[org] = future
        try:
            standing = await self._lookup(org)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else has to
            raise
        finally:
            self._pending.pop(org, None)
        future.set_result(standing)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[org] = (time.monotonic() + self._settings.organisation_cache_s, standing)
        return standing

    async def _lookup(self, org: str) -> Standing:
        try:
            body = await self._upstreams.fetch_json("inventory", f"/api/v1/organisations/{quote(org, safe='')}", REGISTRY_READER)
        except ProblemError as exc:
            if exc.status in (400, 404):  # no such organisation (400: not even a valid id)
                return "unregistered"
            raise  # the registry cannot answer: refuse now (503), and ask again next time
        if not isinstance(body, dict) or body.get("role") != Role.investor.value:
            return "unregistered"
        return "active" if body.get("active") is True else "deactivated"
