"""Benchmark: sustained load on the public API (gateway) of a whole running system.

Starts the four services as separate uvicorn processes (the e2e harness: fresh databases on
the local PostgreSQL, a private JetStream stream), loads a little demo data through the
gateway, then runs a fixed-duration, fixed-concurrency httpx-async load on loopback that
mixes reads and writes:

- GET /sites (public listing and near-a-point), GET /proposals, GET /complexes, GET /dashboard/summary
- POST /sites (municipality tokens) and POST /complexes (investor tokens), each with a fresh Idempotency-Key

Baseline in the same run: the same reads sent straight to the owning service (with the internal
identity the gateway would mint), for the same duration and concurrency, so the ratios show
what the gateway hop (token check, rate limiter, forwarding, dashboard fan-out) costs.
The per-caller rate limit is lifted for the run (it would otherwise turn the load into 429s).

Run: .venv/bin/python bench/gateway_load.py [--duration 20] [--concurrency 16] [--scale 0.05]
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from herplaatsing.demo.loader import load_demo  # noqa: E402
from shared.domain import Role  # noqa: E402
from shared.reference import municipalities, point_near_centroid  # noqa: E402
from shared.web.identity import Principal, internal_headers, mint_user_token  # noqa: E402
from tests.e2e.harness import SystemUnderTest  # noqa: E402

INVESTORS = ["wc-woonstede", "wc-portaal", "wc-ymere", "bl-vesteda"]
GEMEENTEN = ["GM0200", "GM0772", "GM0344", "GM0014", "GM0363", "GM0599"]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def figures(self, seconds: float) -> dict[str, Any]:
        ops = {}
        for name, values in sorted(self.latencies.items()):
            values = sorted(values)
            ops[name] = {
                "count": len(values),
                "p50_ms": round(statistics.median(values) * 1000, 1),
                "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000, 1),
                "errors": self.errors.get(name, 0),
                "statuses": dict(self.statuses[name]),
            }
        total = sum(len(v) for v in self.latencies.values())
        return {"requests": total, "requests_per_s": round(total / seconds, 1), "errors": sum(self.errors.values()), "ops": ops}


def _site_body(rng: random.Random) -> tuple[str, dict[str, Any]]:
    code = rng.choice(GEMEENTEN)
    lat, lon = point_near_centroid(rng, code, 1.5)
    return code, {
        "gemeente_code": code,
        "name": f"Bench kavel {uuid.uuid4().hex[:8]}",
        "location": {"lat": lat, "lon": lon},
        "capacity_units": rng.randint(10, 120),
        "available_from": "2028-01-01",
        "available_until": "2040-01-01",
        "expected_instrument": "ow_bopa",
        "min_term_years": 10,
        "max_layers": 2,
        "readiness": {"bouwrijp": True, "water": True, "electricity": True},
    }


def _complex_body(rng: random.Random, org: str) -> dict[str, Any]:
    return {
        "investor_org": org,
        "name": f"Bench complex {uuid.uuid4().hex[:8]}",
        "unit_count": rng.randint(20, 60),
        "typology": "gestapeld",
        "layers": 2,
        "floor_area_m2": 38,
        "bedrooms": 1,
        "modules_per_unit": 1.0,
        "bbl_level": "tijdelijk",
        "build_year": 2024,
        "rent_eur_month": 650,
    }


class Load:
    def __init__(self, system: SystemUnderTest) -> None:
        self.system = system
        self.gateway = system.gateway
        s = system.settings
        self.tokens = {
            ("marktmeester", None): mint_user_token(s, "bench-mm", Role.marktmeester, None),
            **{("investor", o): mint_user_token(s, f"bench-{o}", Role.investor, o) for o in INVESTORS},
            **{("municipality", g): mint_user_token(s, f"bench-{g}", Role.municipality, g) for g in GEMEENTEN},
        }
        self.direct = {svc: f"http://127.0.0.1:{system.ports[svc]}/api/v1" for svc in ("inventory", "sites", "matching")}

    def auth(self, role: str, org: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(role, org)]}"}

    def gateway_op(self, rng: random.Random) -> tuple[str, str, str, dict[str, Any]]:
        """(name, method, url, request kwargs) of one request through the gateway."""
        r = rng.random()
        if r < 0.18:
            return "GET /sites", "GET", f"{self.gateway}/sites", {"params": {"limit": 50}}
        if r < 0.30:
            m = municipalities()[rng.choice(GEMEENTEN)]
            params = {"nearLat": m.lat, "nearLon": m.lon, "withinKm": 40, "sort": "distance", "limit": 20}
            return "GET /sites near", "GET", f"{self.gateway}/sites", {"params": params}
        if r < 0.45:
            who = ("marktmeester", None) if rng.random() < 0.5 else ("municipality", rng.choice(GEMEENTEN))
            return "GET /proposals", "GET", f"{self.gateway}/proposals", {"params": {"limit": 20}, "headers": self.auth(*who)}
        if r < 0.62:
            who = ("marktmeester", None) if rng.random() < 0.5 else ("investor", rng.choice(INVESTORS))
            return "GET /complexes", "GET", f"{self.gateway}/complexes", {"params": {"limit": 20}, "headers": self.auth(*who)}
        if r < 0.72:
            return "GET /dashboard/summary", "GET", f"{self.gateway}/dashboard/summary", {"headers": self.auth("marktmeester", None)}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        if r < 0.86:
            code, body = _site_body(rng)
            return "POST /sites", "POST", f"{self.gateway}/sites", {"json": body, "headers": {**self.auth("municipality", code), **key}}
        org = rng.choice(INVESTORS)
        return "POST /complexes", "POST", f"{self.gateway}/complexes", {"json": _complex_body(rng, org), "headers": {**self.auth("investor", org), **key}}

    def direct_op(self, rng: random.Random) -> tuple[str, str, str, dict[str, Any]]:
        """The same reads, straight to the owning service with the identity the gateway would mint."""
        mm = internal_headers(self.system.settings, Principal("bench-mm", Role.marktmeester, None))
        r = rng.random()
        if r < 0.35:
            return "GET /sites", "GET", f"{self.direct['sites']}/sites", {"params": {"limit": 50}, "headers": mm}
        if r < 0.6:
            return "GET /proposals", "GET", f"{self.direct['matching']}/proposals", {"params": {"limit": 20}, "headers": mm}
        return "GET /complexes", "GET", f"{self.direct['inventory']}/complexes", {"params": {"limit": 20}, "headers": mm}

    async def run(self, pick, duration: float, concurrency: int, seed: int) -> tuple[Stats, float]:  # noqa: ANN001
        stats = Stats()
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            deadline = time.perf_counter() + duration

            async def worker(n: int) -> None:
                rng = random.Random(seed * 1000 + n)
                while time.perf_counter() < deadline:
                    name, method, url, kwargs = pick(rng)
                    t0 = time.perf_counter()
                    try:
                        response = await client.request(method, url, **kwargs)
                        status = response.status_code
                    except httpx.HTTPError:
                        status = 0
                    stats.latencies[name].append(time.perf_counter() - t0)
                    stats.statuses[name][status] += 1
                    if status == 0 or status >= 400:
                        stats.errors[name] += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(n) for n in range(concurrency)))
            return stats, time.perf_counter() - t0


def _print(title: str, figures: dict[str, Any]) -> None:
    print(f"{title}: {figures['requests']} requests, {figures['requests_per_s']} req/s sustained, {figures['errors']} errors")
    for name, op in figures["ops"].items():
        print(f"  {name:<24} n={op['count']:<6} p50 {op['p50_ms']:>7} ms  p99 {op['p99_ms']:>7} ms  errors {op['errors']}  {op['statuses']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of the gateway run")
    parser.add_argument("--baseline-duration", type=float, default=10.0, help="seconds of the direct-to-service run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.05, help="demo data loaded first")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    system = SystemUnderTest(Path(tempfile.mkdtemp(prefix="gateway-load-")))
    system.extra_env.update({"RATE_LIMIT_PER_S": "1000000", "RATE_LIMIT_BURST": "1000000", "LOG_LEVEL": "WARNING"})
    try:
        t0 = time.perf_counter()
        system.create_databases()
        system.start()
        print(f"system up in {time.perf_counter() - t0:.1f} s (4 services, 2 CPUs: {__import__('os').cpu_count()})")
        report = load_demo(
            system.gateway, scale=args.scale, settings=system.settings, progress=False,
        )
        print(f"demo data: {report.scenario}; loaded in {report.seconds:.1f} s")
        time.sleep(3)  # let matching fold the events and propose

        load = Load(system)
        baseline, base_s = asyncio.run(load.run(load.direct_op, args.baseline_duration, args.concurrency, args.seed))
        base = baseline.figures(base_s)
        _print(f"baseline, reads straight to the services ({args.concurrency} concurrent, {base_s:.1f} s)", base)

        gateway, gw_s = asyncio.run(load.run(load.gateway_op, args.duration, args.concurrency, args.seed + 1))
        gw = gateway.figures(gw_s)
        _print(f"gateway, mixed reads and writes ({args.concurrency} concurrent, {gw_s:.1f} s)", gw)

        ratios = {
            f"{name} p50 gateway/direct": round(gw["ops"][name]["p50_ms"] / base["ops"][name]["p50_ms"], 2)
            for name in base["ops"]
            if name in gw["ops"] and base["ops"][name]["p50_ms"] > 0
        }
        for name, ratio in ratios.items():
            print(f"  {name}: {ratio}x")
        figures = {
            "duration_s": round(gw_s, 1),
            "concurrency": args.concurrency,
            "gateway": gw,
            "baseline_direct": base,
            "ratios": ratios,
            "demo": {"scale": args.scale, "load_s": round(report.seconds, 1), "created": report.created},
        }
    finally:
        system.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
