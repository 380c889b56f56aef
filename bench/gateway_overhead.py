"""Benchmark: what the gateway adds to a read and to a write, over 10,000 plots and 10,000 proposals.

Starts inventory, sites, matching and the gateway as real uvicorn processes on free ports
(fresh databases on the PostgreSQL server, a private NATS stream and subject prefix),
bulk-inserts 10,000 plots into the sites database and 10,000 proposals (with their
allocations) into the matching database, then sends the SAME requests

- straight to the service (with the internal identity header the gateway would mint), and
- through the gateway (with a user's bearer token),

alternating request by request so both see the same machine load: GETs of plots and proposals,
and POSTs of draft plots (the body forwarded as bytes). Latency: one request at a time
(p50/p99); throughput: `--concurrency` requests in flight, direct and gateway taking turns in rounds.
Overhead ratio = gateway / direct (target: p50 through the gateway <= 1.3x direct, for GET and
for POST). Finally the gateway's RSS.

Run: .venv/bin/python bench/gateway_overhead.py [--rows 10000] [--requests 300]
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.sites_queries import make_plots  # noqa: E402 - the same plots as the sites bench
from herplaatsing.embedded import ServiceProcess, free_port  # noqa: E402
from herplaatsing.migrations import upgrade  # noqa: E402
from services.gateway.app.config import GatewaySettings  # noqa: E402
from services.matching.app.proposals.models import Proposal, ProposalAllocation  # noqa: E402
from services.sites.app.sites.models import Site  # noqa: E402
from services.sites.app.sites.schemas import SiteCreate  # noqa: E402
from shared.db import async_url, drop_database, ensure_database, with_database  # noqa: E402
from shared.domain import Role  # noqa: E402
from shared.reference import municipalities  # noqa: E402
from shared.web.identity import Principal, internal_headers, mint_user_token  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")
SERVICES = ("inventory", "sites", "matching")
STATUSES = ("pending", "accepted", "reserved", "scheduled", "declined", "expired", "withdrawn")
# The sites service's own example plot, saved as a draft (no event, no listing change).
DRAFT_PLOT = json.dumps({**SiteCreate.model_json_schema()["examples"][0], "status": "draft"}).encode()
# The same requests go to the service and through the gateway (as the marktmeester: every row visible):
# (label, service, method, paths, body)
REQUESTS = [
    (
        "GET /sites",
        "sites",
        "GET",
        [
            "/api/v1/sites?limit=50",
            "/api/v1/sites?province=PV30&limit=50",
            "/api/v1/sites?freeAt=2030-01-01&minFreeUnits=10&limit=50",
            "/api/v1/sites?nearLat=52.09&nearLon=5.12&withinKm=25&sort=distance&limit=50",
        ],
        None,
    ),
    ("GET /proposals", "matching", "GET", ["/api/v1/proposals?limit=50", "/api/v1/proposals?status=pending&limit=50"], None),
    ("POST /sites", "sites", "POST", ["/api/v1/sites"], DRAFT_PLOT),
]
OK = {"GET": 200, "POST": 201}


# -- load phase: bulk rows straight into the services' databases


def proposal_rows(n: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    gemeenten = list(municipalities())
    now = dt.datetime.now(dt.timezone.utc)
    proposals, allocations = [], []
    for i in range(n):
        pid, gm, units = uuid.uuid4(), rng.choice(gemeenten), rng.choice([12, 24, 48])
        investor = f"investor-{rng.randrange(50)}"
        proposals.append(
            dict(
                id=pid, placement_id=uuid.uuid4(), complex_id=uuid.uuid4(), investor_org=investor,
                status=rng.choice(STATUSES), unit_count=units, shortfall_units=0, rung="gemeente",
                cost={"transport_unit_km": 120.0, "transport": 480.0, "total": 480.0},
                binding_constraints=["stacking: 1 plot(s) ruled out"], alternatives=[],
                parties=[{"role": "investor", "org": investor}, {"role": "municipality", "org": gm}], acceptances=[],
                move_window_start=dt.date(2027, 6, 30), expires_at=now + dt.timedelta(days=30),
                created_at=now + dt.timedelta(microseconds=i), decided_at=None, reason=None, run_id=None,
            )
        )
        allocations.append(dict(proposal_id=pid, site_id=uuid.uuid4(), gemeente_code=gm, units=units, distance_km=3.2, rung="gemeente"))
    return proposals, allocations


async def bulk_insert(url: str, table: sa.Table, rows: list[dict], chunk: int = 1000) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            for i in range(0, len(rows), chunk):
                await conn.execute(sa.insert(table), rows[i : i + chunk])
            await conn.execute(sa.text(f"ANALYZE {table.name}"))
    finally:
        await engine.dispose()


# -- measurement


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Target:
    method: str
    paths: list[str]
    headers: dict[str, str]
    body: bytes | None

    async def send(self, client: httpx.AsyncClient, i: int) -> None:
        path = self.paths[i % len(self.paths)]
        r = await client.request(self.method, path, headers=self.headers, content=self.body)
        if r.status_code != OK[self.method]:
            raise RuntimeError(f"{self.method} {path}: {r.status_code} {r.text[:300]}")


async def latencies(client: httpx.AsyncClient, target: Target, count: int, offset: int = 0) -> list[float]:
    out = []
    for i in range(offset, offset + count):
        start = time.perf_counter()
        await target.send(client, i)
        out.append((time.perf_counter() - start) * 1000)
    return out


async def throughput(client: httpx.AsyncClient, target: Target, count: int, concurrency: int) -> float:
    """Seconds for `count` requests with `concurrency` in flight."""
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            await target.send(client, i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def alternating_throughput(client: httpx.AsyncClient, targets: dict[str, Target],
                                 count: int, concurrency: int, rounds: int = 6) -> dict[str, float]:
    """Requests/s per target, the targets taking turns in rounds so both see the same machine load."""
    seconds = dict.fromkeys(targets, 0.0)
    per_round = max(concurrency, count // rounds)
    for _ in range(rounds):
        for name, target in targets.items():
            seconds[name] += await throughput(client, target, per_round, concurrency)
    return {name: per_round * rounds / s for name, s in seconds.items()}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(urls: dict[str, str], gateway_url: str, settings: GatewaySettings, args: argparse.Namespace) -> dict:
    marktmeester = Principal(sub="bench", role=Role.marktmeester, org=None)
    bearer = {"Authorization": f"Bearer {mint_user_token(settings, 'bench', Role.marktmeester, None, ttl_s=3600)}"}
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=args.concurrency * 2)
    results: dict[str, dict] = {}
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for kind, service, method, paths, body in REQUESTS:
            # The internal identity is minted once here; the gateway mints one per request (part of its cost).
            json_type = {"Content-Type": "application/json"} if body else {}
            targets = {
                "direct": Target(method, [urls[service] + p for p in paths], {**internal_headers(settings, marktmeester), **json_type}, body),
                "gateway": Target(method, [gateway_url + p for p in paths], {**bearer, **json_type}, body),
            }
            for target in targets.values():
                await latencies(client, target, 30)  # warm-up: connections, caches, JIT-free but lazy imports
            # Alternate request by request, so both targets see the same (shared, noisy) machine.
            samples: dict[str, list[float]] = {"direct": [], "gateway": []}
            for i in range(args.requests):
                for name, target in targets.items():
                    samples[name] += await latencies(client, target, 1, offset=i)
            rps = await alternating_throughput(client, targets, args.requests, args.concurrency)
            figures = {
                target: {
                    "p50_ms": round(pct(ms, 0.5), 2),
                    "p99_ms": round(pct(ms, 0.99), 2),
                    "mean_ms": round(statistics.fmean(ms), 2),
                    "rps": round(rps[target], 1),
                }
                for target, ms in samples.items()
            }
            figures["p50_ratio"] = round(figures["gateway"]["p50_ms"] / figures["direct"]["p50_ms"], 3)
            figures["p99_ratio"] = round(figures["gateway"]["p99_ms"] / figures["direct"]["p99_ms"], 3)
            figures["rps_ratio"] = round(figures["gateway"]["rps"] / figures["direct"]["rps"], 3)
            figures["added_p50_ms"] = round(figures["gateway"]["p50_ms"] - figures["direct"]["p50_ms"], 2)
            results[kind] = figures
            print(
                f"{kind:<15} direct  p50 {figures['direct']['p50_ms']:7.2f} ms  p99 {figures['direct']['p99_ms']:7.2f} ms  "
                f"{figures['direct']['rps']:7.1f} req/s (c={args.concurrency})",
                flush=True,
            )
            print(
                f"{kind:<15} gateway p50 {figures['gateway']['p50_ms']:7.2f} ms  p99 {figures['gateway']['p99_ms']:7.2f} ms  "
                f"{figures['gateway']['rps']:7.1f} req/s (c={args.concurrency})",
                flush=True,
            )
            print(
                f"{kind:<15} overhead: p50 x{figures['p50_ratio']} (+{figures['added_p50_ms']} ms), "
                f"p99 x{figures['p99_ratio']}, throughput x{figures['rps_ratio']}",
                flush=True,
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="plots and proposals to load (each)")
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint and target, per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight in the throughput phase")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:8]
    databases = {s: f"bench_gw_{tag}_{s}" for s in SERVICES}
    urls = {s: with_database(SERVER, name) for s, name in databases.items()}
    log_dir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    bus = {"NATS_URL": NATS_URL, "STREAM_NAME": f"BENCH_GW_{tag.upper()}", "SUBJECT_PREFIX": f"benchgw{tag}"}
    processes: list[ServiceProcess] = []
    rng = random.Random(args.seed)
    try:
        t0 = time.perf_counter()
        for service in SERVICES:
            asyncio.run(ensure_database(SERVER, databases[service]))
            upgrade(service, urls[service])
        print(f"databases migrated in {time.perf_counter() - t0:.1f} s ({', '.join(databases.values())})", flush=True)

        t0 = time.perf_counter()
        asyncio.run(bulk_insert(urls["sites"], Site.__table__, make_plots(args.rows, rng)))
        proposals, allocations = proposal_rows(args.rows, rng)
        asyncio.run(bulk_insert(urls["matching"], Proposal.__table__, proposals))
        asyncio.run(bulk_insert(urls["matching"], ProposalAllocation.__table__, allocations))
        print(f"loaded {args.rows} plots and {args.rows} proposals in {time.perf_counter() - t0:.1f} s", flush=True)

        ports = {s: free_port() for s in (*SERVICES, "gateway")}
        service_urls = {s: f"http://127.0.0.1:{ports[s]}" for s in SERVICES}
        for service in SERVICES:
            processes.append(ServiceProcess(service, ports[service], {"DATABASE_URL": urls[service], **bus}, log_dir).start())
        gateway_env = {
            **bus,
            **{f"{s.upper()}_URL": service_urls[s] for s in SERVICES},
            "RATE_LIMIT_PER_S": "1000000",
            "RATE_LIMIT_BURST": "1000000",
        }
        gateway = ServiceProcess("gateway", ports["gateway"], gateway_env, log_dir).start()
        processes.append(gateway)
        for p in processes:
            p.wait_ready(90)
        print(f"services up (logs in {log_dir}); gateway RSS before {rss_mb(gateway.proc.pid):.1f} MB", flush=True)

        settings = GatewaySettings(environment="development")  # same (development) secrets as the processes
        results = asyncio.run(measure(service_urls, gateway.url, settings, args))
        rss_after = rss_mb(gateway.proc.pid)
        print(f"gateway RSS after the run: {rss_after:.1f} MB", flush=True)
        worst = max(results[k]["p50_ratio"] for k in results)
        target = 1.3
        print(f"p50 overhead target <= x{target}: {'met' if worst <= target else 'NOT met'} (worst x{worst})", flush=True)
        print(
            json.dumps(
                {
                    "benchmark": "gateway_overhead",
                    "rows": args.rows,
                    "requests_per_phase": args.requests,
                    "concurrency": args.concurrency,
                    **results,
                    "worst_p50_ratio": worst,
                    "p50_ratio_target": target,
                    "target_met": worst <= target,
                    "gateway_rss_mb": round(rss_after, 1),
                }
            )
        )
        return 0
    finally:
        for p in reversed(processes):
            p.stop()
        for name in databases.values():
            asyncio.run(drop_database(SERVER, name))
        asyncio.run(_delete_stream(bus["STREAM_NAME"]))


async def _delete_stream(name: str) -> None:
    import contextlib

    import nats

    with contextlib.suppress(Exception):
        nc = await nats.connect(NATS_URL)
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(name)
        await nc.close()


if __name__ == "__main__":
    raise SystemExit(main())
