"""Bearer tokens from OpenID Connect issuers: discovery, cached JWKS with key rotation, claims to a Principal.

A token names its issuer (`iss`); a configured issuer's tokens are checked against that issuer's
keys only, with RS256/ES256 only (never HS256 or `none`, so a public key can't be used as an HMAC
secret), its audience, `exp`/`nbf` with a bounded clock skew. Which claim carries the role and
which the organisation is configuration (e.g. Keycloak's `realm_access.roles` and an `org` attribute).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

import httpx
import jwt

from services.gateway.app.config import OidcIssuer
from shared.domain import Role
from shared.web.identity import AuthError, Principal, claims_to_principal, decode_token
from shared.web.problems import ProblemError

ROLES = {role.value for role in Role}


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _role_of(value: Any) -> str | None:
    """The one role of ours in a claim; others (Keycloak's default-roles-*, offline_access) are ignored."""
    candidates = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    ours = sorted({v for v in candidates if isinstance(v, str) and v in ROLES})
    if len(ours) > 1:
        raise AuthError(f"The token carries more than one role ({', '.join(ours)}); a caller acts in one.")
    return ours[0] if ours else None


def _org_of(value: Any) -> Any:
    # A Keycloak user attribute arrives as a string, or as a list when the mapper is multivalued.
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


class IssuerKeys:
    """An issuer's signing keys: fetched on first use, kept `max_age_s`, refetched for an unknown `kid`
    (a key rotation) at most once per `min_refetch_s`, so forged kids can't make the gateway hammer the IdP."""

    def __init__(self, config: OidcIssuer, client: httpx.AsyncClient, *, max_age_s: float, min_refetch_s: float) -> None:
        self.config = config
        self._client = client
        self._max_age_s = max_age_s
        self._min_refetch_s = min_refetch_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._metadata: dict[str, Any] = {}  # the discovery document (endpoints of the code flow)
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        if time.monotonic() - self._fetched_at > self._max_age_s:
            await self._refresh(only_after=self._fetched_at)
        elif kid not in self._keys and time.monotonic() - self._fetched_at >= self._min_refetch_s:
            await self._refresh(only_after=self._fetched_at)
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        try:
            return self._keys[kid or ""]
        except KeyError:
            raise AuthError("The token's signing key (kid) is not one of its issuer's keys.") from None

    async def _refresh(self, only_after: float) -> None:
        async with self._lock:
            if self._fetched_at > only_after:  # another request refreshed while this one waited
                return
            try:
                discovery = await self._json(self.config.discovery)
                if discovery.get("issuer") != self.config.issuer:
                    raise ValueError(f"discovery names issuer {discovery.get('issuer')!r}")
                jwks = await self._json(discovery["jwks_uri"])
                keys = {}
                for entry in jwks.get("keys", []):
                    if entry.get("use", "sig") != "sig" or "kid" not in entry:
                        continue
                    try:
                        keys[entry["kid"]] = jwt.PyJWK(entry)
                    except jwt.PyJWKError:
                        continue  # a key type or curve this gateway does not use
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                # Keep the keys we had (still good for tokens signed before); retry after min_refetch_s.
                self._fetched_at = max(self._fetched_at, time.monotonic() - self._max_age_s + self._min_refetch_s)
                if not self._keys:
                    raise ProblemError(
                        503, "Service Unavailable", f"The identity provider {self.config.issuer} could not be reached."
                    ) from exc
                return
            self._keys = keys
            self._metadata = discovery
            self._fetched_at = time.monotonic()

    async def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (fetched with its keys; 503 when it cannot be had)."""
        if not self._metadata or time.monotonic() - self._fetched_at > self._max_age_s:
            await self._refresh(only_after=self._fetched_at)
        if not self._metadata:
            raise ProblemError(503, "Service Unavailable", f"The identity provider {self.config.issuer} could not be reached.")
        return self._metadata

    async def _json(self, url: str) -> dict[str, Any]:
        response = await self._client.get(url)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"{url} is not a JSON object")
        return body


class OidcVerifier:
    """Every configured issuer's keys, and the check of a token that names one of them."""

    def __init__(self, issuers: list[OidcIssuer], client: httpx.AsyncClient, *, leeway_s: float, max_age_s: float, min_refetch_s: float) -> None:
        self._leeway_s = leeway_s
        self._issuers = {
            config.issuer: IssuerKeys(config, client, max_age_s=max_age_s, min_refetch_s=min_refetch_s) for config in issuers
        }

    def issuer(self, issuer: str) -> IssuerKeys:
        return self._issuers[issuer]

    async def verify_id_token(self, token: str, issuer: str, client_id: str, nonce: str) -> dict[str, Any]:
        """The claims of an ID token from the code flow: this issuer's key, audience the client, the sign-in's nonce."""
        keys = self._issuers[issuer]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthError("The ID token is malformed.") from None
        if header.get("alg") not in keys.config.algorithms:
            raise AuthError(f"The ID token's algorithm must be one of {', '.join(keys.config.algorithms)}.")
        claims = decode_token(
            token,
            await keys.key(header.get("kid")),
            algorithms=keys.config.algorithms,
            audience=client_id,
            issuer=issuer,
            leeway=self._leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        # Replay of another sign-in's ID token: its nonce is not the one this browser was given.
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise AuthError("The ID token's nonce is not the one of this sign-in.")
        return claims

    def trusts(self, token: str) -> bool:
        """Whether the token names a configured issuer (read unverified, only to choose the keys)."""
        try:
            iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            return False
        return isinstance(iss, str) and iss in self._issuers

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            keys = self._issuers[jwt.decode(token, options={"verify_signature": False})["iss"]]
        except (jwt.InvalidTokenError, KeyError):
            raise AuthError("The token is malformed.") from None
        config = keys.config
        if header.get("alg") not in config.algorithms:
            raise AuthError(f"The token's algorithm must be one of {', '.join(config.algorithms)}.")
        key = await keys.key(header.get("kid"))
        claims = decode_token(
            token,
            key,
            algorithms=config.algorithms,
            audience=config.audience,
            issuer=config.issuer,
            leeway=self._leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return claims_to_principal(
            {
                "sub": claims.get("sub"),
                "role": _role_of(_claim(claims, config.role_claim)),
                "org": _org_of(_claim(claims, config.org_claim)),
            }
        )
