"""Benchmark: are oversized headers and bodies harmless? (issue 13's closing figures)

Starts the four services as separate uvicorn processes (the e2e harness), then sends through the
gateway, a few times each:

- header:      POST /complexes with a 1.1 MB X-Correlation-ID (investor token)
- anon_body:   an anonymous 13 MB POST /sites (Content-Length given)
- auth_body:   the same 13 MB with a municipality token
- chunked:     13 MB with a token, streamed without Content-Length
- huge_ring:   a ~0.9 MB plot boundary of 30 000 positions (token; under the body limit)

while a probe calls the gateway's /healthz every 10 ms: its worst and p99 latency per case is the
event-loop stall. Also: each case's answers, the RSS of the gateway and sites processes before and
after, and that a complex registered afterwards still reaches matching's read model (seconds).

Run: .venv/bin/python bench/hostile_inputs.py [--repeat 5]
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ENVIRONMENT", "development")

import httpx  # noqa: E402

from tests.e2e.harness import SystemUnderTest, wait_for  # noqa: E402

MB = 1024 * 1024


def rss_mib(system: SystemUnderTest, svc: str) -> float:
    pid = system.procs[svc].proc.pid  # type: ignore[union-attr]
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def complex_body(name: str) -> dict[str, Any]:
    return {
        "name": name, "supplier": "De Meeuw", "unit_count": 4, "typology": "gestapeld", "layers": 2, "floor_area_m2": 38,
        "bedrooms": 1, "modules_per_unit": 1.0, "bbl_level": "nieuwbouw", "energy_label": "A+++", "build_year": 2017,
        "depreciation_yr": 30, "build_cost_eur_per_unit": 120_000, "doelgroepen": ["starters"], "min_group_size": 1,
    }


def ring_body() -> bytes:
    n = 30_000
    ring = [[5.469 + 0.001 * i / n, 51.441 + (i % 2) * 1e-6] for i in range(n)] + [[5.469, 51.441]]
    plot = {
        "gemeente_code": "GM0772", "name": "Ring", "kind": "municipal", "location": {"lat": 51.4416, "lon": 5.4697},
        "capacity_units": 4, "available_from": "2027-06-01", "expected_instrument": "wabo_bor4_11", "max_layers": 2,
        "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True},
        "boundary": {"type": "Polygon", "coordinates": [ring]},
    }
    return json.dumps(plot).encode()


async def attack(system: SystemUnderTest, repeat: int) -> dict[str, Any]:
    base = system.gateway
    investor, municipality = system.token("investor", "wc-bench"), system.token("municipality", "GM0772")
    big = b"x" * (13 * MB)
    ring = ring_body()  # built before the probe runs: the client's own CPU is not the server's stall

    async def chunks():
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    cases = {
        "header": lambda c: c.post(f"{base}/complexes", json=complex_body("h"), headers={**investor, "X-Correlation-ID": "c" * (1_100_000)}),
        "anon_body": lambda c: c.post(f"{base}/sites", content=big, headers={"content-type": "application/json"}),
        "auth_body": lambda c: c.post(f"{base}/sites", content=big, headers={**municipality, "content-type": "application/json"}),
        "chunked": lambda c: c.post(f"{base}/sites", content=chunks(), headers={**municipality, "content-type": "application/json"}),
        "huge_ring": lambda c: c.post(f"{base}/sites", content=ring, headers={**municipality, "content-type": "application/json"}),
    }
    results: dict[str, Any] = {}
    health = base.removesuffix("/api/v1") + "/healthz"
    async with httpx.AsyncClient(timeout=60) as probe_client, httpx.AsyncClient(timeout=60) as client:
        for name, send in cases.items():
            latencies: list[float] = []
            stop = asyncio.Event()

            async def probe() -> None:
                while not stop.is_set():
                    t = time.perf_counter()
                    await probe_client.get(health)
                    latencies.append((time.perf_counter() - t) * 1000)
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(probe())
            await asyncio.sleep(0.2)
            statuses: Counter[str] = Counter()
            started = time.perf_counter()
            for _ in range(repeat):
                try:
                    statuses[str((await send(client)).status_code)] += 1
                except httpx.HTTPError as exc:  # the server may close an oversized request early
                    statuses[type(exc).__name__] += 1
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.2)
            stop.set()
            await task
            results[name] = {
                "answers": dict(statuses),
                "seconds_per_request": round(elapsed / repeat, 3),
                "healthz_ms_max": round(max(latencies), 1),
                "healthz_ms_p99": round(statistics.quantiles(latencies, n=100)[98], 1) if len(latencies) > 2 else None,
                "healthz_ms_median": round(statistics.median(latencies), 1),
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    system = SystemUnderTest(Path(tempfile.mkdtemp(prefix="hostile-")))
    try:
        system.create_databases()
        system.start()
        before = {svc: rss_mib(system, svc) for svc in ("gateway", "sites", "inventory")}
        results = asyncio.run(attack(system, args.repeat))
        after = {svc: rss_mib(system, svc) for svc in ("gateway", "sites", "inventory")}
        with system.client("investor", "wc-bench") as client:
            t = time.perf_counter()
            made = client.post("/complexes", json=complex_body("after the attack"))
            assert made.status_code == 201, made.text
            cid = made.json()["id"]
            wait_for(lambda: system.sql("matching", f"SELECT 1 FROM complexes WHERE complex_id = '{cid}'"), timeout=30, what="event")  # noqa: S608
            arrived_s = round(time.perf_counter() - t, 2)
        pending = system.sql("inventory", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
        figures = {"cases": results, "rss_mib_before": before, "rss_mib_after": after, "later_event_arrived_s": arrived_s, "inventory_outbox_unpublished": pending}
        for name, r in results.items():
            print(f"{name:10s} {r}")
        print(json.dumps(figures))
    finally:
        system.stop()


if __name__ == "__main__":
    main()
