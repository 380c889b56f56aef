"""The decade simulation (issue #12): a seeded national market, loaded through the gateway, lived through
from 2026 to 2036 by moving the one product clock in random steps (jumps of years among them), with the
parties accepting, declining or staying silent, inventory refusing a relocation, and a service killed and
restarted mid-way. The promise checked after every step, once the pipeline is quiet: every registered home
is in exactly one known state of the ledger, and every placement whose end has come within the horizon
is being dealt with (a proposal, storage, the fallback or an end state with a reason).

    .venv/bin/pytest -s -m slow tests/test_decade_simulation.py      # DECADE_SEED=7 for another market
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pathlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from herplaatsing.testing import eventually
from services.gateway.app.config import GatewaySettings
from services.gateway.app.main import create_app as gateway_app
from services.gateway.tests.support import bearer
from services.gateway.tests.system.conftest import FAST, complex_registration, plot
from services.inventory.app.config import InventorySettings
from services.inventory.app.main import create_app as inventory_app
from services.matching.app.config import MatchingSettings
from services.matching.app.main import create_app as matching_app
from services.sites.app.config import SitesSettings
from services.sites.app.main import create_app as sites_app
from shared.bus.outbox import outbox_backlog
from shared.demo_parties import demo_organisation
from shared.domain import HomeState, Role

pytestmark = [pytest.mark.slow, pytest.mark.committed]

START, END = dt.date(2026, 11, 23), dt.date(2036, 12, 31)
HORIZON_MONTHS = 24  # the default matching policy's horizon
# (gemeente, lat, lon) in six provinces
GEMEENTEN = [  # the centroids of shared/reference/gemeenten.csv
    ("GM0200", 52.18930, 5.92136),  # Apeldoorn, Gelderland
    ("GM0363", 52.36384, 4.91041),  # Amsterdam, Noord-Holland
    ("GM0153", 52.22102, 6.87713),  # Enschede, Overijssel
    ("GM0664", 51.51519, 3.84539),  # Goes, Zeeland
    ("GM0303", 52.50240, 5.70147),  # Dronten, Flevoland
    ("GM0772", 51.44973, 5.45820),  # Eindhoven, Noord-Brabant
]
INVESTORS = ("woonstad", "wonenplus", "wc-woonbron")
FACTORIES = {"inventory": inventory_app, "sites": sites_app, "matching": matching_app}


class Slot:
    """The ASGI app the gateway reaches for one service: swapped when the service is restarted."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Decade:
    client: httpx.AsyncClient
    settings: GatewaySettings
    slots: dict[str, Slot]
    stacks: dict[str, contextlib.AsyncExitStack]
    rng: random.Random  # the market and the parties' choices
    walk: random.Random  # the clock's steps (independent of how many proposals the parties saw)
    placements: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    decided: dict[str, int] = field(default_factory=lambda: {"accepted": 0, "accepted_in_part": 0, "declined": 0, "silent": 0})

    def as_(self, role: Role | str, org: str | None = None) -> dict[str, str]:
        return bearer(self.settings, role, org, sub=f"{role}-{org}")

    @property
    def mm(self) -> dict[str, str]:
        return self.as_(Role.marktmeester)

    async def ok(self, method: str, path: str, headers: dict[str, str], status: int = 200, **kw: Any) -> Any:
        r = await self.client.request(method, f"/api/v1{path}", headers=headers, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    async def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        out, cursor = [], None
        while True:
            page = await self.ok("GET", path, self.mm, params={**params, "limit": 100} | ({"cursor": cursor} if cursor else {}))
            out += page["data"]
            if not (cursor := page.get("next_cursor")):
                return out

    def runtime(self, name: str) -> Any:
        return self.slots[name].app.state.runtime

    async def sql(self, service: str, query: str) -> list[Any]:
        async with self.runtime(service).db.sessions() as session:
            return list((await session.execute(sa.text(query))).all())

    async def restart(self, name: str) -> None:
        """Kill one service mid-way: stop its app (relay, consumers, loops) and start a new one on the same
        database and stream; the others keep running."""
        settings = self.runtime(name).settings
        await self.stacks[name].aclose()
        app = FACTORIES[name](settings)
        self.stacks[name] = contextlib.AsyncExitStack()
        await self.stacks[name].enter_async_context(app.router.lifespan_context(app))
        self.slots[name].app = app


@pytest.fixture
async def decade(committed_databases, make_settings) -> AsyncIterator[Decade]:
    seed = int(os.environ.get("DECADE_SEED", "2026"))
    print(f"\ndecade simulation seed={seed}")
    settings = {
        "inventory": make_settings(InventorySettings, database_url=await committed_databases("inventory"), expiry_scan_interval_s=0.2, **FAST),
        "sites": make_settings(SitesSettings, database_url=await committed_databases("sites"), **FAST),
        "matching": make_settings(MatchingSettings, database_url=await committed_databases("matching"), expiry_check_interval_s=0.5, **FAST),
    }
    stacks = {name: contextlib.AsyncExitStack() for name in FACTORIES}
    slots = {}
    for name, factory in FACTORIES.items():
        app = factory(settings[name])
        await stacks[name].enter_async_context(app.router.lifespan_context(app))
        slots[name] = Slot(app)
    gw_settings = GatewaySettings(environment="test", log_json=False, rate_limit_per_s=10_000, rate_limit_burst=10_000)
    gateway = gateway_app(gw_settings, upstream_transports={n: httpx.ASGITransport(app=s) for n, s in slots.items()})
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(gateway.router.lifespan_context(gateway))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway", timeout=60))
            yield Decade(client, gw_settings, slots, stacks, random.Random(seed), random.Random(seed + 1))
    finally:
        for s in reversed(stacks.values()):
            await s.aclose()


# ----------------------------------------------------------------- the market


async def load_market(d: Decade, placements: int = 40, plots: int = 40) -> None:
    """Plots (a quarter of them garantiekavel spots), complexes, placements ending from 2027 to 2036, and two
    complexes registered but not placed yet: all through the public API, as the parties do it."""
    rng = d.rng
    for org in INVESTORS:
        await d.ok("POST", "/organisations", d.mm, 201, json=demo_organisation(org))
    for i in range(plots):
        gm, lat, lon = rng.choice(GEMEENTEN)
        shift = dict(lat=lat + rng.uniform(-0.004, 0.004), lon=lon + rng.uniform(-0.004, 0.004))
        body = plot(gm, **shift, name=f"Kavel {i}", capacity_units=rng.choice((2, 4, 6, 8)),
                    available_from=f"{rng.randint(2026, 2031)}-01-01")
        if i % 4 == 0:
            body |= {"kind": "garantiekavel", "capacity_units": rng.choice((3, 5)), "garantiekavel": {"cluster_id": f"GK-{i}"}}
        await d.ok("POST", "/sites", d.as_(Role.municipality, gm), 201, json=body)
    for i in range(placements + 2):
        org = rng.choice(INVESTORS)
        flex = await d.ok("POST", "/complexes", d.as_(Role.investor, org), 201,
                          json=complex_registration(f"Flex {i}", units=rng.randint(4, 16)))
        if i >= placements:
            continue  # registered, not placed (yet)
        gm, lat, lon = rng.choice(GEMEENTEN)
        end = dt.date(rng.randint(2027, 2036), rng.randint(1, 12), 28)
        body = {"complex_id": flex["id"], "gemeente_code": gm, "lat": lat, "lon": lon, "instrument": "wabo_uitgebreid",
                "permit_reference": f"OLO-{i}", "start_date": str(end.replace(year=end.year - 10)), "end_date": str(end)}
        d.placements.append(await d.ok("POST", "/placements", d.as_(Role.investor, org), 201, json=body))


# ----------------------------------------------------------------- the promise


async def quiet(d: Decade, timeout: float = 90) -> None:
    """The pipeline has come to rest: every outbox published, every consumer caught up (nothing pending or
    unacknowledged), no re-solve requested; twice in a row, so a reaction in flight is not missed."""

    async def at_rest() -> bool:
        for name in FACTORIES:
            runtime = d.runtime(name)
            if (await outbox_backlog(runtime.db, runtime.tables))[0] or runtime.js is None:
                return False
            for consumer in runtime.consumers:
                info = await runtime.js.consumer_info(runtime.settings.stream_name, consumer.name)
                if info.num_pending or info.num_ack_pending:
                    return False
        [(requests,)] = await d.sql("matching", "SELECT count(*) FROM rematch_requests")
        return requests == 0

    async def twice() -> bool:
        return await at_rest() and await at_rest()
    await eventually(twice, timeout=timeout, interval=0.2)


async def check_the_books(d: Decade, today: dt.date) -> dict[str, int]:
    """Every home registered is in the ledger exactly once, in one known state; every placement whose end is
    within the horizon is dealt with."""
    ledger = await d.ok("GET", "/ledger", d.mm)
    complexes = await d.all("/complexes")
    held = sum(c["unit_count"] for c in complexes)
    assert ledger["registered"] == ledger["accounted"] == sum(ledger["by_state"].values()) == held, (today, ledger, held)
    # per home: the ledger's rows are inventory's units, one each
    units = {str(u) for (u,) in await d.sql("inventory", "SELECT id FROM units")}
    homes = [str(u) for (u,) in await d.sql("matching", "SELECT unit_id FROM home_ledger")]
    assert len(homes) == len(set(homes)) and set(homes) == units, (today, len(homes), len(units))

    # the ledger and inventory agree: a home stored or fallen back belongs to a placement inventory holds so
    # (or one whose other homes have a plan from storage), and none is stored after its placement's storage period
    placements = {p["id"]: p for p in await d.all("/placements")}
    for placement_id, state in await d.sql("matching", "SELECT DISTINCT placement_id, state FROM home_ledger"
                                                        " WHERE state IN ('in_storage', 'fallback')"):
        p = placements[str(placement_id)]
        if state == "in_storage" and p["lifecycle"] == "relocation_scheduled":
            continue  # left behind by a plan from storage: stored until the plan's homes moved (then as below)
        assert p["lifecycle"] == state, (today, state, p["id"], p["lifecycle"], p["storage_until"])
        assert state == "fallback" or dt.date.fromisoformat(p["storage_until"]) >= today, (today, p["id"], p["storage_until"])

    # every placement whose end has come within the horizon is dealt with: signalled, with a proposal, a plan,
    # stored, fallen back, or closed with a reason; one waiting for a plot is shortfall on the ledger, not in place
    horizon = today.replace(year=today.year + HORIZON_MONTHS // 12)
    in_place = {str(p) for (p,) in await d.sql("matching", "SELECT DISTINCT placement_id FROM home_ledger WHERE state = 'in_place'")}
    for p in placements.values():
        if dt.date.fromisoformat(p["end_date"]) > horizon or p["lifecycle"] == "scheduled":
            continue
        assert p["lifecycle"] != "active" and p["id"] not in in_place, (today, p["id"], p["lifecycle"], p["end_date"])
        if p["lifecycle"].startswith("closed_"):
            assert p["close_reason"], (today, p["id"])
    return ledger["by_state"]


# ----------------------------------------------------------------- the parties


async def react(d: Decade, today: dt.date) -> None:
    """Each pending proposal: both parties accept (sometimes after the investor recorded a later placement
    of the same homes, which inventory must refuse), one declines, or nobody answers."""
    rng = d.rng
    for p in await d.all("/proposals", status="pending"):
        roll = rng.random()
        if roll < 0.3:
            d.decided["silent"] += 1
            continue
        investor = d.as_(Role.investor, p["investor_org"])
        if roll < 0.45:
            party = rng.choice(p["parties"])
            await d.ok("POST", f"/proposals/{p['id']}/decline", d.as_(Role(party["role"]), party["org"]), json={"reason": "past de planning niet"})
            d.decided["declined"] += 1
            continue
        if roll < 0.52:  # the investor records where the homes go after the term, elsewhere: a refusal follows
            placed = await d.ok("GET", f"/placements/{p['placement_id']}", investor)
            end = dt.date.fromisoformat(placed["end_date"])
            start = max(end, today + dt.timedelta(days=1))
            r = await d.client.post("/api/v1/placements", headers=investor, json={
                "complex_id": p["complex_id"], "gemeente_code": placed["gemeente_code"], "lat": placed["lat"],
                "lon": placed["lon"], "instrument": "wabo_uitgebreid", "permit_reference": "OLO-eigen",
                "start_date": str(start), "end_date": str(start.replace(year=start.year + 5))})
            assert r.status_code in (201, 409), r.text  # 409: these homes already have a later placement
            d.refused += r.status_code == 201
        for party in p["parties"]:
            r = await d.client.post(f"/api/v1/proposals/{p['id']}/accept", headers=d.as_(Role(party["role"]), party["org"]))
            assert r.status_code in (200, 409), r.text  # 409: it expired or was withdrawn meanwhile
        d.decided["accepted"] += 1
        d.decided["accepted_in_part"] += bool(p["shortfall_units"])  # the remainder is demand of its own


async def end_some(d: Decade) -> None:
    """Now and then an investor sells or dismantles homes that fell back (RTHF), with a reason."""
    for p in await d.all("/placements"):
        if p["lifecycle"] == "fallback" and d.rng.random() < 0.3:
            state = d.rng.choice(("sold", "dismantled"))
            r = await d.client.post(f"/api/v1/placements/{p['id']}/end-state", headers=d.as_(Role.investor, p["investor_org"]),
                                    json={"end_state": state, "reason": f"{state} na terugvaloptie"})
            assert r.status_code == 200 or (r.status_code == 409 and "later placement" in r.text), r.text


def next_day(rng: random.Random, today: dt.date) -> dt.date:
    """A step of one to six months, or (one step in six) a jump of two to four years."""
    months = rng.randint(24, 48) if rng.random() < 1 / 6 else rng.randint(1, 6)
    y, m = divmod(today.month - 1 + months, 12)
    return min(dt.date(today.year + y, m + 1, min(today.day, 28)), END)


def ledger_table(rows: dict[int, dict[str, int]]) -> str:
    states = [s.value for s in HomeState]
    lines = ["year  " + " ".join(f"{s[:12]:>12}" for s in states)]
    lines += [f"{year}  " + " ".join(f"{counts.get(s, 0):>12}" for s in states) for year, counts in sorted(rows.items())]
    return "\n".join(lines)


# ----------------------------------------------------------------- the decade


async def test_a_decade_of_clock_steps_leaves_every_home_accounted_for(decade: Decade) -> None:
    d = decade
    await load_market(d)
    await quiet(d)
    by_year = {START.year: await check_the_books(d, START)}
    today, restarted, steps = START, False, 0
    while today < END:
        steps += 1
        await react(d, today)
        await end_some(d)
        today = next_day(d.walk, today)
        await d.ok("PATCH", "/clock", d.mm, json={"today": str(today)})
        if not restarted and today.year >= 2031:
            killed = d.walk.choice(sorted(FACTORIES))
            print(f"{today}: {killed} killed and started anew on its database and stream")
            await d.restart(killed)
            restarted = True
        await quiet(d)
        by_year[today.year] = await check_the_books(d, today)
    table = ledger_table(by_year)  # the last step of each year the clock stopped in (a jump skips years)
    print(table, f"\nsteps: {steps}, refusals provoked: {d.refused}, reactions: {d.decided}")
    out = pathlib.Path("artefacts/decade-ledger.txt")
    out.parent.mkdir(exist_ok=True)
    out.write_text(table + "\n")
    assert restarted and today == END


async def test_moving_the_clock_five_years_in_one_step_leaves_no_home_unaccounted(decade: Decade) -> None:
    d = decade
    await load_market(d, placements=20, plots=12)
    await quiet(d)
    await check_the_books(d, START)
    later = START.replace(year=START.year + 5)
    await d.ok("PATCH", "/clock", d.mm, json={"today": str(later)})
    await quiet(d)
    by_state = await check_the_books(d, later)
    ended = sum(p["unit_count"] for p in d.placements if dt.date.fromisoformat(p["end_date"]) < later)
    # every home whose term has ended is stored, fell back, or is on its way to a plot: none still "in place"
    assert by_state["in_place"] + by_state["expiring"] <= sum(p["unit_count"] for p in d.placements) - ended
