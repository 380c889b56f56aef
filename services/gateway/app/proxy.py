"""The forwarded operations of the route table as plain routes: authenticate, rate-limit, forward.

One Starlette route per public path (so a wrong method gets 405 with every allowed method in
`Allow`), no parameter parsing and no body validation here: the path, query string and body
bytes go to the owning service as received, and its answer (problems included) comes back
as-is.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from starlette.routing import Route as PathRoute

from services.gateway.app.auth import authorize
from services.gateway.app.routes import GATEWAY, Route
from services.gateway.app.upstream import forward
from shared.web.app import API_PREFIX


def path_route(path: str, rows: dict[str, Route]) -> PathRoute:
    async def endpoint(request: Request) -> Response:
        row = rows[request.scope["method"]]  # Starlette answered 405 for any other method
        return await forward(request, row.service, await authorize(request, row.access), timeout_s=row.timeout_s)

    endpoint.__name__ = "forward_" + path.strip("/").replace("/", "_")
    route = PathRoute(API_PREFIX + path, endpoint, methods=list(rows))
    route.methods = set(rows)  # exactly the table's methods (Starlette adds HEAD to GET): others are 405
    return route


def install_proxy(app: FastAPI, table: Iterable[Route]) -> None:
    """Add a forwarding route for every row of `table` served by another service."""
    by_path: dict[str, dict[str, Route]] = {}
    for row in table:
        if row.service != GATEWAY:
            by_path.setdefault(row.path, {})[row.method] = row
    # First in the router: most requests are forwarded, and each route tried before costs a match.
    app.router.routes[0:0] = [path_route(path, rows) for path, rows in by_path.items()]
