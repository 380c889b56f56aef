"""The demo identities of the development sign-in: who a newcomer can be on `bash scripts/up`.

The marktmeester; the investors and municipalities that are parties to open proposals (so
each side of a proposal can answer it), then a few more investors of the demo scenario and
the municipalities with the most published plots. Asked of the running services; the
scenario's names when they have nothing yet or do not answer. Used only in development.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.app.upstream import Upstreams
from shared.demo_parties import BELEGGERS, CORPORATIES, GARANTIEKAVEL_SPOTS
from shared.domain import Role
from shared.reference import municipalities
from shared.web.identity import ANONYMOUS, Principal
from shared.web.problems import ProblemError

MAX_MUNICIPALITIES = 12
MAX_INVESTORS = 8
# The sign-in page reads the open proposals as the marktmeester would (development only).
SIGN_IN_READER = Principal(sub="dashboard-sign-in", role=Role.marktmeester, org=None)
DEMO_INVESTORS = (*list(CORPORATIES)[:4], *BELEGGERS[:2])


@dataclass(frozen=True, slots=True)
class DemoIdentity:
    role: Role
    org: str | None
    label: str  # Dutch, shown on the sign-in page

    @property
    def principal(self) -> Principal:
        return Principal(sub=f"demo-{self.role.value}-{self.org or 'rvo'}", role=self.role, org=self.org)


async def plot_municipalities(upstreams: Upstreams) -> list[str]:
    """CBS codes of the municipalities with published plots, most plots first."""
    try:
        body = await upstreams.fetch_json("sites", "/api/v1/map/sites.geojson", ANONYMOUS)
    except ProblemError:  # the sites service is down or refuses: fall back to the scenario
        return []
    counts: dict[str, int] = {}
    for feature in body.get("features", []):
        code = feature["properties"]["gemeente_code"]
        counts[code] = counts.get(code, 0) + 1
    return sorted(counts, key=lambda code: (-counts[code], code))


async def open_proposal_parties(upstreams: Upstreams) -> list[tuple[Role, str]]:
    """(role, org) of every party to a pending proposal, oldest proposal first."""
    try:
        page = await upstreams.fetch_json("matching", "/api/v1/proposals", SIGN_IN_READER, {"status": "pending", "limit": 50})
    except ProblemError:
        return []
    parties = []
    for proposal in page.get("data", []):
        for party in proposal.get("parties", []):
            if party.get("role") in (Role.investor.value, Role.municipality.value):
                parties.append((Role(party["role"]), party["org"]))
    return list(dict.fromkeys(parties))


def _unique(values: list[str], limit: int) -> list[str]:
    return list(dict.fromkeys(values))[:limit]


async def demo_identities(upstreams: Upstreams) -> list[DemoIdentity]:
    names = municipalities()
    parties = await open_proposal_parties(upstreams)
    investors = _unique([org for role, org in parties if role is Role.investor] + list(DEMO_INVESTORS), MAX_INVESTORS)
    plots = await plot_municipalities(upstreams) or list(GARANTIEKAVEL_SPOTS)
    codes = _unique([org for role, org in parties if role is Role.municipality] + plots, MAX_MUNICIPALITIES)
    return [
        DemoIdentity(Role.marktmeester, None, "Marktmeester (RVO)"),
        *(DemoIdentity(Role.investor, org, f"Investeerder {org}") for org in investors),
        *(DemoIdentity(Role.municipality, code, f"Gemeente {names[code].name if code in names else code} ({code})") for code in codes),
    ]
