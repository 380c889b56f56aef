"""Rebuild the read model from the stream: truncate, then re-consume inventory.> and sites.> from the start.

Run: `python -m services.matching.app.readmodel.rebuild` (uses the service's environment).
Proposals, runs and the durable consumers' progress are untouched; only the read model is
refolded, with the matcher switched off so nothing is proposed or emitted twice.
"""

from __future__ import annotations

import asyncio
import logging

import nats.errors
import sqlalchemy as sa
from nats.js.api import DeliverPolicy

from services.matching.app.config import MatchingSettings
from services.matching.app.events import build_handlers
from shared.bus.consumer import PoisonMessage, parse
from shared.bus.nats import connect
from shared.db import Database
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)
READ_MODEL_TABLES = ("complexes", "placements", "plots")


async def rebuild_read_model(settings: MatchingSettings, db: Database | None = None, idle_timeout_s: float = 1.0) -> int:
    """Truncate the read model and refold every inventory/sites event in the stream. Returns events applied."""
    own_db = db is None
    db = db or Database(settings.database_url or "", service=f"{settings.service_name}-rebuild")
    runtime = ServiceRuntime(settings)
    handlers = {t: h for group in build_handlers(runtime, react=False).values() for t, h in group.items()}
    # Keep what the matcher derived from the demand (declines, exclusions, states) across the rebuild.
    async with db.sessions() as session:
        kept = {r.placement_id: r for r in (await session.execute(sa.text(
            "SELECT placement_id, demand_status, shortfall_units, excluded_sites, declined_allocations FROM placements"
        ))).all()}
    nc = await connect(settings, name=f"{settings.service_name}-rebuild")
    applied = 0
    try:
        js = nc.jetstream()
        async with db.transaction() as session:
            await session.execute(sa.text(f"TRUNCATE {', '.join(READ_MODEL_TABLES)}"))
            for prefix in ("inventory.>", "sites.>"):
                sub = await js.subscribe(settings.subject(prefix), ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
                try:
                    info = await js.stream_info(settings.stream_name)
                    if info.state.messages == 0:
                        continue
                    while True:
                        try:
                            msg = await sub.next_msg(timeout=idle_timeout_s)
                        except (nats.errors.TimeoutError, asyncio.TimeoutError):
                            break
                        try:
                            event, data = parse(msg.data)
                        except PoisonMessage:
                            continue
                        handler = handlers.get(event.type)
                        if handler is not None and data is not None:
                            await handler(session, event, data)
                            applied += 1
                        if msg.metadata and msg.metadata.num_pending == 0:
                            break
                finally:
                    await sub.unsubscribe()
            for pid, row in kept.items():
                await session.execute(sa.text(
                    "UPDATE placements SET demand_status = :s, shortfall_units = :f, excluded_sites = CAST(:e AS jsonb), "
                    "declined_allocations = CAST(:d AS jsonb) WHERE placement_id = :p"
                ), {"s": row.demand_status, "f": row.shortfall_units, "e": _json(row.excluded_sites),
                    "d": _json(row.declined_allocations), "p": pid})
    finally:
        await nc.close()
        if own_db:
            await db.dispose()
    log.info("read model rebuilt", extra={"events": applied})
    return applied


def _json(value: object) -> str:
    import orjson

    return orjson.dumps(value).decode()


if __name__ == "__main__":
    print(asyncio.run(rebuild_read_model(MatchingSettings())))
