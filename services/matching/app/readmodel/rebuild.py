"""Rebuild the read model from the stream: truncate, then re-consume inventory.> and sites.> from the start.

Run: `python -m services.matching.app.readmodel.rebuild` (uses the service's environment).
Proposals, runs and the durable consumers' progress are untouched; only the read model is
refolded, with the matcher switched off so nothing is proposed or emitted twice.
"""

from __future__ import annotations

import asyncio
import logging

import nats.errors
from nats.js.api import DeliverPolicy

from services.matching.app.config import MatchingSettings
from services.matching.app.events import handlers as event_handlers
from services.matching.app.readmodel import repository
from shared.bus.consumer import PoisonMessage, parse
from shared.bus.nats import connect
from shared.db import Database
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


async def rebuild_read_model(settings: MatchingSettings, db: Database | None = None, idle_timeout_s: float = 1.0) -> int:
    """Truncate the read model and refold every inventory/sites event in the stream. Returns events applied."""
    own_db = db is None
    db = db or Database(settings.database_url or "", service=f"{settings.service_name}-rebuild")
    runtime = ServiceRuntime(settings)
    handlers = {t: h for group in event_handlers.bind(runtime, react=False).values() for t, h in group.items()}
    async with db.sessions() as session:
        kept = await repository.derived_demand_state(session)
    nc = await connect(settings, name=f"{settings.service_name}-rebuild")
    applied = 0
    try:
        js = nc.jetstream()
        async with db.transaction() as session:
            await repository.truncate_read_model(session)
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
            await repository.restore_demand_state(session, kept)
    finally:
        await nc.close()
        if own_db:
            await db.dispose()
    log.info("read model rebuilt", extra={"events": applied})
    return applied


if __name__ == "__main__":
    print(asyncio.run(rebuild_read_model(MatchingSettings())))
