"""Fixtures of the gateway tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.gateway.app.config import GatewaySettings
from services.gateway.tests.support import EchoUpstream, gateway_settings, serve


@pytest.fixture
async def echo_upstream() -> AsyncIterator[tuple[EchoUpstream, str, Callable[..., GatewaySettings]]]:
    """A running echo upstream and a settings factory that points all three services at it."""
    base = gateway_settings()
    upstream = EchoUpstream(base)

    async with serve(upstream.app) as url:

        def settings(**overrides: Any) -> GatewaySettings:
            values = {"inventory_url": url, "sites_url": url, "matching_url": url, **overrides}
            return gateway_settings(**values)

        yield upstream, url, settings
