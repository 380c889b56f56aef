"""Fixtures of the end-to-end tests: a whole running system per test, always torn down."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from herplaatsing.embedded import NatsServer
from tests.e2e.harness import SystemUnderTest
from tests.e2e.scenario import TODAY


@pytest.fixture
def make_system(tmp_path: Path) -> Iterator[Callable[..., SystemUnderTest]]:
    """Build (not start) systems; every one built is stopped and its databases dropped at the end."""
    built: list[SystemUnderTest] = []

    def make(nats_urls: str | None = None, **extra_env: str) -> SystemUnderTest:
        system = SystemUnderTest(tmp_path / f"system{len(built)}", nats_urls=nats_urls, today=TODAY)
        system.extra_env.update(extra_env)
        built.append(system)
        system.create_databases()
        return system

    try:
        yield make
    finally:
        for system in built:
            system.stop()


@pytest.fixture
def system(make_system: Callable[..., SystemUnderTest]) -> SystemUnderTest:
    """The four services on the shared test PostgreSQL and NATS, under a private stream."""
    system = make_system()
    system.start()
    return system


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server (JetStream, file store) the test may stop, kill, wipe and restart."""
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop(kill=True)
