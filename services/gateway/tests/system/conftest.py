"""The whole system behind the gateway: the REAL inventory, sites and matching apps, each on a
fresh database, sharing one private JetStream stream, running their lifespans (outbox relays,
consumers, the expiry scan). The gateway reaches them over `httpx.ASGITransport`, i.e. real
HTTP requests handled in this process (no sockets, no mocks).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.app.config import GatewaySettings
from services.gateway.app.main import create_app as gateway_app
from services.gateway.tests.support import bearer
from services.inventory.app.config import InventorySettings
from services.inventory.app.main import create_app as inventory_app
from services.matching.app.config import MatchingSettings
from services.matching.app.main import create_app as matching_app
from services.sites.app.config import SitesSettings
from services.sites.app.main import create_app as sites_app
from shared.demo_parties import demo_organisation
from shared.domain import Role

TODAY = dt.date(2026, 11, 23)
FAST = {"today": TODAY, "outbox_poll_interval_s": 0.05, "consumer_fetch_timeout_s": 0.2}


@dataclass
class System:
    client: httpx.AsyncClient  # talks to the gateway
    settings: GatewaySettings
    services: dict[str, FastAPI]

    def as_(self, role: Role | str, org: str | None = None, **extra: str) -> dict[str, str]:
        """Bearer headers for a caller of the public API."""
        return {**bearer(self.settings, role, org, sub=f"{role}-{org}"), **extra}

    async def ok(self, method: str, path: str, headers: dict[str, str] | None = None, status: int = 200, **kw: Any) -> Any:
        r = await self.client.request(method, f"/api/v1{path}", headers=headers or {}, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()


@pytest.fixture
async def system(committed_databases, make_settings) -> AsyncIterator[System]:
    services = {
        "inventory": inventory_app(
            make_settings(InventorySettings, database_url=await committed_databases("inventory"), expiry_scan_interval_s=0.2, **FAST)
        ),
        "sites": sites_app(make_settings(SitesSettings, database_url=await committed_databases("sites"), **FAST)),
        "matching": matching_app(
            make_settings(MatchingSettings, database_url=await committed_databases("matching"), expiry_check_interval_s=0.5, **FAST)
        ),
    }
    settings = GatewaySettings(environment="test", log_json=False, rate_limit_per_s=1000, rate_limit_burst=1000)
    transports = {name: httpx.ASGITransport(app=app) for name, app in services.items()}
    gateway = gateway_app(settings, upstream_transports=transports)
    async with contextlib.AsyncExitStack() as stack:
        for app in services.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        await stack.enter_async_context(gateway.router.lifespan_context(gateway))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway", timeout=30)
        )
        system = System(client, settings, services)
        # Investors act only for a registered organisation: the marktmeester registers the scenario's.
        for org in REGISTERED_INVESTORS:
            await system.ok("POST", "/organisations", system.as_(Role.marktmeester), 201, json=demo_organisation(org))
        yield system


# -- request bodies of the scenario


def plot(gemeente: str, lat: float, lon: float, **overrides: Any) -> dict[str, Any]:
    body = {
        "gemeente_code": gemeente,
        "name": f"Kavel {gemeente}",
        "kind": "municipal",
        "location": {"lat": lat, "lon": lon},
        "capacity_units": 40,
        "available_from": "2027-01-01",
        "available_until": "2045-12-31",
        "expected_instrument": "ow_bopa",
        "max_layers": 3,
        "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True},
        "status": "published",
    }
    return {**body, **overrides}


def complex_registration(name: str, units: int = 20) -> dict[str, Any]:
    return {
        "name": name,
        "supplier": "De Meeuw",
        "unit_count": units,
        "typology": "gestapeld",
        "layers": 2,
        "floor_area_m2": 38,
        "bedrooms": 1,
        "modules_per_unit": 1.0,
        "bbl_level": "nieuwbouw",
        "energy_label": "A+++",
        "build_year": 2017,
        "depreciation_yr": 30,
        "build_cost_eur_per_unit": 120_000,
        "doelgroepen": ["starters"],
        "min_group_size": 1,
    }


def placement(complex_id: str, gemeente: str, lat: float, lon: float, end_date: str = "2027-06-30") -> dict[str, Any]:
    return {
        "complex_id": complex_id,
        "gemeente_code": gemeente,
        "lat": lat,
        "lon": lon,
        "instrument": "wabo_bor4_11",
        "permit_reference": "OLO-1",
        "start_date": "2017-07-01",
        "end_date": end_date,
    }


# -- a small market: two municipalities, two investors, one expiring placement

APELDOORN = ("GM0200", 52.2112, 5.9699)  # Gelderland (PV25)
AMSTERDAM = ("GM0363", 52.3728, 4.8936)  # Noord-Holland (PV27)
INVESTOR_A, INVESTOR_B = "woonstad", "wonenplus"
REGISTERED_INVESTORS = (INVESTOR_A, INVESTOR_B, "wc-woonbron")


@dataclass
class Market:
    plot_a: dict[str, Any]  # published by Apeldoorn
    draft_a: dict[str, Any]  # Apeldoorn's draft
    plot_b: dict[str, Any]  # published by Amsterdam
    complex_a: dict[str, Any]
    complex_b: dict[str, Any]
    placement_a: dict[str, Any]  # in Apeldoorn, ends 2027-06-30: expiring
    placement_b: dict[str, Any]  # in Amsterdam, ends 2031
    proposal_a: dict[str, Any]  # matching's proposal for placement_a


async def build_market(system: System) -> Market:
    """Everything through the gateway, as the parties would; the proposal follows from the events."""
    gm_a, lat_a, lon_a = APELDOORN
    gm_b, lat_b, lon_b = AMSTERDAM
    plot_a = await system.ok("POST", "/sites", system.as_(Role.municipality, gm_a), 201, json=plot(gm_a, lat_a + 0.004, lon_a))
    draft_a = await system.ok(
        "POST", "/sites", system.as_(Role.municipality, gm_a), 201, json=plot(gm_a, lat_a - 0.01, lon_a, status="draft", name="Concept")
    )
    plot_b = await system.ok("POST", "/sites", system.as_(Role.municipality, gm_b), 201, json=plot(gm_b, lat_b + 0.004, lon_b))
    complex_a = await system.ok("POST", "/complexes", system.as_(Role.investor, INVESTOR_A), 201, json=complex_registration("Flex A"))
    complex_b = await system.ok("POST", "/complexes", system.as_(Role.investor, INVESTOR_B), 201, json=complex_registration("Flex B"))
    placement_a = await system.ok(
        "POST", "/placements", system.as_(Role.investor, INVESTOR_A), 201, json=placement(complex_a["id"], gm_a, lat_a, lon_a)
    )
    placement_b = await system.ok(
        "POST",
        "/placements",
        system.as_(Role.investor, INVESTOR_B),
        201,
        json=placement(complex_b["id"], gm_b, lat_b, lon_b, end_date="2031-06-30") | {"instrument": "wabo_uitgebreid"},
    )

    async def proposal() -> dict[str, Any] | None:
        page = await system.ok("GET", "/proposals", system.as_(Role.marktmeester))
        return page["data"][0] if page["data"] else None

    from herplaatsing.testing import eventually

    proposal_a = await eventually(proposal, timeout=20)
    return Market(plot_a, draft_a, plot_b, complex_a, complex_b, placement_a, placement_b, proposal_a)


@pytest.fixture
async def market(system: System) -> Market:
    return await build_market(system)
