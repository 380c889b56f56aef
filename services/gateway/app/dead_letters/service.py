"""One newest-first list of the three services' dead letters, paged with one cursor.

Each service pages its own letters newest first; the gateway merges the pages (a k-way
merge that keeps every service's order) and its cursor holds where each service stands:
"" (from the start), "end" (nothing older) or the service's cursor after the last letter taken.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from services.gateway.app.upstream import Upstreams, UpstreamUnavailable
from shared.bus.dead_letters import cursor_after
from shared.web.dead_letters import DeadLetter, DeadLetterPage
from shared.web.identity import Principal
from shared.web.pagination import decode_cursor, encode_cursor
from shared.web.problems import ProblemError

SERVICES = ("inventory", "sites", "matching")
END = "end"


async def _page(upstreams: Upstreams, service: str, principal: Principal, params: dict[str, Any]) -> DeadLetterPage:
    body = await upstreams.fetch_json(service, "/api/v1/dead-letters", principal, params)
    try:
        return DeadLetterPage.model_validate(body)
    except ValidationError:
        raise ProblemError(502, "Bad gateway", f"The {service} service answered /dead-letters with an unexpected shape.") from None


async def merged_page(upstreams: Upstreams, principal: Principal, status: str | None, limit: int, cursor: str | None) -> DeadLetterPage:
    positions = decode_cursor(cursor, len(SERVICES)) if cursor else [""] * len(SERVICES)
    asked = [s for s, pos in zip(SERVICES, positions, strict=True) if pos != END]

    def params(pos: str) -> dict[str, Any]:
        return {"limit": limit} | ({"status": status} if status else {}) | ({"cursor": pos} if pos else {})

    at = dict(zip(SERVICES, positions, strict=True))
    results = await asyncio.gather(*(_page(upstreams, s, principal, params(at[s])) for s in asked), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise next((f for f in failures if isinstance(f, UpstreamUnavailable)), failures[0])
    pages: dict[str, DeadLetterPage] = dict(zip(asked, results, strict=True))  # type: ignore[arg-type]
    heads = {s: 0 for s in asked}
    taken: list[DeadLetter] = []
    while len(taken) < limit:
        waiting = [s for s in asked if heads[s] < len(pages[s].data)]
        if not waiting:
            break
        newest = max(waiting, key=lambda s: pages[s].data[heads[s]].first_seen_at)
        taken.append(pages[newest].data[heads[newest]])
        heads[newest] += 1
    for s in asked:
        page = pages[s]
        if heads[s] == len(page.data) and page.next_cursor is None:
            at[s] = END
        elif heads[s]:
            at[s] = cursor_after(page.data[heads[s] - 1].id)
    more = any(at[s] != END for s in SERVICES)
    return DeadLetterPage(data=taken, next_cursor=encode_cursor([at[s] for s in SERVICES]) if more else None)
