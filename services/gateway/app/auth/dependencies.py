"""Who is calling: `Authorization: Bearer <JWT>` turned into a Principal, checked against a route's Access.

- a token from a configured OpenID Connect issuer is checked against that issuer's keys (auth/oidc.py);
  any other is an HS256 development token, refused with ENVIRONMENT=production;
- a route that needs a token answers 401 (with WWW-Authenticate) without a valid one;
- a public route serves a caller without a header as anonymous, but a token that is sent
  must be valid (a broken token is an error, not a silent downgrade to anonymous);
- a route for some roles answers 403 to the others;
- without an Authorization header, the dashboard's session cookie is accepted instead (app/web/session.py);
- the caller's organisation must be registered and active (auth/organisations.py), else 403.
Every call counts against the caller's rate limit (principal, or client IP).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import jwt
from fastapi import Request

from services.gateway.app.config import GatewaySettings
from services.gateway.app.routes import Access
from services.gateway.app.web.session import session_principal
from shared.web.identity import ANONYMOUS, AuthError, Principal, require_role, verify_user_token


def _client_key(request: Request) -> str:
    # The peer address, or the client a trusted proxy names in X-Forwarded-For: uvicorn rewrites
    # it only for the proxies in the TRUSTED_PROXIES setting (herplaatsing serve), never blindly.
    return f"ip:{request.client.host if request.client else 'unknown'}"


def limit_address(request: Request) -> None:
    """One token of the client address's bucket: 429 when it is empty (operations endpoints)."""
    request.app.state.runtime.rate_limiter.take(_client_key(request))


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


VERIFIED_CACHE_SIZE = 10_000


async def _verify(request: Request, token: str) -> Principal:
    """The token's caller: an OIDC issuer's token, or (outside production) an HS256 development token;
    remembered per token until the token's own `exp`.

    A token is immutable, so a verified one stays valid until it expires; a client sends the
    same token with every request, and checking the signature each time is a measurable
    part of the gateway's overhead. Expiry is still enforced on every request.
    """
    settings: GatewaySettings = request.app.state.settings
    runtime = request.app.state.runtime
    verified: dict[str, tuple[float, Principal]] = runtime.verified_tokens
    cached = verified.get(token)
    if cached is not None:
        if time.time() < cached[0]:
            return cached[1]
        del verified[token]
    # Each branch raises AuthError on anything wrong.
    if runtime.oidc.trusts(token):
        principal = await runtime.oidc.verify(token)
    elif settings.environment == "production":
        raise AuthError("The token is not from a trusted identity provider (iss).")
    else:
        principal = verify_user_token(settings, token)
    if len(verified) >= VERIFIED_CACHE_SIZE:
        verified.clear()
    # Verified just now, so reading `exp` without checking the signature again is safe.
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    verified[token] = (float(exp), principal)
    return principal


async def _resolve(request: Request, *, required: bool) -> Principal:
    limiter = request.app.state.runtime.rate_limiter
    try:
        token = _bearer_token(request)
        # No bearer token: the dashboard's session cookie, if any, stands in for one.
        session = await session_principal(request) if token is None else None
        if session is not None:
            principal = session
        elif token is None:
            if required:
                raise AuthError("This operation needs a bearer token (Authorization: Bearer <JWT>).")
            principal = ANONYMOUS
        else:
            principal = await _verify(request, token)
            if principal.role is None:
                raise AuthError("The token has no role (marktmeester, investor or municipality).")
    except AuthError:
        limiter.take(_client_key(request))  # failed attempts are limited per client address
        raise
    if principal.role is None:
        limiter.take(_client_key(request))
    else:
        limiter.take(principal.key)
        request.app.state.runtime.address_limiter.take(_client_key(request))
    request.state.principal = principal
    return principal


async def authorize(request: Request, access: Access) -> Principal:
    """The caller of a route with `access`: 401 / 403 / 429 problems otherwise."""
    principal = await _resolve(request, required=access.token)
    if access.roles:
        require_role(principal, *access.roles)
    # The IdP says who belongs to an organisation; the registry says whether it takes part (403 otherwise).
    await request.app.state.runtime.organisations.require_active(principal)
    return principal


def requires(access: Access) -> Callable[[Request], Awaitable[Principal]]:
    """`authorize` as a FastAPI dependency, for the gateway's own endpoints."""

    async def caller(request: Request) -> Principal:
        return await authorize(request, access)

    return caller
