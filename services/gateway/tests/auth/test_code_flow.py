"""The dashboard's sign-in by the authorization code flow with PKCE, against a local issuer over HTTP.

The gateway (the client) and the issuer talk over loopback: discovery, JWKS, /authorize, /token,
/logout. The browser is an httpx client with a cookie jar that follows the redirects by hand, so
each step can be checked and tampered with.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from services.gateway.app.web.session import CSRF_COOKIE, SESSION_COOKIE
from services.gateway.app.web.signin import LOGIN_COOKIE, code_challenge
from services.gateway.tests.auth.local_issuer import AUDIENCE, CLIENT_ID, Issuer
from services.gateway.tests.support import gateway, serve

ECHO = "/api/v1/complexes"  # any role; the echo upstream answers with the caller it was given
BASE = "https://gateway"  # the browser reaches the gateway over https: Secure cookies


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    issuer = Issuer()
    async with serve(issuer.app) as url:
        issuer.url = url
        yield issuer


def settings_for(echo_upstream, issuer: Issuer, **overrides: Any):
    trusted = {"issuer": issuer.url, "audience": AUDIENCE, "role_claim": "realm_access.roles", "org_claim": "org"}
    values = {"oidc_issuers": [trusted], "dashboard_oidc_client_id": CLIENT_ID, "dashboard_public_url": BASE, **overrides}
    return echo_upstream[2](**values)


@contextlib.asynccontextmanager
async def browser(echo_upstream, issuer: Issuer, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app and a client with a cookie jar against it, on https://gateway."""
    settings = settings_for(echo_upstream, issuer, **overrides)
    async with gateway(settings) as client:
        client.base_url = httpx.URL(BASE)
        yield client


def sessions(client: httpx.AsyncClient):  # noqa: ANN201 - the gateway's server-side session store
    return client._transport.app.state.runtime.sessions  # type: ignore[attr-defined]


def expire_access_tokens(client: httpx.AsyncClient) -> None:
    """As if the access tokens' lifetime had passed (the issuer's tokens live 300 s)."""
    for session in sessions(client)._sessions.values():
        session.access_expires_at = 0


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name in jar:
            cookies[name] = jar
    return cookies


async def authorize(issuer: Issuer, location: str, **tamper: str) -> httpx.Response:
    """The browser at the issuer: /authorize approves and redirects back (`tamper` replaces query parameters)."""
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | tamper
    async with httpx.AsyncClient() as idp_browser:
        return await idp_browser.get(f"{issuer.url}{parts.path}?{urlencode(query)}")


async def sign_in(client: httpx.AsyncClient, issuer: Issuer, **tamper: str) -> httpx.Response:
    """/login, the issuer, and the callback; the callback's response."""
    start = await client.get("/login")
    assert start.status_code == 303, start.text
    back = await authorize(issuer, start.headers["location"], **tamper)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}" == BASE
    return await client.get(f"{callback.path}?{callback.query}")


@pytest.mark.parametrize("secret", [None, "s3cret-of-the-dashboard"], ids=["public client", "confidential client"])
async def test_sign_in_by_code_flow_gives_a_session_that_acts_as_the_access_tokens_caller(echo_upstream, issuer, secret) -> None:
    issuer.client_secret = secret
    async with browser(echo_upstream, issuer, dashboard_oidc_client_secret=secret) as client:
        start = await client.get("/login")
        assert start.status_code == 303
        location = urlsplit(start.headers["location"])
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{issuer.url}/authorize"
        assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == f"{BASE}/callback" and "openid" in query["scope"].split()
        assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32 and len(query["nonce"]) >= 32
        pending = set_cookies(start)[LOGIN_COOKIE][LOGIN_COOKIE]
        assert pending["httponly"] and pending["secure"] and pending["samesite"].lower() == "lax" and pending["path"] == "/callback"
        assert query["state"] not in start.headers["location"].split("state=")[0]  # only in its own parameter

        back = await authorize(issuer, start.headers["location"])
        callback = urlsplit(back.headers["location"])
        done = await client.get(f"{callback.path}?{callback.query}")
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/investeerder"  # the investor's home page
        cookies = set_cookies(done)
        session = cookies[SESSION_COOKIE][SESSION_COOKIE]
        assert session["httponly"] and session["secure"] and session["samesite"].lower() == "lax"
        assert not cookies[CSRF_COOKIE][CSRF_COOKIE]["httponly"]  # the page's script sends it back as X-CSRF-Token
        # No token reaches the browser: no JWT and no refresh token in any cookie, none in the page.
        values = [c.value for jar in cookies.values() for c in jar.values()]
        assert len(issuer.issued) == 3 and not any(token in value for token in issuer.issued for value in values)

        r = await client.get(ECHO)
        assert r.status_code == 200, r.text
        assert r.json()["principal"] == {"sub": "user-1", "role": "investor", "org": "wc-woonbron"}
        page = await client.get("/investeerder")
        assert page.status_code == 200 and "Aangemeld als <strong>investeerder</strong> (wc-woonbron)" in page.text
        assert not any(token in page.text for token in issuer.issued)
        # a state-changing call still needs the CSRF token of the session
        assert (await client.post(ECHO, json={})).status_code == 403
        r = await client.post(ECHO, json={}, headers={"X-CSRF-Token": client.cookies[CSRF_COOKIE]})
        assert r.status_code == 201, r.text


async def test_an_answer_with_another_state_is_refused_with_400(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer) as client:
        r = await sign_in(client, issuer, state="state-of-another-sign-in")
        assert r.status_code == 400 and "state" in r.text
        assert SESSION_COOKIE not in client.cookies
        # without the sign-in's cookie (another browser, or it expired) the callback is refused as well
        start = await client.get("/login")
        back = await authorize(issuer, start.headers["location"])
        client.cookies.delete(LOGIN_COOKIE)
        callback = urlsplit(back.headers["location"])
        r = await client.get(f"{callback.path}?{callback.query}")
        assert r.status_code == 400 and "verlopen" in r.text
        assert SESSION_COOKIE not in client.cookies
        assert (await client.get(ECHO)).status_code == 401


async def test_a_code_redeemed_with_another_pkce_verifier_is_refused(echo_upstream, issuer) -> None:
    """An attacker who got hold of the code but not the browser's verifier: the issuer refuses the exchange."""
    async with browser(echo_upstream, issuer) as client:
        r = await sign_in(client, issuer, code_challenge=code_challenge("the attacker's own verifier"))
        assert r.status_code == 400 and "weigerde de code" in r.text
        assert issuer.token_errors["invalid_grant"] == 1
        assert SESSION_COOKIE not in client.cookies
        assert len(sessions(client)) == 0


async def test_an_id_token_with_another_nonce_is_refused(echo_upstream, issuer) -> None:
    issuer.id_token_nonce = "nonce-of-another-sign-in"
    async with browser(echo_upstream, issuer) as client:
        r = await sign_in(client, issuer)
        assert r.status_code == 400 and "nonce" in r.text
        assert SESSION_COOKIE not in client.cookies


async def test_an_id_token_for_another_client_is_refused(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer, dashboard_oidc_client_id="another-client") as client:
        issuer.client_id = "another-client"
        original = issuer._tokens

        def for_someone_else(user, nonce):  # noqa: ANN001, ANN202
            tokens = original(user, nonce)
            tokens["id_token"] = issuer.token(aud="herplaatsing-dashboard", sub=user["sub"], nonce=nonce, realm_access=None, org=None)
            return tokens

        issuer._tokens = for_someone_else  # type: ignore[method-assign]
        r = await sign_in(client, issuer)
        assert r.status_code == 400 and SESSION_COOKIE not in client.cookies


async def test_a_confidential_client_with_the_wrong_secret_gets_no_session(echo_upstream, issuer) -> None:
    issuer.client_secret = "the real secret"
    async with browser(echo_upstream, issuer, dashboard_oidc_client_secret="a stale secret") as client:
        r = await sign_in(client, issuer)
        assert r.status_code == 400 and issuer.token_errors["invalid_client"] == 1
        assert SESSION_COOKIE not in client.cookies


async def test_sign_out_ends_the_session_here_and_at_the_issuer(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer) as client:
        assert (await sign_in(client, issuer)).status_code == 303
        # the sign-out form's answer redirects to the issuer: the pages' CSP allows exactly that origin for forms
        page = await client.get("/investeerder")
        assert f"form-action 'self' {issuer.url};" in page.headers["Content-Security-Policy"] + ";"
        stolen = client.cookies[SESSION_COOKIE]
        r = await client.post("/afmelden", data={"csrf": client.cookies[CSRF_COOKIE]})
        assert r.status_code == 303
        logout = urlsplit(r.headers["location"])
        assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{issuer.url}/logout"
        query = {k: v[0] for k, v in parse_qs(logout.query).items()}
        assert query["post_logout_redirect_uri"] == f"{BASE}/aanmelden" and query["client_id"] == CLIENT_ID
        assert query["id_token_hint"].startswith("eyJ")
        assert SESSION_COOKIE not in client.cookies and CSRF_COOKIE not in client.cookies
        # the cookie, replayed after sign-out, names a session that no longer exists
        client.cookies.set(SESSION_COOKIE, stolen)
        r = await client.get(ECHO)
        assert r.status_code == 401 and "ended" in r.json()["detail"]
        assert (await client.get("/investeerder")).headers["location"] == "/aanmelden"


async def test_the_access_token_is_refreshed_and_the_session_ends_when_refresh_is_refused(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer) as client:
        assert (await sign_in(client, issuer)).status_code == 303
        assert len(issuer.refresh_tokens) == 1
        r = await client.get(ECHO)
        assert r.json()["principal"]["org"] == "wc-woonbron" and len(issuer.refresh_tokens) == 1  # not due: no refresh
        issuer.user = {**issuer.user, "org": "wc-other"}  # what the issuer now says about the user
        expire_access_tokens(client)
        r = await client.get(ECHO)
        assert r.status_code == 200, r.text
        assert r.json()["principal"]["org"] == "wc-other"  # the caller of the refreshed access token
        issuer.refresh_tokens.clear()  # the issuer revoked the session
        expire_access_tokens(client)
        r = await client.get(ECHO)
        assert r.status_code == 401 and "ended" in r.json()["detail"]
        assert (await client.get("/investeerder")).headers["location"] == "/aanmelden"


async def test_an_unregistered_or_deactivated_organisation_cannot_sign_in(echo_upstream, issuer) -> None:
    echo_upstream[0].unregistered.add("wc-unknown")
    echo_upstream[0].active["wc-gone"] = False
    async with browser(echo_upstream, issuer) as client:
        issuer.user = {**issuer.user, "org": "wc-unknown"}
        r = await sign_in(client, issuer)
        assert r.status_code == 403 and "wc-unknown is not registered" in r.text
        issuer.user = {**issuer.user, "org": "wc-gone"}
        r = await sign_in(client, issuer)
        assert r.status_code == 403 and "wc-gone is deactivated" in r.text
        assert SESSION_COOKIE not in client.cookies
        assert len(sessions(client)) == 0


async def test_production_with_an_issuer_signs_in_only_through_it(echo_upstream, issuer) -> None:
    from services.gateway.tests.auth.test_oidc_tokens import production_secrets

    async with browser(echo_upstream, issuer, environment="production", **production_secrets()) as client:
        r = await client.get("/aanmelden")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert (await client.post("/aanmelden", data={"role": "marktmeester", "org": ""})).status_code == 404
        assert (await client.get("/")).headers["location"] == "/aanmelden"


async def test_development_offers_both_and_marks_the_development_sign_in(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer, environment="development") as client:
        page = await client.get("/aanmelden")
        assert page.status_code == 200
        assert 'href="/login"' in page.text and "Ontwikkel-aanmelding" in page.text
    async with gateway(echo_upstream[2](environment="development")) as client:  # no issuer: only the development sign-in
        page = await client.get("/aanmelden")
        assert page.status_code == 200 and 'href="/login"' not in page.text and "Ontwikkel-aanmelding" in page.text
        assert (await client.get("/login")).status_code == 404


async def test_parallel_calls_of_a_page_refresh_once(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer) as client:
        assert (await sign_in(client, issuer)).status_code == 303
        old = set(issuer.refresh_tokens)
        expire_access_tokens(client)
        answers = await asyncio.gather(*(client.get(ECHO) for _ in range(5)))
        assert [a.status_code for a in answers] == [200] * 5
        # one refresh: the old refresh token redeemed, exactly one new one issued
        assert not old & set(issuer.refresh_tokens) and len(issuer.refresh_tokens) == 1


async def test_the_session_ends_at_its_end_and_a_deactivation_reaches_a_signed_in_user(echo_upstream, issuer) -> None:
    async with browser(echo_upstream, issuer, organisation_cache_s=0) as client:
        assert (await sign_in(client, issuer)).status_code == 303
        assert (await client.get(ECHO)).status_code == 200
        echo_upstream[0].active["wc-woonbron"] = False  # the marktmeester deactivates the user's organisation
        r = await client.get(ECHO)
        assert r.status_code == 403 and "wc-woonbron is deactivated" in r.json()["detail"]
        echo_upstream[0].active["wc-woonbron"] = True
        assert (await client.get(ECHO)).status_code == 200
        for session in sessions(client)._sessions.values():
            session.ends_at = 0  # the refresh token's lifetime (or the 8 hours) has passed
        r = await client.get(ECHO)
        assert r.status_code == 401 and "ended" in r.json()["detail"]
        assert len(sessions(client)) == 0
