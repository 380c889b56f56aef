"""Fixtures of the inventory tests: a fresh migrated database, a private bus namespace, the app."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from herplaatsing.testing import headers_for, running_app
from services.inventory.app.config import InventorySettings
from services.inventory.app.db import bus_tables
from services.inventory.app.main import create_app
from shared.runtime import ServiceRuntime

TODAY = dt.date(2026, 11, 23)
INVESTOR = "woonstede"


@dataclass
class Inventory:
    client: httpx.AsyncClient
    settings: InventorySettings
    runtime: ServiceRuntime
    app: Any

    def headers(self, role: str | None = "investor", org: str | None = INVESTOR, **extra: str) -> dict[str, str]:
        return {**headers_for(self.settings, role, org), **extra}

    @property
    def marktmeester(self) -> dict[str, str]:
        return headers_for(self.settings, "marktmeester", None)

    async def outbox(self, event_type: str | None = None) -> list[dict]:
        t = bus_tables.outbox
        query = sa.select(t.c.payload).order_by(t.c.seq)
        if event_type:
            query = query.where(t.c.event_type == event_type)
        async with self.runtime.db.sessions() as s:  # type: ignore[union-attr]
            return [r[0] for r in await s.execute(query)]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.runtime.db.sessions() as s:  # type: ignore[union-attr]
            return await s.scalar(sa.text(sql), params)


@pytest.fixture
async def inventory_settings(databases, make_settings) -> InventorySettings:
    url = await databases("inventory")
    # No relay, consumers or scan loop: tests drive scans and consumers themselves.
    return make_settings(InventorySettings, database_url=url, today=TODAY, start_background=False, consumer_fetch_timeout_s=0.5)


@pytest.fixture
async def inventory(inventory_settings) -> AsyncIterator[Inventory]:
    app = create_app(inventory_settings)
    async with running_app(app) as client:
        yield Inventory(client, inventory_settings, app.state.runtime, app)


def complex_body(**overrides: Any) -> dict:
    body = {
        "name": "RVB kavel 17 - Ede",
        "supplier": "De Meeuw",
        "unit_count": 48,
        "typology": "gestapeld",
        "layers": 3,
        "floor_area_m2": 38,
        "bedrooms": 1,
        "modules_per_unit": 1.0,
        "bbl_level": "nieuwbouw",
        "energy_label": "A+++",
        "build_year": 2023,
        "depreciation_yr": 30,
        "build_cost_eur_per_unit": 120_000,
        "doelgroepen": ["starters", "statushouders"],
        "rthf": {"beschikking_id": "RTHF-2024-00123", "garantiebedrag_eur_per_unit": 62_000},
        "min_group_size": 12,
        "rent_eur_month": 640.0,
    }
    body.update(overrides)
    return body


def placement_body(complex_id: str, **overrides: Any) -> dict:
    body = {
        "complex_id": complex_id,
        "gemeente_code": "GM0228",  # Ede
        "lat": 52.04,
        "lon": 5.67,
        "instrument": "wabo_bor4_11",
        "permit_reference": "OLO-4711",
        "start_date": "2023-06-01",
        "end_date": "2033-05-31",
    }
    body.update(overrides)
    return body


async def register(inv: Inventory, headers: dict | None = None, **overrides: Any) -> dict:
    response = await inv.client.post("/api/v1/complexes", json=complex_body(**overrides), headers=headers or inv.headers())
    assert response.status_code == 201, response.text
    return response.json()


async def place(inv: Inventory, complex_id: str, headers: dict | None = None, **overrides: Any) -> dict:
    response = await inv.client.post("/api/v1/placements", json=placement_body(complex_id, **overrides), headers=headers or inv.headers())
    assert response.status_code == 201, response.text
    return response.json()
