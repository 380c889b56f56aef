"""FastAPI dependencies that turn `Authorization: Bearer <JWT>` into a Principal.

- `authenticated`: a valid token is required (401 problem with WWW-Authenticate otherwise).
- `optional_principal`: public routes; no header means anonymous, but a token that is
  sent must be valid (a broken token is an error, not a silent downgrade to anonymous).
- `require_roles(...)`: 403 when the caller's role may not use the operation.
Both count the request against the caller's rate limit (principal, or client IP).
The OpenAPI post-processor reads the markers set here to document security per operation.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated

import jwt
from fastapi import Depends, Request

from services.gateway.app.config import GatewaySettings
from shared.domain import Role
from shared.web.identity import ANONYMOUS, AuthError, Principal, require_role, verify_user_token

SECURITY_MARKER = "__gateway_security__"  # "required" | "optional"
ROLES_MARKER = "__gateway_roles__"


def _client_key(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers/--forwarded-allow-ips so this is the real client.
    return f"ip:{request.client.host if request.client else 'unknown'}"


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


VERIFIED_CACHE_SIZE = 10_000


def _verify(settings: GatewaySettings, verified: dict[str, tuple[float, Principal]], token: str) -> Principal:
    """verify_user_token, remembered per token until the token's own `exp`.

    A token is immutable, so a verified one stays valid until it expires; a client sends the
    same token with every request, and checking the signature each time is a measurable
    part of the gateway's overhead. Expiry is still enforced on every request.
    """
    cached = verified.get(token)
    if cached is not None:
        if time.time() < cached[0]:
            return cached[1]
        del verified[token]
    principal = verify_user_token(settings, token)  # raises AuthError on anything wrong
    if len(verified) >= VERIFIED_CACHE_SIZE:
        verified.clear()
    # Verified just now, so reading `exp` without checking the signature again is safe.
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    verified[token] = (float(exp), principal)
    return principal


def _resolve(request: Request, *, required: bool) -> Principal:
    settings: GatewaySettings = request.app.state.settings
    limiter = request.app.state.runtime.rate_limiter
    try:
        token = _bearer_token(request)
        if token is None:
            if required:
                raise AuthError("This operation needs a bearer token (Authorization: Bearer <JWT>).")
            principal = ANONYMOUS
        else:
            principal = _verify(settings, request.app.state.runtime.verified_tokens, token)
            if principal.role is None:
                raise AuthError("The token has no role (marktmeester, investor or municipality).")
    except AuthError:
        limiter.take(_client_key(request))  # failed attempts are limited per client address
        raise
    limiter.take(principal.key if principal.role is not None else _client_key(request))
    request.state.principal = principal
    return principal


async def authenticated(request: Request) -> Principal:
    return _resolve(request, required=True)


async def optional_principal(request: Request) -> Principal:
    return _resolve(request, required=False)


setattr(authenticated, SECURITY_MARKER, "required")
setattr(optional_principal, SECURITY_MARKER, "optional")


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that yields the caller if their role is one of `roles` (403 otherwise)."""

    async def caller_with_role(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        require_role(principal, *roles)
        return principal

    setattr(caller_with_role, ROLES_MARKER, tuple(roles))
    caller_with_role.__name__ = "caller_with_role_" + "_".join(r.value for r in roles)
    return caller_with_role


Authenticated = Annotated[Principal, Depends(authenticated)]
Caller = Annotated[Principal, Depends(optional_principal)]
Marktmeester = Annotated[Principal, Depends(require_roles(Role.marktmeester))]
# Who may register and change complexes and their placements: their investor, or the marktmeester.
ComplexOwner = Annotated[Principal, Depends(require_roles(Role.investor, Role.marktmeester))]
