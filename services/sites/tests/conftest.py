"""Fixtures of the sites service: an in-process app on a fresh database and a private bus namespace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from herplaatsing.testing import headers_for, running_app
from services.sites.app.config import SitesSettings
from services.sites.app.db import bus_tables
from services.sites.app.main import create_app
from shared.runtime import ServiceRuntime

TODAY = dt.date(2026, 11, 23)
EINDHOVEN = "GM0772"  # Noord-Brabant, PV30
UTRECHT = "GM0344"


def plot(**overrides: Any) -> dict[str, Any]:
    """A valid plot in Eindhoven; override any field."""
    body: dict[str, Any] = {
        "gemeente_code": EINDHOVEN,
        "name": "Kavel Strijp-Noord",
        "kind": "municipal",
        "location": {"lat": 51.4416, "lon": 5.4697},
        "capacity_units": 48,
        "available_from": "2027-06-01",
        "available_until": "2039-05-31",
        "expected_instrument": "wabo_bor4_11",
        "min_term_years": 5,
        "max_layers": 2,
        "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True},
    }
    body.update(overrides)
    return body


@dataclass
class Sites:
    """The running service, a client and helpers to act as the gateway would."""

    client: httpx.AsyncClient
    settings: SitesSettings
    runtime: ServiceRuntime

    def as_(self, role: str | None, org: str | None = None) -> dict[str, str]:
        return headers_for(self.settings, role, org)

    @property
    def anonymous(self) -> dict[str, str]:
        return self.as_(None)

    @property
    def marktmeester(self) -> dict[str, str]:
        return self.as_("marktmeester")

    def municipality(self, code: str = EINDHOVEN) -> dict[str, str]:
        return self.as_("municipality", code)

    async def publish(self, role_headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
        body = plot(**overrides)
        headers = role_headers or self.municipality(body["gemeente_code"])
        response = await self.client.post("/api/v1/sites", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The CloudEvents written to the outbox, oldest first."""
        t = bus_tables.outbox
        query = sa.select(t.c.payload).order_by(t.c.seq)
        if event_type:
            query = query.where(t.c.event_type == event_type)
        async with self.runtime.db.sessions() as session:
            return list((await session.scalars(query)).all())

    async def count_sites(self) -> int:
        async with self.runtime.db.sessions() as session:
            return int(await session.scalar(sa.text("SELECT count(*) FROM sites")))


@pytest.fixture
async def sites(databases, make_settings) -> AsyncIterator[Sites]:
    """The service with its bus connected but no relay/consumers running: events stay in the outbox to inspect."""
    url = await databases("sites")
    settings = make_settings(SitesSettings, database_url=url, start_background=False, today=TODAY, db_pool_size=10, db_max_overflow=0)
    app = create_app(settings)
    async with running_app(app) as client:
        yield Sites(client, settings, app.state.runtime)


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def live_sites(databases, make_settings) -> AsyncIterator[Sites]:
    """The service with relay and consumers running against the test's private stream."""
    url = await databases("sites")
    settings = make_settings(
        SitesSettings, database_url=url, today=TODAY, consumer_fetch_timeout_s=0.3, outbox_poll_interval_s=0.05
    )
    app = create_app(settings)
    async with running_app(app) as client:
        await app.state.runtime.nats_ready.wait()
        yield Sites(client, settings, app.state.runtime)
