"""Benchmark: how much a re-solve stalls matching's event loop, planned in a worker thread vs a worker process.

The background matcher plans (solve + explain) off the event loop (`MATCHER_EXECUTOR=thread|process`,
services/matching/app/rematch/matcher.py). A thread still shares the GIL with the loop wherever the
optimiser runs Python or holds the GIL in native code; a process does not, but costs a core. This plans
one seeded instance of the burst's size (bench/matching_solver.py's generator, no database) while a probe
measures how late a 5 ms sleep on the event loop wakes up; idle first, on the loop (as before issue #18),
then thread and process twice each.

Run: .venv/bin/python bench/matching_offloop.py [--complexes 2000] [--homes 55000] [--plots 500]
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("ENVIRONMENT", "development")

import matching_solver  # noqa: E402

from services.matching.app.config import MatchingSettings  # noqa: E402
from services.matching.app.proposals.service import plan_offers  # noqa: E402


async def _probe(stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.005)
        out.append((time.perf_counter() - t - 0.005) * 1000)


async def _one(mode: str, args: tuple, pool: ProcessPoolExecutor, idle_s: float) -> dict:
    stop, late = asyncio.Event(), []
    probe = asyncio.create_task(_probe(stop, late))
    t = time.perf_counter()
    if mode == "thread":
        await asyncio.to_thread(plan_offers, *args)
    elif mode == "process":
        await asyncio.get_running_loop().run_in_executor(pool, plan_offers, *args)
    elif mode == "on_loop":  # as before issue #18: the solve ran in the consumer, on the event loop
        await asyncio.sleep(0)
        plan_offers(*args)
        await asyncio.sleep(0.01)
    else:
        await asyncio.sleep(idle_s)
    wall = time.perf_counter() - t
    stop.set()
    await probe
    late.sort()
    return {"mode": mode, "plan_s": round(wall, 2), "loop_delay_p50_ms": round(statistics.median(late), 2),
            "loop_delay_p95_ms": round(late[int(0.95 * (len(late) - 1))], 2), "loop_delay_max_ms": round(late[-1], 1)}


async def _main(a: argparse.Namespace) -> list[dict]:
    demands, plots = matching_solver.generate(a.seed, complexes=a.complexes, homes=a.homes, plots=a.plots)
    s = MatchingSettings(environment="development")
    args = (demands, plots, [[] for _ in demands], s.weights(), s.arc_k, s.proposal_time_limit_s, s.proposal_time_limit_s)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    await asyncio.get_running_loop().run_in_executor(pool, time.sleep, 0)  # the worker is up before measuring
    rows = []
    try:
        for mode in ("idle", "on_loop", "thread", "process", "thread", "process"):
            rows.append(await _one(mode, args, pool, idle_s=3.0))
            print(rows[-1])
    finally:
        pool.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complexes", type=int, default=2000)
    parser.add_argument("--homes", type=int, default=55000)
    parser.add_argument("--plots", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    a = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    rows = asyncio.run(_main(a))
    print(json.dumps({"load_avg": os.getloadavg(), "runs": rows}))


if __name__ == "__main__":
    main()
