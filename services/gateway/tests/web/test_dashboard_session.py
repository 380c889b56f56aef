"""The dashboard's development sign-in and its cookie session, without a browser.

The session cookie stands in for a bearer token on /api/v1 (the services receive the same
internal identity), state-changing calls need the CSRF header, and bearer clients are unchanged.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from services.gateway.app.main import create_app
from services.gateway.app.web.session import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from services.gateway.tests.support import bearer, gateway, gateway_settings
from shared.demo_parties import GARANTIEKAVEL_SPOTS
from shared.domain import Role
from herplaatsing.testing import running_app


async def sign_in(client: httpx.AsyncClient, role: str, org: str = "") -> httpx.Response:
    return await client.post("/aanmelden", data={"role": role, "org": org})


async def test_sign_in_page_lists_the_demo_identities_in_development() -> None:
    async with gateway(gateway_settings(environment="development")) as client:
        r = await client.get("/aanmelden")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in r.text and "Marktmeester (RVO)" in r.text
    # The services are down: the scenario's garantiekavel municipalities are offered.
    for code in GARANTIEKAVEL_SPOTS:
        assert f'value="{code}"' in r.text
    assert "wc-lefier" in r.text  # a demo investor


@pytest.mark.parametrize("environment", ["test", "production"])
async def test_sign_in_is_refused_outside_development(environment: str) -> None:
    # production refuses weak secrets (entropy), so it gets real random ones
    overrides = {"jwt_secret": secrets.token_urlsafe(48), "internal_secret": secrets.token_urlsafe(48)} if environment == "production" else {}
    async with gateway(gateway_settings(environment=environment, **overrides)) as client:
        assert (await client.get("/aanmelden")).status_code == 404
        r = await sign_in(client, "marktmeester")
        assert r.status_code == 404 and SESSION_COOKIE not in r.cookies


async def test_signing_in_sets_an_httponly_lax_session_and_a_readable_csrf_cookie() -> None:
    async with gateway(gateway_settings(environment="development")) as client:
        r = await sign_in(client, "municipality", "GM0200")
    assert r.status_code == 303 and r.headers["location"] == "/gemeente"
    cookies = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
    assert "httponly" in cookies[SESSION_COOKIE] and "samesite=lax" in cookies[SESSION_COOKIE]
    assert "httponly" not in cookies[CSRF_COOKIE] and "samesite=lax" in cookies[CSRF_COOKIE]
    assert "secure" not in cookies[SESSION_COOKIE]  # plain http on a laptop; Secure over https
    value = r.cookies[SESSION_COOKIE]
    assert value.count(".") == 1  # a signed session, not a JWT (header.payload.signature) a script could replay


async def test_an_identity_not_on_the_list_cannot_sign_in() -> None:
    async with gateway(gateway_settings(environment="development")) as client:
        r = await sign_in(client, "municipality", "GM9999")
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies


async def test_over_https_the_session_cookie_is_secure() -> None:
    app = create_app(gateway_settings(environment="development"))
    async with running_app(app, base_url="https://gateway") as client:
        r = await sign_in(client, "marktmeester")
    assert "secure" in r.headers["set-cookie"].lower()


async def test_the_session_is_accepted_like_a_bearer_token(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    async with gateway(settings_for(environment="development")) as client:
        assert (await client.get("/api/v1/complexes")).status_code == 401
        await sign_in(client, "investor", "wc-lefier")
        r = await client.get("/api/v1/complexes")
        assert r.status_code == 200, r.text
        assert r.json()["principal"] == {"sub": "demo-investor-wc-lefier", "role": "investor", "org": "wc-lefier"}
        # The role checks of the route table apply as to a token.
        assert (await client.get("/api/v1/matching/runs")).status_code == 403


async def test_state_changing_calls_need_the_csrf_header(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    async with gateway(settings_for(environment="development")) as client:
        await sign_in(client, "marktmeester")
        body = {"mode": "dry_run"}
        r = await client.post("/api/v1/matching/runs", json=body)
        assert r.status_code == 403 and CSRF_HEADER in r.json()["detail"]
        r = await client.post("/api/v1/matching/runs", json=body, headers={CSRF_HEADER: "guessed"})
        assert r.status_code == 403
        assert upstream.calls[("POST", "/api/v1/matching/runs")] == 0
        r = await client.post("/api/v1/matching/runs", json=body, headers={CSRF_HEADER: client.cookies[CSRF_COOKIE]})
        assert r.status_code == 201, r.text


async def test_a_forged_or_tampered_session_is_401(echo_upstream) -> None:
    _, _, settings_for = echo_upstream
    async with gateway(settings_for(environment="development")) as client:
        await sign_in(client, "investor", "wc-lefier")
        payload, _, signature = client.cookies[SESSION_COOKIE].partition(".")
        client.cookies.set(SESSION_COOKIE, payload + "." + signature[:-2] + "AA")
        r = await client.get("/api/v1/complexes")
        assert r.status_code == 401 and "session" in r.json()["detail"]


async def test_bearer_clients_are_unchanged_and_win_over_a_session(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    settings = settings_for(environment="development")
    async with gateway(settings) as client:
        await sign_in(client, "investor", "wc-lefier")
        r = await client.post("/api/v1/matching/runs", json={}, headers=bearer(settings, Role.marktmeester, sub="api-client"))
        assert r.status_code == 201, r.text  # no CSRF needed: a bearer token is not sent by the browser on its own
        assert r.json()["principal"]["sub"] == "api-client"


async def test_pages_redirect_to_sign_in_and_sign_out_ends_the_session(echo_upstream) -> None:
    _, _, settings_for = echo_upstream
    async with gateway(settings_for(environment="development")) as client:
        r = await client.get("/")
        assert r.status_code == 303 and r.headers["location"] == "/aanmelden"
        await sign_in(client, "investor", "wc-lefier")
        assert (await client.get("/")).headers["location"] == "/investeerder"  # the overview is the marktmeester's
        page = await client.get("/investeerder")
        assert page.status_code == 200 and "Aangemeld als" in page.text
        assert "script-src 'self';" in page.headers["content-security-policy"]  # no inline or foreign scripts
        assert (await client.get("/prognose")).status_code == 403
        # Sign-out needs the CSRF token of the session (a cross-site form cannot sign anyone out).
        assert (await client.post("/afmelden", data={"csrf": "wrong"})).status_code == 403
        r = await client.post("/afmelden", data={"csrf": client.cookies[CSRF_COOKIE]})
        assert r.status_code == 303 and SESSION_COOKIE not in client.cookies
        assert (await client.get("/api/v1/complexes")).status_code == 401
