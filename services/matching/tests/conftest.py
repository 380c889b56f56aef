"""Fixtures: a matching app on a fresh database and a private stream, and an event publisher."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import pytest

from herplaatsing.testing import running_app
from services.matching.app.config import MatchingSettings
from services.matching.app.main import create_app
from shared.bus.nats import connect, ensure_stream
from shared.bus.outbox import build_event
from shared.events import models as ev

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
async def settings(databases, make_settings) -> MatchingSettings:
    url = await databases("matching")
    return make_settings(MatchingSettings, database_url=url, today=TODAY, consumer_fetch_timeout_s=0.2,
                         outbox_poll_interval_s=0.05, expiry_check_interval_s=0.2)


@pytest.fixture
async def app_client(settings):
    app = create_app(settings)
    async with running_app(app) as client:
        client.app = app
        yield client


class Publisher:
    """Publishes producer events (inventory.*, sites.*) to the real stream as their relays would."""

    def __init__(self, settings: MatchingSettings) -> None:
        self.settings = settings
        self.nc = None

    async def __call__(self, event_type: str, data: ev.EventData, aggregate_id: object = None) -> None:
        if self.nc is None:
            self.nc = await connect(self.settings, name="test-publisher")
            await ensure_stream(self.nc.jetstream(), self.settings)
        event = build_event(event_type.split(".")[0], event_type, aggregate_id or uuid.uuid4(), data)
        await self.nc.jetstream().publish(self.settings.subject(event_type), orjson.dumps(event.model_dump(mode="json")),
                                          headers={"Nats-Msg-Id": str(event.id)})

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()


@pytest.fixture
async def publish(settings):
    p = Publisher(settings)
    yield p
    await p.close()


def complex_spec(**kw) -> ev.ComplexSpec:
    base = dict(complex_id=uuid.uuid4(), investor_org="woonstad", name="Flex 48", unit_count=20, typology="gestapeld",
                layers=2, floor_area_m2=38, bedrooms=1, modules_per_unit=1.0, bbl_level="nieuwbouw", min_group_size=1)
    return ev.ComplexSpec(**{**base, **kw})


def expiring(spec: ev.ComplexSpec, gemeente: str = "GM0200", lat: float = 52.2112, lon: float = 5.9699,
             end: dt.date = dt.date(2027, 6, 30)) -> ev.PlacementExpiring:
    return ev.PlacementExpiring(
        placement_id=uuid.uuid4(), complex=spec, unit_ids=[uuid.uuid4() for _ in range(spec.unit_count)], gemeente_code=gemeente,
        province_code="PV25", lat=lat, lon=lon, instrument="wabo_bor4_11", start_date=dt.date(2017, 6, 30), end_date=end,
        detected_on=TODAY,
    )


def site(gemeente: str = "GM0200", capacity: int = 40, version: int = 1, lat: float = 52.2150, lon: float = 5.9700,
         **kw) -> ev.SitePublished:
    base = dict(site_id=uuid.uuid4(), version=version, status="published", gemeente_code=gemeente, province_code="PV25",
                name="Kavel", kind="municipal", lat=lat, lon=lon, capacity_units=capacity, available_from=dt.date(2027, 1, 1),
                expected_instrument="ow_bopa", max_layers=3, allows_tijdelijk_bbl=True, allows_permanent=False,
                readiness=ev.Readiness(bouwrijp=True, water=True, electricity=True, sewer=True))
    return ev.SitePublished(**{**base, **kw})
