"""The dashboard's browser session (backend-for-frontend): a signed cookie instead of a bearer token.

The browser never sees a JWT or a secret: signing in sets `hp_session`, an httpOnly,
SameSite=Lax cookie (Secure over https) holding the caller's sub/role/org, an expiry and a
CSRF token, signed with a key derived from the gateway's JWT secret. The gateway accepts that
session like a bearer token for /api/v1. A state-changing call must also send the CSRF token
in `X-CSRF-Token` (double submit: the JavaScript reads it from the non-httpOnly `hp_csrf`
cookie); a cross-site form can send the cookie but cannot read it.

Signed in through the identity provider (web/signin.py), the cookie also names a server-side
session (`sid`) that holds the provider's tokens: the caller is then whoever the session's
access token says, refreshed when it expires, and gone when the session ends or is signed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import orjson
from fastapi import Request, Response

from services.gateway.app.config import GatewaySettings
from shared.domain import Role
from shared.web.identity import AuthError, Principal
from shared.web.problems import ProblemError

SESSION_COOKIE = "hp_session"
CSRF_COOKIE = "hp_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL_S = 8 * 3600  # a working day
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _key(settings: GatewaySettings) -> bytes:
    # A key of its own, so a session can never be replayed as a JWT or the other way round.
    return hmac.new(settings.jwt_secret.get_secret_value().encode(), b"herplaatsing-dashboard-session", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(settings: GatewaySettings, purpose: str, body: dict) -> str:
    """`body` as JSON, signed for one purpose (a session, a sign-in in progress): readable, not forgeable."""
    payload = _b64(orjson.dumps({**body, "purpose": purpose}))
    return payload + "." + _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())


def unseal(settings: GatewaySettings, purpose: str, value: str) -> dict | None:
    """The body of a sealed value of this purpose, unexpired; None when forged, broken, expired or of another purpose."""
    payload, _, signature = value.partition(".")
    expected = _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        return None
    try:
        body = orjson.loads(_unb64(payload))
        fresh = isinstance(body, dict) and body.get("purpose") == purpose and time.time() < float(body["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    return body if fresh else None


def encode_session(settings: GatewaySettings, principal: Principal, csrf: str, ttl_s: int = SESSION_TTL_S, sid: str | None = None) -> str:
    body = {
        "sid": sid,
        "sub": principal.sub,
        "role": principal.role.value if principal.role else None,
        "org": principal.org,
        "csrf": csrf,
        "exp": int(time.time()) + ttl_s,
    }
    payload = _b64(orjson.dumps(body))
    return payload + "." + _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())


def decode_session(settings: GatewaySettings, value: str) -> tuple[Principal, str, str | None]:
    """(caller, csrf token, server-side session id) of a session cookie; AuthError when forged, broken or expired."""
    payload, _, signature = value.partition(".")
    expected = _b64(hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature, expected):
        raise AuthError("The session is invalid; sign in again.")
    try:
        body = orjson.loads(_unb64(payload))
        principal = Principal(sub=body["sub"], role=Role(body["role"]), org=body["org"])
        csrf, exp, sid = str(body["csrf"]), float(body["exp"]), body.get("sid")
        if sid is not None and not isinstance(sid, str):
            raise TypeError("sid")
    except (ValueError, KeyError, TypeError):
        raise AuthError("The session is invalid; sign in again.") from None
    if time.time() >= exp:
        raise AuthError("The session has expired; sign in again.")
    return principal, csrf, sid


def session_id(request: Request) -> str | None:
    """The server-side session the cookie names (a sign-in through the identity provider), if any."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        return decode_session(request.app.state.settings, value)[2]
    except AuthError:
        return None


async def session_principal(request: Request) -> Principal | None:
    """The caller of a dashboard request, or None without a session cookie.

    State-changing methods need `X-CSRF-Token` equal to the session's token (403 otherwise).
    A provider's session answers with its access token's caller (refreshed when due; AuthError once it ended).
    """
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    principal, csrf, sid = decode_session(request.app.state.settings, value)
    if sid is not None:
        principal = await request.app.state.runtime.sessions.principal(sid)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, csrf):
            raise ProblemError(403, "Forbidden", f"A dashboard call that changes data needs the {CSRF_HEADER} header of its session.")
    return principal


def start_session(response: Response, request: Request, principal: Principal, *, sid: str | None = None, ttl_s: int = SESSION_TTL_S) -> None:
    settings: GatewaySettings = request.app.state.settings
    csrf = secrets.token_urlsafe(32)
    secure = request.url.scheme == "https"
    ttl_s = max(1, min(ttl_s, SESSION_TTL_S))
    response.set_cookie(
        SESSION_COOKIE, encode_session(settings, principal, csrf, ttl_s, sid), max_age=ttl_s,
        httponly=True, samesite="lax", secure=secure, path="/",
    )
    # Readable by the page's JavaScript on purpose: it sends it back as X-CSRF-Token.
    response.set_cookie(CSRF_COOKIE, csrf, max_age=ttl_s, httponly=False, samesite="lax", secure=secure, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
