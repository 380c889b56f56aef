"""Event wiring of the sites service: which subjects it consumes and who handles them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.reservations import service as reservations
from shared.bus.consumer import Handler
from shared.events.envelope import CloudEvent
from shared.events.models import EventData, ProposalAccepted, ProposalWithdrawn
from shared.runtime import ServiceRuntime


def build_handlers(runtime: ServiceRuntime) -> dict[str, dict[str, Handler]]:
    """subject filter (one durable consumer each) -> {event type: handler}; handlers emit through `runtime`."""

    async def on_proposal_accepted(session: AsyncSession, event: CloudEvent, data: EventData) -> None:
        assert isinstance(data, ProposalAccepted)
        await reservations.reserve(session, runtime, data)

    async def on_proposal_withdrawn(session: AsyncSession, event: CloudEvent, data: EventData) -> None:
        assert isinstance(data, ProposalWithdrawn)
        await reservations.release(session, runtime, data)

    return {
        "matching.proposal.accepted": {"matching.proposal.accepted": on_proposal_accepted},
        "matching.proposal.withdrawn": {"matching.proposal.withdrawn": on_proposal_withdrawn},
    }
