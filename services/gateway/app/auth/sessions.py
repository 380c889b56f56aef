"""The dashboard's sessions with the identity provider: its tokens kept on the server, never in the browser.

A sign-in by the authorization code flow (web/signin.py) leaves the provider's access, refresh and
ID tokens here, under a random session id that the signed session cookie names. Each dashboard
request asks the store for its caller: the access token's caller (verified like a bearer token,
so the same role/org rules hold), after a refresh at the token endpoint when the access token is
due; when the refresh fails or the session reaches its end, the session is over (401, sign in again).

The store is in the gateway's memory: a restart, or another gateway replica, means signing in again
(the identity provider's own session usually makes that one redirect).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.gateway.app.auth.oidc import OidcVerifier
from services.gateway.app.config import GatewaySettings, OidcIssuer
from shared.web.identity import AuthError, Principal
from shared.web.problems import ProblemError

REFRESH_MARGIN_S = 10.0  # refresh an access token this long before it expires
MAX_SESSIONS = 100_000


@dataclass(slots=True)
class ProviderSession:
    issuer: str
    principal: Principal
    access_token: str
    access_expires_at: float  # time.time()
    ends_at: float  # the session's end: the refresh token's expiry, at most the dashboard's session length
    id_token: str
    refresh_token: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class TokenRefused(Exception):
    """The token endpoint refused (a bad code, PKCE verifier or refresh token): its `error` in the message."""


class SessionStore:
    def __init__(self, settings: GatewaySettings, oidc: OidcVerifier, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._oidc = oidc
        self._client = client
        self._sessions: dict[str, ProviderSession] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    @property
    def issuer(self) -> OidcIssuer | None:
        return self._settings.dashboard_oidc

    async def token_request(self, form: dict[str, str]) -> dict[str, Any]:
        """A POST to the issuer's token endpoint, as a confidential client (secret, HTTP Basic) or a public one."""
        config = self.issuer
        assert config is not None and self._settings.dashboard_oidc_client_id is not None
        endpoint = (await self._oidc.issuer(config.issuer).metadata()).get("token_endpoint")
        if not isinstance(endpoint, str):
            raise ProblemError(503, "Service Unavailable", f"The identity provider {config.issuer} names no token endpoint.")
        client_id = self._settings.dashboard_oidc_client_id
        secret = self._settings.dashboard_oidc_client_secret
        auth = httpx.BasicAuth(client_id, secret.get_secret_value()) if secret else None
        body = {**form, "client_id": client_id}
        try:
            response = await self._client.post(endpoint, data=body, auth=auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProblemError(503, "Service Unavailable", f"The identity provider {config.issuer} could not be reached.") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise TokenRefused(f"HTTP {response.status_code} without a JSON object")
        if response.status_code != 200 or not isinstance(answer.get("access_token"), str):
            raise TokenRefused(str(answer.get("error") or f"HTTP {response.status_code}")[:100])
        return answer

    async def open(self, issuer: str, tokens: dict[str, Any]) -> tuple[str, ProviderSession]:
        """A new session for the tokens of a completed sign-in (the ID token already verified)."""
        principal = await self._oidc.verify(tokens["access_token"])
        now = time.time()
        session = ProviderSession(
            issuer=issuer,
            principal=principal,
            access_token=tokens["access_token"],
            access_expires_at=now + _seconds(tokens.get("expires_in"), 300),
            ends_at=now + min(_seconds(tokens.get("refresh_expires_in"), self._session_length), self._session_length),
            id_token=str(tokens.get("id_token") or ""),
            refresh_token=tokens.get("refresh_token") if isinstance(tokens.get("refresh_token"), str) else None,
        )
        if len(self._sessions) >= MAX_SESSIONS:
            self._prune(now)
        sid = secrets.token_urlsafe(32)
        self._sessions[sid] = session
        return sid, session

    def close(self, sid: str | None) -> ProviderSession | None:
        return self._sessions.pop(sid, None) if sid else None

    async def principal(self, sid: str) -> Principal:
        """The caller of a live session: its access token's, refreshed when due. AuthError when it is over."""
        session = self._sessions.get(sid)
        if session is None or time.time() >= session.ends_at:
            self._sessions.pop(sid, None)
            raise AuthError("The session has ended; sign in again.")
        if time.time() < session.access_expires_at - REFRESH_MARGIN_S:
            return session.principal
        async with session.lock:  # one refresh for the page's parallel calls
            if time.time() >= session.access_expires_at - REFRESH_MARGIN_S:
                await self._refresh(sid, session)
        return session.principal

    async def _refresh(self, sid: str, session: ProviderSession) -> None:
        if session.refresh_token is None:
            self._sessions.pop(sid, None)
            raise AuthError("The session has ended; sign in again.")
        try:
            tokens = await self.token_request({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
            principal = await self._oidc.verify(tokens["access_token"])
        except (TokenRefused, AuthError):
            self._sessions.pop(sid, None)
            raise AuthError("The session has ended at the identity provider; sign in again.") from None
        if principal.sub != session.principal.sub:
            self._sessions.pop(sid, None)
            raise AuthError("The session has ended; sign in again.")
        now = time.time()
        session.principal = principal
        session.access_token = tokens["access_token"]
        session.access_expires_at = now + _seconds(tokens.get("expires_in"), 300)
        if isinstance(tokens.get("refresh_token"), str):
            session.refresh_token = tokens["refresh_token"]
        if tokens.get("refresh_expires_in") is not None:
            session.ends_at = min(session.ends_at, now + _seconds(tokens["refresh_expires_in"], 0))
        if isinstance(tokens.get("id_token"), str):
            session.id_token = tokens["id_token"]

    @property
    def _session_length(self) -> float:
        from services.gateway.app.web.session import SESSION_TTL_S  # the cookie's own length bounds the session

        return float(SESSION_TTL_S)

    def _prune(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if now >= s.ends_at]:
            del self._sessions[sid]
        while len(self._sessions) >= MAX_SESSIONS:  # still full: the oldest sign-ins go first
            del self._sessions[next(iter(self._sessions))]


def _seconds(value: Any, default: float) -> float:
    # Keycloak sends refresh_expires_in 0 for an offline token: no end of its own.
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return default
    return float(value)
