"""Proposal shapes; free-form until the matching service publishes its models."""

from services.gateway.app.generic import resource

Proposal = resource(
    "Proposal",
    "Where the units of an expiring placement go, with its cost breakdown and the parties' answers.",
    {
        "id": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b",
        "placement_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "status": "pending",
        "ladder_rung": "gemeente",
        "allocations": [{"site_id": "0b9b6a3e-8d0c-4a8e-9f43-0f2b1c7d5e11", "units": 24}],
    },
)
ProposalAnswer = resource(
    "ProposalAnswer",
    "An optional note with the acceptance or refusal.",
    {"reason": "The plot's utilities are not ready in time."},
)
