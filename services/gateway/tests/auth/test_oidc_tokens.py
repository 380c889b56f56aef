"""Bearer tokens from an OpenID Connect issuer: a real issuer on loopback serving discovery and JWKS.

The issuer signs with keys from `cryptography`; the gateway knows only its URL, fetches the
discovery document and the keys over HTTP, and forwards the caller it read from the claims.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.gateway.app.config import GatewaySettings
from services.gateway.tests.auth.local_issuer import AUDIENCE, Issuer
from services.gateway.tests.auth.test_bearer_tokens import assert_unauthorized
from services.gateway.tests.support import EchoUpstream, bearer, gateway, gateway_settings, serve
from shared.config import DEV_INTERNAL_SECRET, DEV_JWT_SECRET
from shared.domain import Role

ECHO = "/api/v1/complexes"  # any role; the echo upstream answers with the caller it was given


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    issuer = Issuer()
    async with serve(issuer.app) as url:
        issuer.url = url
        yield issuer


def oidc_settings(echo_upstream, issuer: Issuer, **overrides: Any) -> GatewaySettings:
    trusted = {"issuer": issuer.url, "audience": AUDIENCE, "role_claim": "realm_access.roles", "org_claim": "org"}
    return echo_upstream[2](oidc_issuers=[trusted], oidc_jwks_min_refetch_s=0.2, **overrides)


@contextlib.asynccontextmanager
async def oidc_gateway(echo_upstream, issuer: Issuer, **overrides: Any):
    async with gateway(oidc_settings(echo_upstream, issuer, **overrides)) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("role", "org", "alg"),
    [("marktmeester", None, "RS256"), ("investor", "wc-woonbron", "ES256"), ("municipality", "GM0363", "RS256")],
)
async def test_a_valid_token_of_each_role_reaches_the_service_as_its_caller(echo_upstream, issuer, role, org, alg) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:
        token = issuer.token(alg=alg, sub=f"{role}-1", org=org, realm_access={"roles": ["offline_access", role]})
        r = await client.get(ECHO, headers=auth(token))
        assert r.status_code == 200, r.text
        assert r.json()["principal"] == {"sub": f"{role}-1", "role": role, "org": org}
        # the keys were fetched once, and the next call with another token uses them
        r = await client.get(ECHO, headers=auth(issuer.token(alg=alg, sub="other", org=org, realm_access={"roles": [role]})))
        assert r.status_code == 200, r.text
        assert issuer.fetches == Counter({"discovery": 1, "jwks": 1})


async def test_role_and_org_claims_are_configuration(echo_upstream, issuer) -> None:
    trusted = {"issuer": issuer.url, "audience": AUDIENCE, "role_claim": "herplaatsing.role", "org_claim": "organisation"}
    async with gateway(echo_upstream[2](oidc_issuers=[trusted])) as client:
        token = issuer.token(realm_access=None, org=None, herplaatsing={"role": "municipality"}, organisation=["GM0014"])
        r = await client.get(ECHO, headers=auth(token))
        assert r.status_code == 200, r.text
        assert r.json()["principal"]["role"] == "municipality" and r.json()["principal"]["org"] == "GM0014"


async def test_a_token_with_two_of_the_roles_is_refused(echo_upstream, issuer) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:
        token = issuer.token(realm_access={"roles": ["marktmeester", "investor"]})
        assert_unauthorized(await client.get(ECHO, headers=auth(token)), "more than one role")


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"aud": "another-api"}, "not for this API"),
        ({"exp": int(time.time()) - 120}, "expired"),  # past the 30 s leeway
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
        ({"exp": None}, "exp"),
    ],
)
async def test_wrong_audience_expired_and_not_yet_valid_tokens_are_refused(echo_upstream, issuer, claims, detail) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:
        assert_unauthorized(await client.get(ECHO, headers=auth(issuer.token(**claims))), detail)
    assert echo_upstream[0].calls[("GET", ECHO)] == 0


async def test_clock_skew_within_the_leeway_is_accepted(echo_upstream, issuer) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:
        token = issuer.token(nbf=int(time.time()) + 10, iat=int(time.time()) + 10)
        assert (await client.get(ECHO, headers=auth(token))).status_code == 200


async def test_a_token_from_another_issuer_is_refused(echo_upstream, issuer) -> None:
    """Signed by a key the gateway knows, but naming an issuer it does not trust: the dev (HS256) path refuses it."""
    other = Issuer()
    other.url = "https://idp.example.org/realms/other"
    async with oidc_gateway(echo_upstream, issuer) as client:
        assert_unauthorized(await client.get(ECHO, headers=auth(other.token())), "token")
    async with oidc_gateway(echo_upstream, issuer, environment="production", **production_secrets()) as client:
        assert_unauthorized(await client.get(ECHO, headers=auth(other.token())), "not from a trusted identity provider")


async def test_an_issuer_whose_discovery_names_another_issuer_is_not_trusted(echo_upstream, issuer) -> None:
    trusted = {"issuer": issuer.url + "/", "audience": AUDIENCE, "discovery_url": f"{issuer.url}/.well-known/openid-configuration"}
    async with gateway(echo_upstream[2](oidc_issuers=[trusted])) as client:
        r = await client.get(ECHO, headers=auth(issuer.token(iss=issuer.url + "/")))
        assert r.status_code == 503, r.text


async def test_an_unknown_key_id_is_refused_and_refetches_at_most_once_per_interval(echo_upstream, issuer) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:
        assert (await client.get(ECHO, headers=auth(issuer.token()))).status_code == 200
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        await asyncio.sleep(0.25)  # past oidc_jwks_min_refetch_s
        for n in range(5):
            forged = jwt.encode({"iss": issuer.url, "aud": AUDIENCE, "sub": f"x{n}", "exp": int(time.time()) + 60},
                                stranger, algorithm="RS256", headers={"kid": f"unknown-{n}"})
            assert_unauthorized(await client.get(ECHO, headers=auth(forged)), "kid")
        assert issuer.fetches["jwks"] == 2  # the first fetch, and one refetch for five unknown kids in a row


async def test_a_rotated_key_works_after_the_refetch(echo_upstream, issuer) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:
        old = issuer.token(sub="before")
        assert (await client.get(ECHO, headers=auth(old))).status_code == 200
        issuer.rotate()  # the old kid is gone, a new one is served
        await asyncio.sleep(0.25)  # past oidc_jwks_min_refetch_s
        r = await client.get(ECHO, headers=auth(issuer.token(sub="after")))
        assert r.status_code == 200, r.text
        assert r.json()["principal"]["sub"] == "after"
        assert issuer.fetches["jwks"] == 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_alg_confusion_hs256_signed_with_the_public_key_is_refused(echo_upstream, issuer) -> None:
    kid = next(k for k in issuer.keys if k.startswith("rsa"))
    public_pem = issuer.keys[kid].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # PyJWT refuses to HMAC with a PEM key, so the attacker's token is built by hand.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps({"iss": issuer.url, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 60,
                            "realm_access": {"roles": ["marktmeester"]}}).encode())
    signature = _b64(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    async with oidc_gateway(echo_upstream, issuer) as client:
        assert_unauthorized(await client.get(ECHO, headers=auth(f"{header}.{body}.{signature}")), "algorithm")
    assert echo_upstream[0].calls[("GET", ECHO)] == 0


async def test_alg_none_is_refused(echo_upstream, issuer) -> None:
    token = jwt.encode({"iss": issuer.url, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 60,
                        "realm_access": {"roles": ["marktmeester"]}}, None, algorithm="none")
    async with oidc_gateway(echo_upstream, issuer) as client:
        assert_unauthorized(await client.get(ECHO, headers=auth(token)), "algorithm")


def production_secrets() -> dict[str, str]:
    return {"jwt_secret": "Zq8" + DEV_JWT_SECRET[::-1] + "x7Kp2mVw9LrT", "internal_secret": "Yw3" + DEV_INTERNAL_SECRET[::-1] + "b5Nc8jQe1HsU"}


async def test_production_refuses_hs256_tokens_and_accepts_the_issuers(echo_upstream, issuer) -> None:
    async with oidc_gateway(echo_upstream, issuer) as client:  # test environment: both work
        settings = oidc_settings(echo_upstream, issuer)
        assert (await client.get(ECHO, headers=bearer(settings, Role.investor, "wc-woonbron"))).status_code == 200
    trusted = {"issuer": issuer.url, "audience": AUDIENCE, "role_claim": "realm_access.roles"}
    production = gateway_settings(environment="production", oidc_issuers=[trusted], **production_secrets())
    upstream = EchoUpstream(production)  # shares the production internal secret
    async with serve(upstream.app) as url:
        settings = production.model_copy(update={"inventory_url": url, "sites_url": url, "matching_url": url})
        async with gateway(settings) as client:
            assert_unauthorized(await client.get(ECHO, headers=bearer(settings, Role.marktmeester)), "not from a trusted identity provider")
            r = await client.get(ECHO, headers=auth(issuer.token()))
            assert r.status_code == 200, r.text
            assert r.json()["principal"] == {"sub": "user-1", "role": "investor", "org": "wc-woonbron"}
