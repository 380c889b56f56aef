"""Rebuild the read model and the home ledger from the stream: truncate, then refold every event from the start.

Run: `python -m services.matching.app.readmodel.rebuild` (uses the service's environment).
Proposals, runs and the durable consumers' progress are untouched; the read model is refolded
from inventory.> and sites.> with the matcher switched off, so nothing is proposed or emitted
twice. The ledger also folds matching's own proposal transitions (matching.proposal.*), all in
stream order: one ordered pass over every producer's subjects.
"""

from __future__ import annotations

import asyncio
import logging

import nats.errors
from nats.js.api import DeliverPolicy

from services.matching.app.config import MatchingSettings
from services.matching.app.events import handlers as event_handlers
from services.matching.app.ledger import fold as ledger
from services.matching.app.proposals import repository as proposals_repo
from services.matching.app.readmodel import repository
from shared.bus.consumer import PoisonMessage, parse
from shared.bus.nats import connect
from shared.db import Database
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


async def rebuild_read_model(settings: MatchingSettings, db: Database | None = None, idle_timeout_s: float = 1.0) -> int:
    """Truncate the read model and the ledger and refold every event in the stream. Returns events applied."""
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
            info = await js.stream_info(settings.stream_name)
            if info.state.messages:
                sub = await js.subscribe(settings.subject(">"), stream=settings.stream_name, ordered_consumer=True,
                                         deliver_policy=DeliverPolicy.ALL)
                try:
                    while True:
                        try:
                            msg = await sub.next_msg(timeout=idle_timeout_s)
                        except (nats.errors.TimeoutError, asyncio.TimeoutError):
                            break
                        try:
                            event, data = parse(msg.data)
                        except PoisonMessage:
                            continue
                        if data is not None:
                            if event.type.startswith("matching.proposal."):
                                proposal = await proposals_repo.get(session, data.proposal_id)  # type: ignore[attr-defined]
                                dates = {"created": proposal and proposal.created_at.date(),
                                         "decided": proposal and proposal.decided_at and proposal.decided_at.date()}
                                await ledger.proposal_events(session, event.type, data, dates, runtime.clock.today())
                                applied += 1
                            elif (handler := handlers.get(event.type)) is not None:
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
