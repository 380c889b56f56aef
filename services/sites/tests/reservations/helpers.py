"""Building the matching events the sites service reacts to."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.domain import LadderRung, Role
from shared.events.models import Party, ProposalAccepted, ProposalAllocation, ProposalWithdrawn


def accepted(allocations: list[tuple[str, str, int]], proposal_id: uuid.UUID | None = None, investor: str = "woonstichting-a") -> ProposalAccepted:
    """A proposal every party accepted: (site_id, gemeente_code, units) per allocation."""
    return ProposalAccepted(
        proposal_id=proposal_id or uuid.uuid4(),
        placement_id=uuid.uuid4(),
        complex_id=uuid.uuid4(),
        investor_org=investor,
        allocations=[
            ProposalAllocation(site_id=uuid.UUID(site), gemeente_code=gm, units=units, distance_km=3.0, rung=LadderRung.gemeente)
            for site, gm, units in allocations
        ],
        move_window_start=dt.date(2028, 3, 1),
        parties=[Party(role=Role.investor, org=investor)] + [Party(role=Role.municipality, org=gm) for _, gm, _ in allocations],
    )


def withdrawn(proposal: ProposalAccepted) -> ProposalWithdrawn:
    return ProposalWithdrawn(proposal_id=proposal.proposal_id, placement_id=proposal.placement_id, reason="investor withdrew")
