"""Proposal schemas and list filters: the matching service's own models, so the public OpenAPI is typed."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from services.matching.app.proposals.schemas import DeclineIn, ProposalOut, ProposalStatus

Proposal = ProposalOut
ProposalDecline = DeclineIn

ProposalStatusQuery = Annotated[ProposalStatus | None, Query(description="Only proposals with this status.", examples=["pending"])]
PlacementFilter = Annotated[uuid.UUID | None, Query(description="Only proposals for this placement.")]

__all__ = ["PlacementFilter", "Proposal", "ProposalDecline", "ProposalStatusQuery"]
