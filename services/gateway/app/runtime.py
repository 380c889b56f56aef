"""The gateway's runtime: no database and no events, but a pooled client per service."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from services.gateway.app.auth.oidc import OidcVerifier
from services.gateway.app.auth.organisations import OrganisationCheck
from services.gateway.app.auth.sessions import SessionStore
from services.gateway.app.config import GatewaySettings
from services.gateway.app.ratelimit import RateLimiter
from services.gateway.app.upstream import Upstreams
from shared.runtime import ServiceRuntime
from shared.web.identity import Principal


class GatewayRuntime(ServiceRuntime):
    """Opens the upstream clients in the lifespan; ready when all three services are ready."""

    settings: GatewaySettings

    def __init__(self, settings: GatewaySettings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        super().__init__(settings)
        self.upstreams = Upstreams(settings, transports)
        # Bearer tokens whose signature was checked: token -> (its exp, the caller). Per app, so per secret.
        self.verified_tokens: dict[str, tuple[float, Principal]] = {}
        # The identity providers' discovery documents and keys (no redirects: the URLs are configured).
        self.idp_client = httpx.AsyncClient(timeout=settings.oidc_timeout_s, follow_redirects=False)
        self.oidc = OidcVerifier(
            settings.oidc_issuers,
            self.idp_client,
            leeway_s=settings.oidc_leeway_s,
            max_age_s=settings.oidc_jwks_max_age_s,
            min_refetch_s=settings.oidc_jwks_min_refetch_s,
        )
        # The dashboard's sign-ins through the identity provider: their tokens, kept here.
        self.sessions = SessionStore(settings, self.oidc, self.idp_client)
        # Whether a caller's organisation is registered and active (investors: cached answers of inventory).
        self.organisations = OrganisationCheck(settings, self.upstreams)
        self.rate_limiter = RateLimiter(
            settings.rate_limit_per_s, settings.rate_limit_burst, max_buckets=settings.rate_limit_max_buckets
        )
        self.address_limiter = RateLimiter(*settings.address_rate, max_buckets=settings.rate_limit_max_buckets)

    async def start(self, *, background: bool | None = None) -> None:
        await self.upstreams.open()
        await super().start(background=background)

    async def stop(self) -> None:
        await super().stop()
        await self.upstreams.close()
        await self.idp_client.aclose()

    async def readiness(self) -> dict[str, str]:
        return await self.upstreams.readiness()
