"""A small but real OpenID Connect issuer on loopback, for the gateway's tests.

Discovery and JWKS (keys from `cryptography`, rotatable), tokens minted on demand, and the
authorization code flow with PKCE: /authorize approves `user` at once and redirects back with a
code; /token checks the client (secret by HTTP Basic when `client_secret` is set), the redirect
URI and the S256 code verifier, and issues an access token (audience the API), an ID token
(audience the client, the sign-in's nonce) and a refresh token; /logout is the end_session_endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

AUDIENCE = "herplaatsing-api"
CLIENT_ID = "herplaatsing-dashboard"


class Issuer:
    """A tiny OIDC issuer: discovery + JWKS; `rotate()` replaces its key (the old kid disappears)."""

    def __init__(self) -> None:
        self.url = ""
        self.fetches: Counter[str] = Counter()
        self.keys: dict[str, Any] = {}
        self.rotate()
        # The code flow: who /authorize signs in, the client it knows, what it issues.
        self.user: dict[str, Any] = {"sub": "user-1", "realm_access": {"roles": ["offline_access", "investor"]}, "org": "wc-woonbron"}
        self.client_id = CLIENT_ID
        self.client_secret: str | None = None  # None: a public client
        self.access_ttl_s = 300
        self.refresh_ttl_s = 1800
        self.id_token_nonce: str | None = None  # set: the ID token carries this nonce instead of the sign-in's
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.token_errors: Counter[str] = Counter()
        self.logouts: list[dict[str, str]] = []
        self.issued: list[str] = []  # every access, ID and refresh token handed out
        self.app = FastAPI()

        @self.app.get("/.well-known/openid-configuration")
        async def discovery() -> JSONResponse:
            self.fetches["discovery"] += 1
            return JSONResponse({
                "issuer": self.url, "jwks_uri": f"{self.url}/jwks", "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "authorization_endpoint": f"{self.url}/authorize", "token_endpoint": f"{self.url}/token",
                "end_session_endpoint": f"{self.url}/logout", "code_challenge_methods_supported": ["S256"],
            })

        @self.app.get("/jwks")
        async def jwks() -> JSONResponse:
            self.fetches["jwks"] += 1
            return JSONResponse({"keys": [self._jwk(kid, key) for kid, key in self.keys.items()]})

        @self.app.get("/authorize")
        async def authorize(request: Request) -> Any:
            q = request.query_params
            if q.get("response_type") != "code" or q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            if not q.get("redirect_uri", "").endswith("/callback") or not q.get("state") or not q.get("code_challenge"):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"redirect_uri": q["redirect_uri"], "challenge": q["code_challenge"], "nonce": q.get("nonce"),
                                "scope": q.get("scope", ""), "user": dict(self.user)}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", status_code=302)

        @self.app.post("/token")
        async def token(request: Request) -> JSONResponse:
            form = dict(parse_qsl((await request.body()).decode()))  # urlencoded (no python-multipart here)
            if not self._client_ok(request, form):
                return self._error("invalid_client", 401)
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(str(form.get("code")), None)  # a code works once
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return self._error("invalid_grant")
                verifier = str(form.get("code_verifier", ""))
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if not hmac.compare_digest(challenge, grant["challenge"]):
                    return self._error("invalid_grant")  # PKCE: not the verifier of this code's challenge
                return JSONResponse(self._tokens(grant["user"], self.id_token_nonce or grant["nonce"]))
            if form.get("grant_type") == "refresh_token":
                grant = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
                if grant is None or grant["exp"] < time.time():
                    return self._error("invalid_grant")
                # what the issuer knows of the user now (a changed role or org shows in the new tokens)
                user = dict(self.user) if self.user["sub"] == grant["user"]["sub"] else grant["user"]
                return JSONResponse(self._tokens(user, None))
            return self._error("unsupported_grant_type")

        @self.app.get("/logout")
        async def logout(request: Request) -> Any:
            self.logouts.append(dict(request.query_params))
            return RedirectResponse(request.query_params.get("post_logout_redirect_uri", self.url), status_code=302)

    def _client_ok(self, request: Request, form: dict[str, Any]) -> bool:
        if self.client_secret is None:  # a public client names itself
            return form.get("client_id") == self.client_id
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return hmac.compare_digest(request.headers.get("Authorization", ""), expected)

    def _error(self, error: str, status: int = 400) -> JSONResponse:
        self.token_errors[error] += 1
        return JSONResponse({"error": error}, status_code=status)

    def _tokens(self, user: dict[str, Any], nonce: str | None) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = {"user": user, "exp": time.time() + self.refresh_ttl_s}
        id_claims = {"aud": self.client_id, "sub": user["sub"], "exp": int(time.time()) + 300}
        if nonce is not None:
            id_claims["nonce"] = nonce
        tokens = {
            "access_token": self.token(**{**user, "exp": int(time.time()) + self.access_ttl_s, "jti": uuid.uuid4().hex}),
            "id_token": self.token(**{**id_claims, "realm_access": None, "org": None}),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.access_ttl_s,
            "refresh_expires_in": self.refresh_ttl_s,
        }
        self.issued += [tokens["access_token"], tokens["id_token"], refresh]
        return tokens

    @staticmethod
    def _jwk(kid: str, key: Any) -> dict[str, Any]:
        public = key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True) | {"alg": "RS256"}
        else:
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True) | {"alg": "ES256"}
        return jwk | {"kid": kid, "use": "sig"}

    def rotate(self) -> None:
        self.keys = {f"rsa-{uuid.uuid4().hex[:8]}": rsa.generate_private_key(public_exponent=65537, key_size=2048),
                     f"ec-{uuid.uuid4().hex[:8]}": ec.generate_private_key(ec.SECP256R1())}

    def token(self, *, alg: str = "RS256", kid: str | None = None, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        kid = kid or next(k for k in self.keys if k.startswith("rsa" if alg == "RS256" else "ec"))
        now = int(time.time())
        body = {"iss": self.url, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300,
                "realm_access": {"roles": ["default-roles-herplaatsing", "offline_access", "investor"]},
                "org": "wc-woonbron", **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.keys[kid], algorithm=alg, headers={"kid": kid, **(headers or {})})
