"""Every table of the matching service, imported here so Alembic sees them all."""

from services.matching.app.db import Base, bus_tables
from services.matching.app.ledger.models import LedgerHome
from services.matching.app.policy.models import PolicyVersion
from services.matching.app.proposals.models import Proposal, ProposalAllocation
from services.matching.app.readmodel.models import ComplexView, PlacementDemand, PlotView
from services.matching.app.rematch.models import RematchRequest
from services.matching.app.runs.models import MatchingRun

__all__ = [
    "Base", "bus_tables", "LedgerHome", "ComplexView", "PlacementDemand", "PlotView", "Proposal", "ProposalAllocation",
    "MatchingRun", "PolicyVersion", "RematchRequest",
]
