"""The demo identities of the development sign-in: who a newcomer can be on `bash scripts/up`.

The marktmeester, a few investors of the demo scenario, and the municipalities that have
published plots in the running system (asked of the sites service; the scenario's
garantiekavel municipalities when it has none or does not answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.app.upstream import Upstreams
from shared.demo.scenario import BELEGGERS, CORPORATIES, GARANTIEKAVEL_SPOTS
from shared.domain import Role
from shared.reference import municipalities
from shared.web.identity import ANONYMOUS, Principal
from shared.web.problems import ProblemError

MAX_MUNICIPALITIES = 12
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


async def demo_identities(upstreams: Upstreams) -> list[DemoIdentity]:
    names = municipalities()
    codes = (await plot_municipalities(upstreams))[:MAX_MUNICIPALITIES] or list(GARANTIEKAVEL_SPOTS)
    return [
        DemoIdentity(Role.marktmeester, None, "Marktmeester (RVO)"),
        *(DemoIdentity(Role.investor, org, f"Investeerder {org}") for org in DEMO_INVESTORS),
        *(DemoIdentity(Role.municipality, code, f"Gemeente {names[code].name if code in names else code} ({code})") for code in codes),
    ]
