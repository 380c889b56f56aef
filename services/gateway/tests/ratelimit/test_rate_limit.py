"""Token bucket per caller: 429 problem with Retry-After, callers do not share a bucket."""

from __future__ import annotations

import pytest

from services.gateway.app.ratelimit import RateLimited, RateLimiter
from services.gateway.tests.support import bearer, gateway, gateway_settings
from shared.domain import Role


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_burst_then_refills_at_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited) as exc:
        limiter.take("a")
    assert exc.value.retry_after_s == 1  # half a second to the next token, rounded up
    limiter.take("b")  # another caller has its own bucket
    clock.now += 0.5
    limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")
    clock.now += 100  # refills to the burst, not beyond
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")


def test_retry_after_reflects_a_slow_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=0.1, burst=1, clock=clock)
    limiter.take("a")
    with pytest.raises(RateLimited) as exc:
        limiter.take("a")
    assert exc.value.retry_after_s == 10


def test_memory_is_bounded_by_evicting_least_recently_used_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_buckets=100, clock=FakeClock())
    for i in range(1000):
        limiter.take(f"caller-{i}")
    assert len(limiter) == 100


async def test_429_with_retry_after_per_token_and_per_address(echo_upstream) -> None:
    settings = echo_upstream[2](rate_limit_per_s=0.5, rate_limit_burst=3)
    investor = bearer(settings, Role.investor, "wc-woonbron", sub="alice")
    other = bearer(settings, Role.investor, "wc-woonbron", sub="bob")
    async with gateway(settings) as client:
        for _ in range(3):
            assert (await client.get("/api/v1/municipalities?limit=1", headers=investor)).status_code == 200
        r = await client.get("/api/v1/municipalities?limit=1", headers=investor)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "2"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["API-Version"] == "1.2.0"
        assert r.json()["title"] == "Too many requests"
        # Another principal is not affected; anonymous callers share their address's bucket.
        assert (await client.get("/api/v1/municipalities?limit=1", headers=other)).status_code == 200
        for _ in range(3):
            assert (await client.get("/api/v1/municipalities?limit=1")).status_code == 200
        assert (await client.get("/api/v1/municipalities?limit=1")).status_code == 429


async def test_failed_authentication_counts_against_the_address() -> None:
    settings = gateway_settings(rate_limit_per_s=0.5, rate_limit_burst=2)
    async with gateway(settings) as client:
        bad = {"Authorization": "Bearer garbage"}
        assert (await client.get("/api/v1/dashboard/summary", headers=bad)).status_code == 401
        assert (await client.get("/api/v1/dashboard/summary", headers=bad)).status_code == 401
        assert (await client.get("/api/v1/dashboard/summary", headers=bad)).status_code == 429
