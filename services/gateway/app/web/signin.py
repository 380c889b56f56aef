"""Sign-in to the dashboard through the identity provider: the authorization code flow with PKCE.

The gateway is the OAuth client (backend-for-frontend); the browser only ever holds the session cookie.
- GET /login: a fresh `state`, `nonce` and PKCE `code_verifier` go into `hp_login`, a signed, httpOnly
  cookie that lives ten minutes; the browser is sent to the issuer's authorization endpoint with
  the state, the nonce and the S256 code challenge.
- GET /callback: the state must equal the cookie's (400 otherwise: another browser's or a forged
  answer); the code is exchanged at the token endpoint with the verifier (and the client secret when
  the gateway is a confidential client); the ID token must be the issuer's, for this client, with the
  cookie's nonce; the access token's caller (read like a bearer token) must have a registered, active
  organisation. Then the tokens go to the server-side session store and the browser gets the session cookie.
- Sign-out (POST /afmelden, pages.py) ends the server-side session and, when the issuer has an
  end_session_endpoint, ends the provider's session there as well.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.app.auth.sessions import SessionStore, TokenRefused
from services.gateway.app.config import GatewaySettings
from services.gateway.app.web.session import seal, start_session, unseal
from shared.web.identity import AuthError
from shared.web.problems import ProblemError

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "hp_login"
LOGIN_TTL_S = 600
CALLBACK_PATH = "/callback"


def redirect_uri(request: Request) -> str:
    settings: GatewaySettings = request.app.state.settings
    base = settings.dashboard_public_url or str(request.base_url)
    return base.rstrip("/") + CALLBACK_PATH


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _failed(request: Request, status: int, reason: str) -> Response:
    from services.gateway.app.web.pages import layout  # the pages module mounts this router

    body = (
        f'<div class="utrecht-alert utrecht-alert--error hp-alert" role="alert"><p class="utrecht-paragraph">{escape(reason)}</p></div>'
        '<p class="utrecht-paragraph"><a class="utrecht-link" href="/login">Opnieuw aanmelden</a></p>'
    )
    response = layout(request, "Aanmelden mislukt", body, status=status)
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
    return response


@router.get("/login")
async def login(request: Request) -> Response:
    """Off to the identity provider (404 when the dashboard has no OIDC sign-in configured)."""
    store: SessionStore = request.app.state.runtime.sessions
    config = store.issuer
    if config is None:
        return _failed(request, 404, "Aanmelden via een identiteitsaanbieder is niet ingesteld.")
    metadata = await request.app.state.runtime.oidc.issuer(config.issuer).metadata()
    endpoint = metadata.get("authorization_endpoint")
    if not isinstance(endpoint, str):
        raise ProblemError(503, "Service Unavailable", f"The identity provider {config.issuer} names no authorization endpoint.")
    settings: GatewaySettings = request.app.state.settings
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    query = {
        "response_type": "code",
        "client_id": settings.dashboard_oidc_client_id,
        "redirect_uri": redirect_uri(request),
        "scope": settings.dashboard_oidc_scopes,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    response = RedirectResponse(f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}", status_code=303)
    pending = seal(settings, "login", {"state": state, "nonce": nonce, "verifier": verifier, "issuer": config.issuer,
                                       "exp": int(time.time()) + LOGIN_TTL_S})
    # SameSite=Lax: the provider's redirect back is a top-level GET, which carries it.
    response.set_cookie(LOGIN_COOKIE, pending, max_age=LOGIN_TTL_S, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=CALLBACK_PATH)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request) -> Response:
    settings: GatewaySettings = request.app.state.settings
    runtime = request.app.state.runtime
    store: SessionStore = runtime.sessions
    if store.issuer is None:
        return _failed(request, 404, "Aanmelden via een identiteitsaanbieder is niet ingesteld.")
    pending = unseal(settings, "login", request.cookies.get(LOGIN_COOKIE, ""))
    state = request.query_params.get("state", "")
    if pending is None:
        return _failed(request, 400, "Deze aanmelding is verlopen of in een andere browser begonnen.")
    if not state or not hmac.compare_digest(state, str(pending["state"])):
        return _failed(request, 400, "Het antwoord van de identiteitsaanbieder hoort niet bij deze aanmelding (state).")
    if pending.get("issuer") != store.issuer.issuer:
        return _failed(request, 400, "Deze aanmelding is begonnen bij een andere identiteitsaanbieder.")
    if "error" in request.query_params:
        reason = request.query_params.get("error_description") or request.query_params["error"]
        return _failed(request, 403, f"De identiteitsaanbieder weigerde de aanmelding: {reason[:200]}")
    code = request.query_params.get("code", "")
    if not code:
        return _failed(request, 400, "Het antwoord van de identiteitsaanbieder bevat geen code.")
    try:
        tokens = await store.token_request({
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(request),
            "code_verifier": str(pending["verifier"]),
        })
    except TokenRefused as exc:
        return _failed(request, 400, f"De identiteitsaanbieder weigerde de code ({exc}).")
    try:
        if not isinstance(tokens.get("id_token"), str):
            raise AuthError("The token endpoint answered without an ID token.")
        await runtime.oidc.verify_id_token(tokens["id_token"], store.issuer.issuer, settings.dashboard_oidc_client_id, str(pending["nonce"]))
        sid, session = await store.open(store.issuer.issuer, tokens)
    except AuthError as exc:
        return _failed(request, 400, f"Het antwoord van de identiteitsaanbieder is geweigerd: {exc.detail}")
    try:
        await runtime.organisations.require_active(session.principal)
    except ProblemError as exc:
        store.close(sid)
        if exc.status != 403:
            raise
        return _failed(request, 403, exc.detail)
    if session.principal.role is None:
        store.close(sid)
        return _failed(request, 403, "Uw account heeft geen rol in Herplaatsing (marktmeester, investeerder of gemeente).")
    from services.gateway.app.web.pages import HOME

    response = RedirectResponse(HOME[session.principal.role], status_code=303)
    start_session(response, request, session.principal, sid=sid, ttl_s=int(session.ends_at - time.time()))
    response.delete_cookie(LOGIN_COOKIE, path=CALLBACK_PATH)
    return response


async def end_session_url(request: Request, id_token: str) -> str | None:
    """Where to end the provider's session too (its end_session_endpoint), back to the sign-in page after."""
    store: SessionStore = request.app.state.runtime.sessions
    if store.issuer is None:
        return None
    try:
        metadata = await request.app.state.runtime.oidc.issuer(store.issuer.issuer).metadata()
    except ProblemError:
        return None  # the provider is unreachable: the gateway's own session is ended all the same
    endpoint = metadata.get("end_session_endpoint")
    if not isinstance(endpoint, str):
        return None
    settings: GatewaySettings = request.app.state.settings
    base = (settings.dashboard_public_url or str(request.base_url)).rstrip("/")
    query = {"client_id": settings.dashboard_oidc_client_id, "post_logout_redirect_uri": f"{base}/aanmelden"}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
