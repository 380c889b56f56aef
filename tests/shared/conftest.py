"""Fixtures for the shared library's own tests: a producer and a consumer database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from herplaatsing.embedded import NatsServer
from shared.bus.tables import BusTables, define_bus_tables
from shared.config import ServiceSettings
from shared.db import Database, new_metadata
from shared.events.envelope import CloudEvent
from shared.events.models import EventData, SiteWithdrawn

TABLES: BusTables = define_bus_tables(new_metadata())


@dataclass
class EffectLog:
    """A consumer-side table recording each handler effect (no unique key: doubles would show)."""

    db: Database
    fail_times: int = 0
    calls: int = 0
    seen: list[str] = field(default_factory=list)

    async def handler(self, session: AsyncSession, event: CloudEvent, data: EventData) -> None:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise RuntimeError("transient failure in handler")
        await session.execute(sa.text("INSERT INTO effects (event_id) VALUES (:e)"), {"e": str(event.id)})

    async def count(self) -> int:
        async with self.db.sessions() as s:
            return int(await s.scalar(sa.text("SELECT count(*) FROM effects")))


@pytest.fixture
async def producer_db(databases) -> AsyncIterator[Database]:
    db = Database(await databases("sites"), service="producer")
    yield db
    await db.dispose()


@pytest.fixture
async def consumer_db(databases) -> AsyncIterator[Database]:
    db = Database(await databases("matching"), service="consumer")
    async with db.transaction() as s:
        await s.execute(sa.text("CREATE TABLE effects (event_id uuid NOT NULL)"))
    yield db
    await db.dispose()


@pytest.fixture
def private_nats(tmp_path: Path):
    """A nats-server of our own, so a test may stop and start it."""
    server = NatsServer(tmp_path / "nats").start()
    yield server
    server.stop()


def sample_event() -> SiteWithdrawn:
    return SiteWithdrawn(site_id=uuid.uuid4(), version=2, gemeente_code="GM0200")


def settings_for(make_settings, name: str, **overrides) -> ServiceSettings:
    return make_settings(ServiceSettings, service_name=name, consumer_fetch_timeout_s=0.3, **overrides)
