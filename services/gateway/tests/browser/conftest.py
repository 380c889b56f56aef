"""The whole system behind a gateway on a real port, with demo data, and Debian's chromium.

Started once per module (it takes a few seconds): the real inventory, sites and matching apps
on fresh databases and a private JetStream stream, a local OpenID Connect issuer on loopback
(services/gateway/tests/auth/local_issuer.py), the gateway (environment development, so the demo
sign-in is there beside the issuer's code flow) served by uvicorn, the demo scenario at a small
scale loaded through it. Playwright drives /usr/bin/chromium (`executable_path`: no browser download).
Screenshots go to artefacts/browser/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from services.gateway.app.config import GatewaySettings
from services.gateway.app.main import create_app as gateway_app
from services.gateway.tests.auth.local_issuer import AUDIENCE, CLIENT_ID, Issuer
from services.gateway.tests.support import bearer, serve
from services.inventory.app.config import InventorySettings
from services.inventory.app.main import create_app as inventory_app
from services.matching.app.config import MatchingSettings
from services.matching.app.main import create_app as matching_app
from services.sites.app.config import SitesSettings
from services.sites.app.main import create_app as sites_app
from herplaatsing.demo.loader import DemoLoader
from shared.domain import Role
from herplaatsing.testing import NATS_URL, BusNamespace, drop, fresh_database

ROOT = Path(__file__).resolve().parents[4]
ARTEFACTS = ROOT / "artefacts" / "browser"
AXE = Path(__file__).parent / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
TODAY = dt.date(2026, 11, 23)
DEMO_SCALE = 0.05


@dataclass
class Dashboard:
    url: str
    settings: GatewaySettings
    browser: Any  # playwright Browser
    issuer: Issuer  # the dashboard's identity provider (signs in `issuer.user` at once)

    async def api(self, path: str, role: Role = Role.marktmeester, org: str | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            r = await client.get(f"/api/v1{path}", headers=bearer(self.settings, role, org))
            assert r.status_code == 200, r.text
            return r.json()

    async def signed_in(self, label: str, *, enforce_csp: bool = False) -> Any:
        """A fresh browser context (own cookies) signed in as the demo identity with this label.

        The pages' Content-Security-Policy forbids eval and inline scripts, which Playwright's
        wait_for_function and the injected axe-core need: contexts bypass it unless `enforce_csp`.
        """
        context = await self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL", bypass_csp=not enforce_csp)
        page = await context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: page.errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        await page.goto(f"{self.url}/aanmelden")
        await page.get_by_role("button", name=label, exact=True).click()
        await page.wait_for_load_state()
        return page


async def screenshot(page: Any, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def axe_findings(page: Any) -> list[dict[str, Any]]:
    """axe-core (the vendored file, injected) on the page: every WCAG 2.1 A/AA violation, with its impact."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
    )
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]} for v in result]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dashboard() -> AsyncIterator[Dashboard]:
    if CHROMIUM is None:
        if os.environ.get("CI"):  # CI installs it (scripts/test as root): a missing browser is a failure there
            pytest.fail("no chromium on PATH in CI")
        pytest.skip("no chromium: apt-get install -y chromium (scripts/test does as root)")
    from playwright.async_api import async_playwright

    tag = uuid.uuid4().hex[:10]
    bus = BusNamespace(NATS_URL, f"T_{tag.upper()}", f"t{tag}")
    fast = {"environment": "test", "log_json": False, "today": TODAY, "outbox_poll_interval_s": 0.05, "consumer_fetch_timeout_s": 0.2,
            **bus.settings_overrides()}
    urls = {name: await fresh_database(name) for name in ("inventory", "sites", "matching")}
    services = {
        "inventory": inventory_app(InventorySettings(database_url=urls["inventory"], expiry_scan_interval_s=0.5, **fast)),
        "sites": sites_app(SitesSettings(database_url=urls["sites"], **fast)),
        "matching": matching_app(MatchingSettings(database_url=urls["matching"], expiry_check_interval_s=0.5, **fast)),
    }
    issuer = Issuer()
    try:
        async with contextlib.AsyncExitStack() as stack:
            issuer.url = await stack.enter_async_context(serve(issuer.app))
            settings = GatewaySettings(
                environment="development", log_json=False, rate_limit_per_s=1000, rate_limit_burst=1000,
                oidc_issuers=[{"issuer": issuer.url, "audience": AUDIENCE, "role_claim": "realm_access.roles", "org_claim": "org"}],
                dashboard_oidc_client_id=CLIENT_ID,  # redirect URI from the request: http://127.0.0.1:<port>/callback
            )
            gateway = gateway_app(settings, upstream_transports={n: httpx.ASGITransport(app=a) for n, a in services.items()})
            for app in (*services.values(), gateway):
                await stack.enter_async_context(app.router.lifespan_context(app))
            url = await stack.enter_async_context(serve(gateway))
            await DemoLoader(url, settings=settings, progress=False).load(scale=DEMO_SCALE)
            playwright = await stack.enter_async_context(async_playwright())
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            stack.push_async_callback(browser.close)
            yield Dashboard(url, settings, browser, issuer)
    finally:
        for db in urls.values():
            with contextlib.suppress(Exception):
                await drop(db)
        nc = None
        with contextlib.suppress(Exception):
            import nats

            nc = await nats.connect(NATS_URL)
            await nc.jetstream().delete_stream(bus.stream_name)
        if nc is not None:
            await nc.close()
