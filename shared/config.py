"""Typed settings for every service (pydantic-settings).

Each service process reads its own environment. The embedded runner and
docker-compose set the same variables, so a service never knows which one started it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.events.models import PRODUCERS

# Values that are fine on a laptop and refused anywhere else.
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
DEV_INTERNAL_SECRET = "dev-only-internal-secret-change-me-0123"

# What a production secret must carry: 128 bits, as estimated below. secrets.token_urlsafe(48)
# gives ~340; a long but repetitive or dictionary-like string falls short.
MIN_SECRET_BITS = 128

# Who answers for the API and the event contract (OpenAPI and AsyncAPI `info.contact`).
API_CONTACT = {"name": "Herplaatsing team", "url": "https://github.com/herplaatsing", "email": "herplaatsing@example.nl"}


def estimated_entropy_bits(secret: str) -> float:
    """Length times the Shannon entropy of the secret's own characters: 'x' * 64 scores 0.

    A lower bound for random strings; not a proof of randomness (nothing is), but it
    refuses the placeholders, repeated characters and short secrets a length check lets in.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    n = len(secret)
    return n * -sum(c / n * math.log2(c / n) for c in counts.values())



def uvicorn_proxy_options(trusted_proxies: str) -> dict[str, object]:
    """uvicorn's proxy settings for TRUSTED_PROXIES: X-Forwarded-For only from those, or not at all."""
    trusted = ",".join(p.strip() for p in trusted_proxies.split(",") if p.strip())
    return {"proxy_headers": True, "forwarded_allow_ips": trusted} if trusted else {"proxy_headers": False}


class ServiceSettings(BaseSettings):
    """Settings shared by all four services; a service subclasses it for its own knobs."""

    # The process environment only: a .env file in the working directory is docker compose's
    # (generated secrets), and reading it would give embedded processes other secrets than
    # the runner's.
    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str = "herplaatsing"
    # No default: a deployment that forgets it must not fail open as development.
    # (`herplaatsing up / demo / token` set development for the machine they run on.)
    environment: Literal["development", "test", "production"]
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str | None = None
    db_pool_size: int = 5
    db_max_overflow: int = 5

    nats_url: str = "nats://127.0.0.1:4222"
    # deploy/: each service its own NATS user (publish rights for its own events only) and
    # the CA that signed the servers' TLS certificate (NATS_URL=tls://...).
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_tls_ca_file: str | None = None
    # One stream carries every subject; a prefix lets several environments (or test
    # runs) share one NATS server without their subjects overlapping.
    stream_name: str = "HERPLAATSING"
    subject_prefix: str = ""
    stream_replicas: int = 1
    stream_duplicate_window_s: float = 120.0
    stream_max_age_days: int = 365

    outbox_poll_interval_s: float = 0.2
    # an unpublished head event older than this shows as a degraded `outbox` check in /readyz
    outbox_stall_after_s: float = 60.0
    outbox_retention_days: int = 90
    outbox_batch_size: int = 200
    stream_check_interval_s: float = 30.0

    consumer_batch_size: int = 50
    # fold a fetched batch in one transaction (one commit, not one per event); any failure in it
    # falls back to one transaction per event, so retries and dead letters work as before
    consumer_batch_transaction: bool = False
    consumer_fetch_timeout_s: float = 1.0
    consumer_max_deliver: int = 8
    consumer_ack_wait_s: float = 30.0
    consumer_backoff_s: list[float] = Field(default_factory=lambda: [0.2, 1.0, 5.0, 15.0, 30.0, 60.0])
    start_background: bool = True  # tests turn the relay/consumers off and drive them directly

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    internal_secret: SecretStr = SecretStr(DEV_INTERNAL_SECRET)
    token_ttl_s: int = 3600

    # Injectable clock: a fixed "today" for demos and tests; None means the real date.
    today: dt.date | None = None
    expiry_horizon_months: int = 24

    log_level: str = "INFO"
    log_json: bool = True

    # Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the real client.
    # Empty: the peer address is the client, whatever the header says (uvicorn otherwise trusts
    # it from loopback, and a rotating header escaped the gateway's rate limit).
    trusted_proxies: str = ""

    # Browser origins (comma-separated, exact scheme://host[:port]) allowed to call the API by CORS;
    # empty: none. The OpenAPI document is readable from any origin regardless.
    cors_origins: str = ""

    # Limits before work (shared/web/limits.py): what one request may send.
    max_header_bytes: int = Field(default=8 * 1024, ge=1024)
    max_headers_bytes: int = Field(default=32 * 1024, ge=4096)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=32, ge=4)
    max_string_chars: int = Field(default=10_000, ge=200)

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> "ServiceSettings":
        if self.environment == "production":
            for name, dev in (("jwt_secret", DEV_JWT_SECRET), ("internal_secret", DEV_INTERNAL_SECRET)):
                value = getattr(self, name).get_secret_value()
                if value == dev or estimated_entropy_bits(value) < MIN_SECRET_BITS:
                    raise ValueError(
                        f"{name.upper()} must be a random secret of at least {MIN_SECRET_BITS} bits in production"
                        f" (estimated {estimated_entropy_bits(value):.0f}); generate one with"
                        " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                    )
        return self

    def subject(self, event_type: str) -> str:
        """The wire subject of an event type (`inventory.placement.created`)."""
        return f"{self.subject_prefix}.{event_type}" if self.subject_prefix else event_type

    def event_type(self, subject: str) -> str:
        if self.subject_prefix and subject.startswith(self.subject_prefix + "."):
            return subject[len(self.subject_prefix) + 1 :]
        return subject

    @property
    def stream_subjects(self) -> list[str]:
        """Every producer's subjects (the event contract names the producers)."""
        return [self.subject(f"{producer}.>") for producer in PRODUCERS]
