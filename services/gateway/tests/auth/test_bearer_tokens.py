"""The gateway's answer to every way a bearer token can be wrong (before any upstream call)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import jwt
import pytest
from pydantic import SecretStr

from services.gateway.tests.support import bearer, gateway, gateway_settings
from shared.domain import Role
from shared.web.identity import USER_AUDIENCE

PROTECTED = "/api/v1/dashboard/summary"  # marktmeester only; refuses before calling a service


def assert_unauthorized(response, detail_part: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["API-Version"] == "1.2.0"
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert detail_part in body["detail"]


async def test_missing_token_is_401_with_www_authenticate() -> None:
    async with gateway(gateway_settings()) as client:
        assert_unauthorized(await client.get(PROTECTED), "needs a bearer token")


async def test_expired_token_is_401() -> None:
    settings = gateway_settings()
    async with gateway(settings) as client:
        r = await client.get(PROTECTED, headers=bearer(settings, Role.marktmeester, ttl_s=-5))
        assert_unauthorized(r, "expired")


async def test_a_token_accepted_before_is_refused_once_it_expires(echo_upstream) -> None:
    """The gateway remembers verified tokens; that must never outlive the token's `exp`."""
    settings = echo_upstream[2]()
    async with gateway(settings) as client:
        # minted once the gateway runs, with room for a slow first call: exp is whole seconds
        headers = bearer(settings, Role.investor, "wc-woonbron", ttl_s=3)
        exp = jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["exp"]
        r = await client.get("/api/v1/municipalities?limit=1", headers=headers)
        assert r.status_code == 200, r.text
        await asyncio.sleep(max(0.0, exp - time.time()) + 0.05)
        assert_unauthorized(await client.get("/api/v1/municipalities?limit=1", headers=headers), "expired")


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjpwdw==", "Bearer "])
async def test_malformed_token_or_scheme_is_401(header: str) -> None:
    async with gateway(gateway_settings()) as client:
        r = await client.get(PROTECTED, headers={"Authorization": header})
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


async def test_token_signed_with_another_secret_is_401() -> None:
    settings = gateway_settings()
    forger = gateway_settings(jwt_secret=SecretStr("another-secret-of-enough-length-0123456789"))
    async with gateway(settings) as client:
        assert_unauthorized(await client.get(PROTECTED, headers=bearer(forger, Role.marktmeester)), "signature")


async def test_token_without_role_or_with_unknown_role_is_401() -> None:
    settings = gateway_settings()
    now = dt.datetime.now(dt.timezone.utc)
    secret = settings.jwt_secret.get_secret_value()
    base = {"sub": "x", "aud": USER_AUDIENCE, "exp": now + dt.timedelta(minutes=5)}
    async with gateway(settings) as client:
        no_role = jwt.encode(base, secret, algorithm="HS256")
        assert_unauthorized(await client.get(PROTECTED, headers={"Authorization": f"Bearer {no_role}"}), "no role")
        root = jwt.encode({**base, "role": "root", "org": "x"}, secret, algorithm="HS256")
        assert_unauthorized(await client.get(PROTECTED, headers={"Authorization": f"Bearer {root}"}), "role")
        no_org = jwt.encode({**base, "role": "investor"}, secret, algorithm="HS256")
        assert_unauthorized(await client.get(PROTECTED, headers={"Authorization": f"Bearer {no_org}"}), "org")


@pytest.mark.parametrize(("role", "org"), [(Role.investor, "wc-woonbron"), (Role.municipality, "GM0772")])
async def test_wrong_role_is_403_problem(role: Role, org: str) -> None:
    settings = gateway_settings()
    async with gateway(settings) as client:
        r = await client.get(PROTECTED, headers=bearer(settings, role, org))
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"] == "This operation is for the role(s): marktmeester."


async def test_public_route_serves_anonymous_and_valid_tokens_but_refuses_broken_ones(echo_upstream) -> None:
    settings = echo_upstream[2]()
    async with gateway(settings) as client:
        assert (await client.get("/api/v1/municipalities?limit=1")).status_code == 200
        r = await client.get("/api/v1/municipalities?limit=1", headers=bearer(settings, Role.investor, "wc-woonbron"))
        assert r.status_code == 200
        broken = await client.get("/api/v1/municipalities?limit=1", headers=bearer(settings, Role.investor, "wc", ttl_s=-5))
        assert_unauthorized(broken, "expired")
