"""Settings of the gateway (no database; it calls the three services over HTTP)."""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, HttpUrl, SecretStr, field_validator, model_validator

from shared.config import ServiceSettings


class OidcIssuer(BaseModel):
    """One trusted issuer (GATEWAY OIDC_ISSUERS is a JSON list of these)."""

    issuer: str  # exactly the `iss` of its tokens and of its discovery document
    audience: str
    # Where the gateway reads the discovery document, when it reaches the issuer by another
    # address than the public one in `iss` (compose: http://keycloak:8080/realms/...).
    discovery_url: HttpUrl | None = None
    role_claim: str = "roles"  # dotted path; a string or a list holding exactly one of the three roles
    org_claim: str = "org"
    algorithms: list[Literal["RS256", "ES256"]] = Field(default=["RS256", "ES256"], min_length=1)

    @property
    def discovery(self) -> str:
        return str(self.discovery_url or f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 8000
    inventory_url: str = "http://127.0.0.1:8001"
    sites_url: str = "http://127.0.0.1:8002"
    matching_url: str = "http://127.0.0.1:8003"

    # Upstream calls: total time per attempt, and the (shorter) time to open a connection.
    upstream_timeout_s: float = 10.0
    upstream_connect_timeout_s: float = 2.0
    upstream_max_connections: int = 100
    upstream_max_keepalive: int = 20
    # Extra attempts for idempotent methods (GET/HEAD/PUT/DELETE) after a connect error or a 503.
    upstream_retries: int = 2
    upstream_backoff_s: float = 0.05
    readiness_timeout_s: float = 2.0
    # Circuit breaker per service: after this many transport failures in a row the gateway answers
    # 503 at once for that service's routes, and lets one trial call through every `cooldown`.
    circuit_failures: int = Field(default=3, ge=1)
    circuit_cooldown_s: float = 5.0

    # Token bucket per caller (principal, or client IP when anonymous): sustained rate and burst.
    rate_limit_per_s: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=60, ge=1)
    rate_limit_max_buckets: int = 100_000
    # Besides its own bucket, every authenticated call takes one from its client address's bucket
    # (so many tokens from one address cannot multiply the rate). Unset: 5 times the per-caller values.
    rate_limit_address_per_s: float | None = Field(default=None, gt=0)
    rate_limit_address_burst: int | None = Field(default=None, ge=1)

    # A caller without credentials only reads public data: its body may be small (the limit is
    # checked before authentication, from Content-Length, and while the body streams).
    anonymous_max_body_bytes: int = Field(default=16 * 1024, ge=0)

    # OpenID Connect issuers whose bearer tokens the gateway accepts (a JSON list in OIDC_ISSUERS:
    # issuer, audience, optional discovery_url, role_claim, org_claim). With ENVIRONMENT=production
    # only these are accepted; elsewhere the HS256 tokens of `herplaatsing token` work as well.
    oidc_issuers: list[OidcIssuer] = []
    oidc_leeway_s: float = Field(default=30.0, ge=0, le=300)  # clock skew allowed on exp / nbf / iat
    oidc_jwks_max_age_s: float = Field(default=3600.0, gt=0)
    oidc_jwks_min_refetch_s: float = Field(default=30.0, ge=0)  # an unknown kid refetches at most this often
    oidc_timeout_s: float = Field(default=5.0, gt=0)

    # The dashboard's sign-in by the authorization code flow with PKCE (the gateway is the client,
    # a backend-for-frontend): set DASHBOARD_OIDC_CLIENT_ID to turn it on. The issuer is one of
    # OIDC_ISSUERS (default the first); with a client secret the gateway is a confidential client,
    # without one a public client. The redirect URI is <DASHBOARD_PUBLIC_URL>/callback (default: the
    # request's own origin, as the trusted proxies report it).
    dashboard_oidc_client_id: str | None = None
    dashboard_oidc_client_secret: SecretStr | None = None
    dashboard_oidc_issuer: str | None = None
    dashboard_oidc_scopes: str = "openid profile email"
    dashboard_public_url: str | None = None

    # Organisations: a caller's org must be registered and active (investors, asked of the inventory
    # service and remembered this long), a CBS gemeentecode (municipalities) or one of these (marktmeester).
    organisation_cache_s: float = Field(default=30.0, ge=0, le=300)
    marktmeester_orgs: list[str] = ["rvo"]

    @model_validator(mode="after")
    def _dashboard_issuer_is_trusted(self) -> "GatewaySettings":
        if self.dashboard_oidc_client_id and not self.oidc_issuers:
            raise ValueError("dashboard_oidc_client_id needs an issuer in oidc_issuers")
        if self.dashboard_oidc_issuer and self.dashboard_oidc_issuer not in {i.issuer for i in self.oidc_issuers}:
            raise ValueError("dashboard_oidc_issuer must be one of the oidc_issuers")
        if self.dashboard_public_url and urlsplit(self.dashboard_public_url).scheme not in ("http", "https"):
            raise ValueError("dashboard_public_url must be an absolute http(s) URL")
        return self

    @property
    def dashboard_oidc(self) -> OidcIssuer | None:
        """The issuer of the dashboard's sign-in, or None when it is not configured."""
        if not self.dashboard_oidc_client_id or not self.oidc_issuers:
            return None
        wanted = self.dashboard_oidc_issuer or self.oidc_issuers[0].issuer
        return next((i for i in self.oidc_issuers if i.issuer == wanted), None)

    @property
    def address_rate(self) -> tuple[float, int]:
        return (
            self.rate_limit_address_per_s or 5 * self.rate_limit_per_s,
            self.rate_limit_address_burst or 5 * self.rate_limit_burst,
        )

    # The dashboard's maps draw the CBS boundaries only (offline); a tile URL (Leaflet template,
    # e.g. https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png)
    # adds a background layer from that origin, which the pages' CSP then allows for images.
    dashboard_tile_url: str | None = None
    dashboard_tile_attribution: str = ""

    @field_validator("dashboard_tile_url")
    @classmethod
    def _tile_url_is_absolute(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("dashboard_tile_url must be an absolute http(s) URL template")
        return value

    def upstream_url(self, service: str) -> str:
        return {"inventory": self.inventory_url, "sites": self.sites_url, "matching": self.matching_url}[service]
