"""The public API in one table: who may call which operation, and which service answers it.

Each row is one operation under /api/v1. The gateway authenticates the caller, checks the
role, takes one token of the caller's rate limit and forwards the request (path, query
string and body bytes as received) with the signed internal identity; the owning service
validates the input and answers. The public OpenAPI document is composed from the same rows
(`services/gateway/app/openapi`), so a new operation is one row here plus the service's own
endpoint. Rows served by the gateway itself (`GATEWAY`) are its aggregations: their code is
in app/dashboard, their row says who may call them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.domain import Role

GATEWAY = "gateway"
Service = Literal["inventory", "sites", "matching", "gateway"]


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call: `token` False means public (a token, if sent, must still be valid)."""

    token: bool
    roles: tuple[Role, ...] = ()  # empty: every role

    def describe(self) -> str:
        return ", ".join(r.value for r in self.roles)


PUBLIC = Access(token=False)
ANY_ROLE = Access(token=True)


def only(*roles: Role) -> Access:
    return Access(token=True, roles=roles)


MARKTMEESTER = only(Role.marktmeester)
COMPLEX_OWNER = only(Role.investor, Role.marktmeester)  # a complex's investor, or the marktmeester
PUBLISHER = only(Role.municipality, Role.marktmeester)  # a plot's municipality, or the marktmeester
PARTY = only(Role.investor, Role.municipality)  # the sides that answer a proposal
# A national run loads all open demand, solves (matching's solver_time_limit_s, 10 s) and writes its
# proposals: on a busy machine well over the default 10 s of a forwarded call.
NATIONAL_RUN_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # public template under /api/v1; `{name}` is one path segment
    service: Service
    access: Access
    # How long the gateway waits for the service; None: `upstream_timeout_s`. Longer only where the
    # service solves on purpose (a national run), so a slow answer is not mistaken for a dead service.
    timeout_s: float | None = None


ROUTES: tuple[Route, ...] = (
    Route("GET", "/municipalities", "sites", PUBLIC),
    Route("GET", "/municipalities/{code}", "sites", PUBLIC),
    Route("GET", "/sites", "sites", PUBLIC),
    Route("POST", "/sites", "sites", PUBLISHER),
    Route("GET", "/sites/{id}", "sites", PUBLIC),
    Route("PATCH", "/sites/{id}", "sites", PUBLISHER),
    Route("DELETE", "/sites/{id}", "sites", PUBLISHER),
    Route("GET", "/complexes", "inventory", ANY_ROLE),
    Route("POST", "/complexes", "inventory", COMPLEX_OWNER),
    Route("GET", "/complexes/{id}", "inventory", ANY_ROLE),
    Route("GET", "/complexes/{id}/units", "inventory", ANY_ROLE),
    Route("GET", "/complexes/{id}/valuation", "inventory", COMPLEX_OWNER),
    Route("GET", "/placements", "inventory", ANY_ROLE),
    Route("POST", "/placements", "inventory", COMPLEX_OWNER),
    Route("GET", "/placements/{id}", "inventory", ANY_ROLE),
    Route("PATCH", "/placements/{id}", "inventory", COMPLEX_OWNER),
    Route("POST", "/placements/{id}/end-state", "inventory", COMPLEX_OWNER),
    Route("GET", "/proposals", "matching", ANY_ROLE),
    Route("GET", "/proposals/{id}", "matching", ANY_ROLE),
    Route("POST", "/proposals/{id}/accept", "matching", PARTY),
    Route("POST", "/proposals/{id}/decline", "matching", PARTY),
    Route("GET", "/relocations", "inventory", ANY_ROLE),
    Route("GET", "/relocations/{id}", "inventory", ANY_ROLE),
    Route("POST", "/matching/runs", "matching", MARKTMEESTER, timeout_s=NATIONAL_RUN_TIMEOUT_S),
    Route("GET", "/matching/runs", "matching", MARKTMEESTER),
    Route("GET", "/matching/runs/{id}", "matching", MARKTMEESTER),
    Route("GET", "/matching/policy", "matching", ANY_ROLE),
    Route("PUT", "/matching/policy", "matching", MARKTMEESTER),
    Route("GET", "/matching/policy/versions", "matching", ANY_ROLE),
    Route("GET", "/matching/policy/versions/{version}", "matching", ANY_ROLE),
    Route("GET", "/ledger", "matching", ANY_ROLE),
    Route("GET", "/ledger/placements", "matching", ANY_ROLE),
    Route("GET", "/dashboard/summary", GATEWAY, MARKTMEESTER),
    Route("GET", "/dashboard/forecast", GATEWAY, MARKTMEESTER),
    Route("GET", "/map/sites.geojson", "sites", PUBLIC),
    Route("GET", "/map/placements.geojson", "inventory", ANY_ROLE),
    Route("GET", "/clock", "inventory", ANY_ROLE),
    Route("PATCH", "/clock", "inventory", MARKTMEESTER),
    Route("POST", "/expiry-scans", "inventory", MARKTMEESTER),
    Route("GET", "/dead-letters", GATEWAY, MARKTMEESTER),
    Route("POST", "/dead-letters/{service}/{id}/retry", GATEWAY, MARKTMEESTER),
    Route("POST", "/dead-letters/{service}/{id}/resolve", GATEWAY, MARKTMEESTER),
    Route("GET", "/organisations", "inventory", ANY_ROLE),
    Route("POST", "/organisations", "inventory", MARKTMEESTER),
    Route("GET", "/organisations/{id}", "inventory", ANY_ROLE),
    Route("PATCH", "/organisations/{id}", "inventory", MARKTMEESTER),
)
