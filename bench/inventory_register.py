"""Benchmark: register 100,000 homes (2,000 complexes of 50) through the inventory API over real HTTP.

Starts the inventory service with uvicorn as its own process on a free port, against a
fresh database on the local PostgreSQL and the local NATS (private stream and subject
prefix), and samples the service's RSS with psutil while it runs. A baseline with one
client (sequential requests) runs first in the same process, then N concurrent clients.

    .venv/bin/python bench/inventory_register.py [--complexes 2000] [--units 50] [--clients 8]

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import nats
import psutil
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from herplaatsing.embedded import ServiceProcess, free_port  # noqa: E402
from herplaatsing.migrations import upgrade  # noqa: E402
from services.inventory.app.config import InventorySettings  # noqa: E402
from shared.db import with_database  # noqa: E402
from shared.domain import Role  # noqa: E402
from shared.web.identity import Principal, internal_headers  # noqa: E402

PG_SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")


def complex_body(n: int, units: int) -> dict:
    return {
        "name": f"Bench complex {n}",
        "supplier": "Bench BV",
        "unit_count": units,
        "typology": "gestapeld",
        "layers": 2,
        "floor_area_m2": 40,
        "bedrooms": 1,
        "modules_per_unit": 1.0,
        "bbl_level": "nieuwbouw",
        "build_year": 2024,
        "build_cost_eur_per_unit": 110_000,
        "rthf": {"beschikking_id": f"RTHF-{n}", "garantiebedrag_eur_per_unit": 60_000},
        "rent_eur_month": 650.0,
        "doelgroepen": ["starters"],
    }


class RssSampler(threading.Thread):
    """Peak resident memory of the service process (and any children), sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass  # a worker exited between listing and reading it: sample again
            time.sleep(0.05)


async def register_many(base_url: str, headers: dict, start: int, count: int, units: int, clients: int) -> float:
    """Register `count` complexes with `clients` concurrent connections; returns seconds taken."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(start, start + count):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while True:
                try:
                    n = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                response = await client.post("/api/v1/complexes", json=complex_body(n, units))
                if response.status_code != 201:
                    raise RuntimeError(f"complex {n}: {response.status_code} {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(clients)])
        return time.perf_counter() - started


async def admin(*statements: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.db import async_url

    engine = create_async_engine(async_url(PG_SERVER), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        for statement in statements:
            await conn.execute(sa.text(statement))
    await engine.dispose()


async def count_units(url: str) -> int:
    from sqlalchemy.ext.asyncio import create_async_engine

    from shared.db import async_url

    engine = create_async_engine(async_url(url))
    async with engine.connect() as conn:
        value = await conn.scalar(sa.text("SELECT count(*) FROM units"))
    await engine.dispose()
    return int(value)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complexes", type=int, default=2000)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--baseline-complexes", type=int, default=200)
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:8]
    database = f"bench_inventory_{tag}"
    url = with_database(PG_SERVER, database)
    stream, prefix = f"BENCH_{tag.upper()}", f"bench{tag}"
    await admin(f'CREATE DATABASE "{database}"')
    service: ServiceProcess | None = None
    try:
        await asyncio.to_thread(upgrade, "inventory", url)
        env = {
            "DATABASE_URL": url,
            "NATS_URL": NATS_URL,
            "STREAM_NAME": stream,
            "SUBJECT_PREFIX": prefix,
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": str(max(5, args.clients)),
        }
        service = ServiceProcess("inventory", free_port(), env, Path(tempfile.mkdtemp(prefix="bench-inventory-")))
        service.start()
        await asyncio.to_thread(service.wait_ready, 60)
        assert service.proc is not None
        sampler = RssSampler(service.proc.pid)
        sampler.start()
        headers = internal_headers(InventorySettings(), Principal(sub="bench", role=Role.investor, org="bench-corp"))
        print(f"inventory service on {service.url}, database {database}, stream {stream}")

        base_s = await register_many(service.url, headers, 0, args.baseline_complexes, args.units, 1)
        base_rate = args.baseline_complexes * args.units / base_s
        print(f"baseline  1 client : {args.baseline_complexes} complexes x {args.units} = {args.baseline_complexes * args.units} homes in {base_s:.1f} s -> {base_rate:,.0f} homes/s")

        main_s = await register_many(service.url, headers, 10**6, args.complexes, args.units, args.clients)
        homes = args.complexes * args.units
        rate = homes / main_s
        print(f"run     {args.clients:2d} clients: {args.complexes} complexes x {args.units} = {homes} homes in {main_s:.1f} s -> {rate:,.0f} homes/s")

        stored = await count_units(url)
        expected = (args.baseline_complexes + args.complexes) * args.units
        sampler.stop_event.set()
        sampler.join()
        peak_mb = sampler.peak / 2**20
        print(f"units stored: {stored} (expected {expected}); service peak RSS {peak_mb:.0f} MB")
        print(f"targets: 100,000 homes < 60 s -> {'OK' if main_s < 60 else 'MISSED'}; peak RSS < 500 MB -> {'OK' if peak_mb < 500 else 'MISSED'}")
        if stored != expected:
            raise SystemExit("unit count mismatch")
        print(
            json.dumps(
                {
                    "homes": homes,
                    "complexes": args.complexes,
                    "clients": args.clients,
                    "seconds": round(main_s, 2),
                    "homes_per_s": round(rate, 1),
                    "baseline_clients": 1,
                    "baseline_homes": args.baseline_complexes * args.units,
                    "baseline_seconds": round(base_s, 2),
                    "baseline_homes_per_s": round(base_rate, 1),
                    "speedup_vs_baseline": round(rate / base_rate, 2),
                    "peak_rss_mb": round(peak_mb, 1),
                    "under_60s": main_s < 60,
                    "under_500mb": peak_mb < 500,
                }
            )
        )
    finally:
        if service is not None:
            service.stop()
        nc = await nats.connect(NATS_URL)
        try:
            await nc.jetstream().delete_stream(stream)
        except Exception:  # noqa: BLE001 - never created
            pass
        await nc.close()
        await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
