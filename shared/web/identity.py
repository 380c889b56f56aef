"""Who is calling: user JWTs (gateway) and the internal identity the gateway forwards.

The gateway verifies the user's bearer token, then calls a service with
`X-Internal-Identity`: a short-lived JWT signed with the internal secret that carries
the same `sub`, `role` and `org`. A service refuses any call without a valid one, so
the internal credential and the forwarded identity are one and the same check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
import orjson
from fastapi import Depends, Request

from shared.config import ServiceSettings
from shared.domain import Role
from shared.web.problems import ProblemError

INTERNAL_HEADER = "X-Internal-Identity"
INTERNAL_AUDIENCE = "herplaatsing-internal"
USER_AUDIENCE = "herplaatsing"
ALGORITHM = "HS256"
MAX_CLAIM_CHARS = 200  # sub and org: they go into idempotency scopes, rate-limit keys and events
MUNICIPALITY_ORG = re.compile(r"GM\d{4}")  # a CBS gemeentecode


@dataclass(frozen=True)
class Principal:
    """The caller: `role` None means an anonymous caller of a public endpoint."""

    sub: str
    role: Role | None
    org: str | None

    @property
    def is_marktmeester(self) -> bool:
        return self.role is Role.marktmeester

    @property
    def key(self) -> str:
        """Scope for idempotency keys and rate limits: one fixed-size value per (role, org, sub).

        A hash of the JSON array, so no choice of org or sub can collide with another caller's
        (`org=a:b` with `sub=b:...` did, joined by colons) and a long sub stays short.
        """
        parts = [self.role.value if self.role else "anonymous", self.org, self.sub]
        return hashlib.sha256(orjson.dumps(parts)).hexdigest()


ANONYMOUS = Principal(sub="anonymous", role=None, org=None)


class AuthError(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="herplaatsing"'})


def _encode(claims: dict, secret: str, ttl_s: int, audience: str) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    body = {**claims, "iat": now, "exp": now + dt.timedelta(seconds=ttl_s), "aud": audience}
    return jwt.encode(body, secret, algorithm=ALGORITHM)


def claims_to_principal(claims: dict) -> Principal:
    sub, role, org = claims.get("sub"), claims.get("role"), claims.get("org")
    if not isinstance(sub, str) or not sub:
        raise AuthError("The token has no subject (sub).")
    for name, value in (("sub", sub), ("role", role), ("org", org)):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_CLAIM_CHARS or "\x00" in value):
            raise AuthError(f"The token's {name} claim must be a string of at most {MAX_CLAIM_CHARS} characters.")
    if role is None:
        return Principal(sub=sub, role=None, org=None)
    try:
        role_value = Role(role)
    except ValueError:
        raise AuthError(f"The token's role {role[:50]!r} is not one of marktmeester, investor, municipality.") from None
    if role_value is not Role.marktmeester and not org:
        raise AuthError("The token has no organisation (org) for its role.")
    if role_value is Role.municipality and not MUNICIPALITY_ORG.fullmatch(org or ""):
        raise AuthError("A municipality token's org must be its gemeentecode (GM followed by four digits).")
    return Principal(sub=sub, role=role_value, org=org)


def mint_user_token(settings: ServiceSettings, sub: str, role: Role | str, org: str | None, ttl_s: int | None = None) -> str:
    role_value = Role(role).value
    return _encode(
        {"sub": sub, "role": role_value, "org": org}, settings.jwt_secret.get_secret_value(), ttl_s or settings.token_ttl_s, USER_AUDIENCE
    )


def decode_token(token: str, key: Any, **checks: Any) -> dict:
    """`jwt.decode` with `checks`; anything wrong is a 401 that says what (user tokens, HS256 or OIDC)."""
    try:
        return jwt.decode(token, key, **checks)
    except jwt.ExpiredSignatureError:
        raise AuthError("The token has expired.") from None
    except jwt.ImmatureSignatureError:
        raise AuthError("The token is not valid yet (nbf).") from None
    except jwt.InvalidAudienceError:
        raise AuthError("The token is not for this API (aud).") from None
    except jwt.InvalidSignatureError:
        raise AuthError("The token's signature is invalid.") from None
    except jwt.DecodeError:
        raise AuthError("The token is malformed.") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"The token is invalid: {exc}.") from None


def verify_user_token(settings: ServiceSettings, token: str) -> Principal:
    claims = decode_token(
        token,
        settings.jwt_secret.get_secret_value(),
        algorithms=[ALGORITHM],
        audience=USER_AUDIENCE,
        options={"require": ["exp", "sub"]},
    )
    return claims_to_principal(claims)


def mint_internal_token(settings: ServiceSettings, principal: Principal, ttl_s: int = 120) -> str:
    claims = {"sub": principal.sub, "role": principal.role.value if principal.role else None, "org": principal.org}
    return _encode(claims, settings.internal_secret.get_secret_value(), ttl_s, INTERNAL_AUDIENCE)


def internal_headers(settings: ServiceSettings, principal: Principal = ANONYMOUS) -> dict[str, str]:
    return {INTERNAL_HEADER: mint_internal_token(settings, principal)}


def verify_internal_token(settings: ServiceSettings, token: str | None) -> Principal:
    if not token:
        raise AuthError(f"Service calls need the internal credential ({INTERNAL_HEADER}).")
    try:
        claims = jwt.decode(
            token,
            settings.internal_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=INTERNAL_AUDIENCE,
            options={"require": ["exp", "sub"]},  # an internal credential always expires
        )
    except jwt.InvalidTokenError:
        raise AuthError("The internal credential is invalid or expired.") from None
    return claims_to_principal(claims)


def _principal_from_request(request: Request) -> Principal:
    settings: ServiceSettings = request.app.state.settings
    return verify_internal_token(settings, request.headers.get(INTERNAL_HEADER))


CurrentPrincipal = Annotated[Principal, Depends(_principal_from_request)]


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role is None:
        raise AuthError("This operation needs a bearer token.")
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise ProblemError(403, "Forbidden", f"This operation is for the role(s): {allowed}.")
