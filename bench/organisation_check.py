"""Benchmark: what the organisation check adds to a call through the gateway.

The gateway in process, an echo service on loopback standing in for every service (and for the
inventory's registry of organisations). The same GET is sent as the marktmeester (no lookup: the
baseline), as an investor whose organisation is cached (the common case), and as investors whose
answers are never cached (ORGANISATION_CACHE_S=0: one registry call per request, the worst case).
Prints per-call medians and the ratios to the baseline of the same run.

    .venv/bin/python bench/organisation_check.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.gateway.tests.support import EchoUpstream, bearer, gateway, gateway_settings, serve  # noqa: E402
from shared.domain import Role  # noqa: E402

PATH = "/api/v1/complexes"


async def timed(client, headers: dict[str, str], calls: int) -> list[float]:  # noqa: ANN001
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        r = await client.get(PATH, headers=headers)
        samples.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
    return samples


async def run(calls: int) -> dict:
    base = gateway_settings(rate_limit_per_s=1e6, rate_limit_burst=1_000_000)
    upstream = EchoUpstream(base)
    figures: dict[str, float] = {}
    async with serve(upstream.app) as url:
        for cache_s, label in ((30.0, "cached"), (0.0, "uncached")):
            settings = base.model_copy(update={"inventory_url": url, "sites_url": url, "matching_url": url, "organisation_cache_s": cache_s})
            async with gateway(settings) as client:
                mm, inv = bearer(settings, Role.marktmeester), bearer(settings, Role.investor, "wc-woonbron")
                await timed(client, mm, 50)
                await timed(client, inv, 50)  # warm: keys, connections, the first lookup
                if label == "cached":
                    figures["marktmeester_p50_ms"] = statistics.median(await timed(client, mm, calls)) * 1000
                figures[f"investor_{label}_p50_ms"] = statistics.median(await timed(client, inv, calls)) * 1000
    figures = {k: round(v, 3) for k, v in figures.items()}
    figures["ratio_cached"] = round(figures["investor_cached_p50_ms"] / figures["marktmeester_p50_ms"], 2)
    figures["ratio_uncached"] = round(figures["investor_uncached_p50_ms"] / figures["marktmeester_p50_ms"], 2)
    figures["registry_lookups"] = sum(upstream.lookups.values())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.calls))))


if __name__ == "__main__":
    main()
