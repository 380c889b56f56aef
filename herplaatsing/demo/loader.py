"""Load a demo scenario through the gateway's public API, as its users would.

Municipalities publish their own plots with their GMxxxx token, investors register their
complexes and placements with their organisation's token, every creating POST carries a
stable Idempotency-Key (a second load, or a load resumed after an interruption, creates
nothing twice). At the end one expiry scan runs so matching proposes relocations.

Tokens are minted with the settings' JWT secret (`JWT_SECRET`, the dev default otherwise).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from tqdm import tqdm

from herplaatsing.demo.scenario import DEFAULT_SCALE, DEFAULT_SEED, ComplexPlan, Scenario, SitePlan, build_scenario
from shared.config import ServiceSettings
from shared.domain import Role
from shared.demo_parties import BELEGGERS, CORPORATIES, demo_organisation
from shared.web.identity import mint_user_token

RETRYABLE = {429, 502, 503, 504}


class DemoLoadError(RuntimeError):
    pass


class Stopped(DemoLoadError):
    """The loader was asked to stop (e.g. `herplaatsing up` is shutting down)."""


@dataclass
class LoadReport:
    scenario: str
    created: dict[str, int] = field(default_factory=lambda: {"sites": 0, "complexes": 0, "placements": 0})
    replayed: dict[str, int] = field(default_factory=lambda: {"sites": 0, "complexes": 0, "placements": 0})
    scan: dict[str, Any] | None = None
    seconds: float = 0.0

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    def describe(self) -> str:
        created = ", ".join(f"{n} {k}" for k, n in self.created.items())
        replayed = sum(self.replayed.values())
        scan = f"; expiry scan: {self.scan}" if self.scan else ""
        return f"created {created}; {replayed} already present (replayed){scan}; {self.seconds:.1f} s"


class DemoLoader:
    def __init__(
        self,
        gateway: str,
        *,
        settings: ServiceSettings | None = None,
        concurrency: int = 8,
        progress: bool = True,
        stop: threading.Event | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.gateway = gateway.rstrip("/")
        if not self.gateway.endswith("/api/v1"):
            self.gateway += "/api/v1"
        self.settings = settings or ServiceSettings()
        self.concurrency = concurrency
        self.progress = progress
        self.stop = stop or threading.Event()
        self.timeout_s = timeout_s
        self._tokens: dict[tuple[str, str | None], str] = {}

    # -- identities: one stable user per organisation, so its Idempotency-Keys stay in one scope

    def headers(self, role: Role, org: str | None) -> dict[str, str]:
        token = self._tokens.get((role.value, org))
        if token is None:
            token = mint_user_token(self.settings, f"demo-{org or 'rvo'}", role, org, ttl_s=6 * 3600)
            self._tokens[(role.value, org)] = token
        return {"Authorization": f"Bearer {token}"}

    # -- HTTP with retries (429 honours Retry-After; POSTs are safe to retry: they carry a key)

    async def _request(self, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
        delay = 0.2
        for attempt in range(12):
            if self.stop.is_set():
                raise Stopped("stopped")
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == 11:
                    raise DemoLoadError(f"{method} {url}: {exc!r}") from exc
            else:
                if response.status_code not in RETRYABLE:
                    return response
                if attempt == 11:
                    return response
                retry_after = response.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    await asyncio.sleep(min(float(retry_after), 10.0))
                    continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _replayed(response: httpx.Response, started: dt.datetime) -> bool:
        """A replayed Idempotency-Key: the header if passed on, else a creation before this run began."""
        if response.headers.get("Idempotent-Replayed") == "true":
            return True
        created_at = response.json().get("created_at")
        return bool(created_at) and dt.datetime.fromisoformat(created_at.replace("Z", "+00:00")) < started

    def _check(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code not in (200, 201):
            raise DemoLoadError(f"{what}: {response.status_code} {response.text[:500]}")
        return response.json()

    # -- the steps

    async def today(self, client: httpx.AsyncClient) -> dt.date:
        response = await self._request(client, "GET", f"{self.gateway}/clock", headers=self.headers(Role.marktmeester, None))
        return dt.date.fromisoformat(self._check(response, "GET /clock")["today"])

    async def summary(self, client: httpx.AsyncClient) -> dict[str, Any]:
        response = await self._request(client, "GET", f"{self.gateway}/dashboard/summary", headers=self.headers(Role.marktmeester, None))
        return self._check(response, "GET /dashboard/summary")

    async def _publish_site(self, client: httpx.AsyncClient, plan: SitePlan, report: LoadReport, started: dt.datetime) -> None:
        headers = {**self.headers(Role.municipality, plan.gemeente_code), "Idempotency-Key": plan.key}
        response = await self._request(client, "POST", f"{self.gateway}/sites", json=plan.body, headers=headers)
        self._check(response, f"POST /sites {plan.body['name']}")
        (report.replayed if self._replayed(response, started) else report.created)["sites"] += 1

    async def _register_complex(self, client: httpx.AsyncClient, plan: ComplexPlan, report: LoadReport, started: dt.datetime) -> None:
        owner = self.headers(Role.investor, plan.investor_org)
        response = await self._request(
            client, "POST", f"{self.gateway}/complexes", json=plan.body, headers={**owner, "Idempotency-Key": plan.key}
        )
        registered = self._check(response, f"POST /complexes {plan.body['name']}")
        (report.replayed if self._replayed(response, started) else report.created)["complexes"] += 1
        if plan.placement is None:
            return
        body = {"complex_id": registered["id"], **plan.placement}
        response = await self._request(
            client, "POST", f"{self.gateway}/placements", json=body, headers={**owner, "Idempotency-Key": plan.placement_key}
        )
        self._check(response, f"POST /placements for {plan.body['name']}")
        (report.replayed if self._replayed(response, started) else report.created)["placements"] += 1

    async def register_organisation(self, client: httpx.AsyncClient, org: str) -> None:
        """Register a demo investor organisation (already registered, 409, is fine: the demo loads again)."""
        response = await self._request(
            client, "POST", f"{self.gateway}/organisations", json=demo_organisation(org), headers=self.headers(Role.marktmeester, None)
        )
        if response.status_code != 409:
            self._check(response, f"POST /organisations {org}")

    async def expiry_scan(self, client: httpx.AsyncClient) -> dict[str, Any]:
        """One expiry scan now, as the marktmeester, so matching proposes relocations right away."""
        response = await self._request(client, "POST", f"{self.gateway}/expiry-scans", headers=self.headers(Role.marktmeester, None))
        self._check(response, "POST /expiry-scans")
        return response.json()

    async def _run_all(self, jobs: list[Any], bar: tqdm) -> None:
        """Run coroutine factories with bounded concurrency; the first failure cancels the rest."""
        queue: asyncio.Queue = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)

        async def worker() -> None:
            while not queue.empty():
                job = queue.get_nowait()
                await job()
                bar.update(1)

        workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def load(self, scenario: Scenario | None = None, *, scale: float = DEFAULT_SCALE, seed: int = DEFAULT_SEED, scan: bool = True) -> LoadReport:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        started = dt.datetime.now(dt.timezone.utc)  # server and loader share a clock on one machine
        limits = httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency * 2)
        async with httpx.AsyncClient(timeout=self.timeout_s, limits=limits) as client:
            if scenario is None:
                scenario = build_scenario(scale=scale, seed=seed, today=await self.today(client))
            report = LoadReport(scenario=scenario.describe())
            # Investors act only for a registered organisation: the marktmeester registers the demo's first
            # (every demo party, so each identity of the development sign-in can act, and the scenario's owners).
            for org in sorted({*CORPORATIES, *BELEGGERS, *(plan.investor_org for plan in scenario.complexes)}):
                await self.register_organisation(client, org)
            jobs: list[Any] = [lambda p=p: self._publish_site(client, p, report, started) for p in scenario.sites]
            jobs += [lambda p=p: self._register_complex(client, p, report, started) for p in scenario.complexes]
            with tqdm(total=len(jobs), desc="demo data", unit="obj", disable=not self.progress, dynamic_ncols=True) as bar:
                await self._run_all(jobs, bar)
            if scan:
                report.scan = await self.expiry_scan(client)
        report.seconds = loop.time() - t0
        return report


def system_is_empty(gateway: str, settings: ServiceSettings | None = None, timeout_s: float = 30.0) -> bool:
    """No homes placed yet (GET /dashboard/summary): the demo belongs in an empty system only."""
    loader = DemoLoader(gateway, settings=settings, progress=False)

    async def check() -> bool:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            return (await loader.summary(client))["homes"]["placed"] == 0

    return asyncio.run(check())


def load_demo(
    gateway: str,
    *,
    scale: float = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    settings: ServiceSettings | None = None,
    progress: bool = True,
    stop: threading.Event | None = None,
    concurrency: int = 8,
) -> LoadReport:
    loader = DemoLoader(gateway, settings=settings, progress=progress, stop=stop, concurrency=concurrency)
    return asyncio.run(loader.load(scale=scale, seed=seed))
