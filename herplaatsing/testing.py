"""Pytest plugin (loaded with `-p herplaatsing.testing`): real PostgreSQL and NATS for every test.

- Each test gets fresh databases cloned from a migrated template (one template per
  service per run), so tests never see each other's rows.
- Each test gets its own JetStream stream and subject prefix, so tests never see
  each other's events, and the stream is deleted afterwards.
Point TEST_DATABASE_URL / TEST_NATS_URL elsewhere to use other servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from shared.config import ServiceSettings
from shared.db import async_url, with_database
from shared.domain import Role
from shared.web.identity import Principal, internal_headers

PG_SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")
RUN_ID = uuid.uuid4().hex[:8]

_templates: dict[str, str] = {}


async def _admin_execute(*statements: str) -> None:
    engine = create_async_engine(async_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def migrated_template(service: str) -> str:
    """A database migrated to head, created once per test run and cloned per test."""
    if service not in _templates:
        from herplaatsing.migrations import upgrade

        name = f"tmpl_{service}_{RUN_ID}"
        await _admin_execute(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        await asyncio.to_thread(upgrade, service, with_database(PG_SERVER, name))
        _templates[service] = name
    return _templates[service]


async def fresh_database(service: str) -> str:
    template = await migrated_template(service)
    name = f"t_{service}_{uuid.uuid4().hex[:10]}"
    await _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_database(PG_SERVER, name)


async def drop(url: str) -> None:
    from shared.db import database_name

    await _admin_execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


_embedded: list[Any] = []


def pytest_configure(config: pytest.Config) -> None:
    """No server on the default ports and none named: start embedded ones (fresh machine)."""
    global PG_SERVER, NATS_URL
    from herplaatsing.embedded import NatsServer, PostgresServer, port_open, usable_home

    if "TEST_DATABASE_URL" not in os.environ and not port_open(5432):
        import tempfile
        from pathlib import Path

        home = usable_home(Path(tempfile.mkdtemp(prefix="herplaatsing-test-")))
        home.chmod(0o755)
        server = PostgresServer(home).start()
        _embedded.append(server)
        PG_SERVER = os.environ["TEST_DATABASE_URL"] = server.url
    if "TEST_NATS_URL" not in os.environ and not port_open(4222):
        import tempfile
        from pathlib import Path

        server = NatsServer(Path(tempfile.mkdtemp(prefix="herplaatsing-test-nats-"))).start()
        _embedded.append(server)
        NATS_URL = os.environ["TEST_NATS_URL"] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    for server in reversed(_embedded):
        server.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _templates:
        with contextlib.suppress(Exception):
            asyncio.run(_admin_execute(*[f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in _templates.values()]))


@dataclass
class BusNamespace:
    """A private stream + subject prefix on the shared NATS server."""

    nats_url: str
    stream_name: str
    subject_prefix: str

    def settings_overrides(self) -> dict[str, Any]:
        return {
            "nats_url": self.nats_url,
            "stream_name": self.stream_name,
            "subject_prefix": self.subject_prefix,
            "stream_duplicate_window_s": 30.0,
        }


@pytest.fixture
async def bus_namespace() -> AsyncIterator[BusNamespace]:
    tag = uuid.uuid4().hex[:10]
    ns = BusNamespace(NATS_URL, f"T_{tag.upper()}", f"t{tag}")
    yield ns
    nc = await nats.connect(NATS_URL)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(ns.stream_name)
    await nc.close()


@pytest.fixture
async def databases() -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """`url = await databases("sites")`: a fresh migrated database, dropped after the test."""
    made: list[str] = []

    async def make(service: str) -> str:
        url = await fresh_database(service)
        made.append(url)
        return url

    yield make
    for url in made:
        with contextlib.suppress(Exception):
            await drop(url)


@pytest.fixture
def make_settings(bus_namespace: BusNamespace) -> Callable[..., ServiceSettings]:
    """`make_settings(SitesSettings, database_url=url, **overrides)` with the test's bus namespace."""

    def make(cls: type[ServiceSettings], **overrides: Any) -> ServiceSettings:
        values = {"environment": "test", "log_json": False, **bus_namespace.settings_overrides(), **overrides}
        return cls(**values)

    return make


def headers_for(settings: ServiceSettings, role: Role | str | None, org: str | None = None, sub: str = "tester") -> dict[str, str]:
    """Internal identity headers as the gateway would send them."""
    principal = Principal(sub=sub, role=Role(role) if role else None, org=org)
    return internal_headers(settings, principal)


@contextlib.asynccontextmanager
async def running_app(app: Any, base_url: str = "http://service") -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (relay, consumers, background loops) and give an in-process client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll an async check until it returns something truthy (events are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        try:
            last = await check()
            if last:
                return last
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        await asyncio.sleep(interval)
