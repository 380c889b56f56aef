"""Benchmark: matching stays responsive under bursts (issue #18).

Starts sites and matching as separate uvicorn processes (the e2e harness: fresh databases on the local
PostgreSQL, a private JetStream stream). Demand arrives as `inventory.placement.expiring` events published
to the stream as inventory's relay would (seeded complexes at real gemeenten); supply is POSTed to the sites
service, which emits `sites.site.published` through its outbox. Phases:

0. setup: N waiting placements (no supply yet: all waiting, reported as shortfall);
1. idle: GET /proposals (straight to matching, marktmeester identity) for a few seconds: the idle p50 (of an
   empty page; after (a) it is measured again with a full page, the fair baseline for the ratios);
2. (a) a burst of P plots POSTed (8 concurrent): time from the last POST until the last proposal it caused,
   consumer lag over time, GET /proposals p50 during the burst, matching's CPU;
3. (b) a burst of E more expiring placements published at once: event -> proposal p50/p95 (proposal
   created_at minus the moment the event was published), split into event -> fold (the consumer's queue)
   and fold -> proposal (the matcher's part), lag, API p50, CPU;
then redeliveries of matching's consumers, and from matching's log the coalesced re-solves: how many, and
where each one's time goes (load inputs / plan = solve + explain, off the event loop / write).

Run: .venv/bin/python bench/matching_burst.py [--placements 2000] [--plots 500] [--expiring 1000]
       [--executor thread|process] [--nice 10] [--seed 7]
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ENVIRONMENT", "development")  # the harness's settings; the services run as "test"

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import orjson  # noqa: E402

from shared.bus.consumer import durable_name  # noqa: E402
from shared.bus.nats import connect  # noqa: E402
from shared.bus.outbox import build_event  # noqa: E402
from shared.config import ServiceSettings  # noqa: E402
from shared.domain import Role  # noqa: E402
from shared.events import models as ev  # noqa: E402
from shared.reference import municipalities, point_near_centroid  # noqa: E402
from shared.web.identity import Principal, internal_headers  # noqa: E402
from tests.e2e.harness import SystemUnderTest  # noqa: E402

TODAY = dt.date(2026, 11, 30)
CONSUMERS = [durable_name("matching", f) for f in ("inventory.>", "sites.>")]


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def expiring_event(rng: random.Random, codes: list[str]) -> ev.PlacementExpiring:
    code = rng.choice(codes)
    lat, lon = point_near_centroid(rng, code, 2.0)
    units = rng.randint(5, 50)
    spec = ev.ComplexSpec(complex_id=uuid.uuid4(), investor_org=f"investor-{rng.randint(1, 20)}", name="Bench complex",
                          unit_count=units, typology="gestapeld", layers=2, floor_area_m2=38, bedrooms=1,
                          modules_per_unit=1.0, bbl_level="nieuwbouw", min_group_size=1)
    end = dt.date(2027, 9, 1) + dt.timedelta(days=rng.randint(0, 240))
    return ev.PlacementExpiring(placement_id=uuid.uuid4(), complex=spec, unit_ids=[uuid.uuid4() for _ in range(units)],
                                gemeente_code=code, lat=lat, lon=lon, instrument="wabo_bor4_11",
                                start_date=end - dt.timedelta(days=3650), end_date=end, detected_on=TODAY)


def site_body(rng: random.Random, codes: list[str]) -> tuple[str, dict[str, Any]]:
    code = rng.choice(codes)
    lat, lon = point_near_centroid(rng, code, 2.0)
    return code, {
        "gemeente_code": code, "name": f"Bench kavel {uuid.uuid4().hex[:8]}", "location": {"lat": lat, "lon": lon},
        "capacity_units": rng.randint(30, 200), "available_from": "2027-09-01", "available_until": "2040-01-01",
        "expected_instrument": "ow_bopa", "min_term_years": 10, "max_layers": 2, "allows_tijdelijk_bbl": True,
        "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True},
    }


class Bench:
    def __init__(self, system: SystemUnderTest, args: argparse.Namespace) -> None:
        self.system, self.args = system, args
        self.rng = random.Random(args.seed)
        self.codes = sorted(municipalities())
        self.bus = ServiceSettings(environment="test", nats_url=system.nats_url, stream_name=system.stream, subject_prefix=system.prefix)
        self.matching = f"http://127.0.0.1:{system.ports['matching']}/api/v1"
        self.sites = f"http://127.0.0.1:{system.ports['sites']}/api/v1"
        self.pid = system.procs["matching"].proc.pid  # type: ignore[union-attr]

    async def setup(self) -> None:
        self.nc = await connect(self.bus, name="bench-publisher")
        self.js = self.nc.jetstream()
        self.db = await asyncpg.connect(self.system.db_urls["matching"])
        self.rematch = await self.db.fetchval("SELECT to_regclass('rematch_requests') IS NOT NULL")
        self.http = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16))

    async def close(self) -> None:
        await self.http.aclose()
        await self.db.close()
        await self.nc.close()

    async def publish(self, data: ev.PlacementExpiring) -> float:
        event = build_event("inventory", "inventory.placement.expiring", data.placement_id, data)
        await self.js.publish(self.bus.subject(event.type), orjson.dumps(event.model_dump(mode="json")),
                              headers={"Nats-Msg-Id": str(event.id)})
        return time.time()

    async def lag(self) -> tuple[int, int]:
        """(events not yet handled by matching's consumers, redeliveries so far)."""
        pending = redelivered = 0
        for name in CONSUMERS:
            try:
                info = await self.js.consumer_info(self.bus.stream_name, name)
            except Exception:  # noqa: BLE001 - not created yet
                continue
            pending += (info.num_pending or 0) + (info.num_ack_pending or 0)
            redelivered += info.num_redelivered or 0
        return pending, redelivered

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def settled(self, timeout: float = 600) -> float:
        """Wait until matching has handled every event and served every rematch request; returns when (wall)."""
        deadline = time.time() + timeout
        quiet_since = None
        while time.time() < deadline:
            pending, _ = await self.lag()
            # (none to wait for in a matching that solves inside its consumer, as before issue #18)
            requests = await self.db.fetchval("SELECT count(*) FROM rematch_requests") if self.rematch else 0
            outbox = await self.sites_outbox()
            if pending == 0 and requests == 0 and outbox == 0:
                quiet_since = quiet_since or time.time()
                if time.time() - quiet_since > 1.5:
                    return quiet_since
            else:
                quiet_since = None
            await asyncio.sleep(0.1)
        raise TimeoutError("matching did not settle")

    async def sites_outbox(self) -> int:
        if not hasattr(self, "sites_db"):
            self.sites_db = await asyncpg.connect(self.system.db_urls["sites"])
        return await self.sites_db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")

    async def probe_api(self, stop: asyncio.Event, out: list[float]) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            mm = internal_headers(self.system.settings, Principal("bench-mm", Role.marktmeester, None))  # short-lived
            r = await self.http.get(f"{self.matching}/proposals", params={"limit": 20}, headers=mm)
            r.raise_for_status()
            out.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.05)

    async def sample_lag(self, stop: asyncio.Event, out: list[tuple[float, int]], t0: float) -> None:
        while not stop.is_set():
            out.append((round(time.time() - t0, 1), (await self.lag())[0]))
            await asyncio.sleep(0.5)

    async def observed(self, work) -> dict[str, Any]:  # noqa: ANN001
        """Run `work()` with the API prober and the lag sampler; wait until matching settled."""
        stop, api, lag = asyncio.Event(), [], []
        t0, cpu0 = time.time(), self.cpu_s()
        tasks = [asyncio.create_task(self.probe_api(stop, api)), asyncio.create_task(self.sample_lag(stop, lag, t0))]
        result = await work()
        done = await self.settled()
        stop.set()
        await asyncio.gather(*tasks)
        wall = time.time() - t0
        return {"result": result, "settled_at": done, "api_ms": api, "lag": lag, "wall_s": wall,
                "cpu_pct_of_one_core": round(100 * (self.cpu_s() - cpu0) / wall, 1)}

    async def idle_api(self, seconds: float) -> list[float]:
        stop, api = asyncio.Event(), []
        task = asyncio.create_task(self.probe_api(stop, api))
        await asyncio.sleep(seconds)
        stop.set()
        await task
        return api

    async def post_sites(self, n: int) -> float:
        bodies = [site_body(self.rng, self.codes) for _ in range(n)]
        queue = list(bodies)
        last = 0.0

        async def worker() -> None:
            nonlocal last
            while queue:
                code, body = queue.pop()
                headers = internal_headers(self.system.settings, Principal(f"bench-{code}", Role.municipality, code))
                r = await self.http.post(f"{self.sites}/sites", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
                assert r.status_code == 201, r.text
                last = max(last, time.time())

        await asyncio.gather(*(worker() for _ in range(8)))
        return last

    async def publish_expiring(self, n: int) -> dict[uuid.UUID, float]:
        sent = {}
        for _ in range(n):
            data = expiring_event(self.rng, self.codes)
            sent[data.placement_id] = await self.publish(data)
        return sent

    async def watch_folds(self, ids: list[uuid.UUID], stop: asyncio.Event, seen: dict[uuid.UUID, float]) -> None:
        """When each placement was folded into matching's read model (first seen, polled every 0.1 s)."""
        db = await asyncpg.connect(self.system.db_urls["matching"])  # its own: the others poll meanwhile
        try:
            while rest := [i for i in ids if i not in seen]:
                for r in await db.fetch("SELECT placement_id FROM placements WHERE placement_id = ANY($1::uuid[])", rest):
                    seen[r["placement_id"]] = time.time()
                if stop.is_set():
                    return
                await asyncio.sleep(0.1)
        finally:
            await db.close()

    async def proposals_since(self, since: float) -> list[asyncpg.Record]:
        return await self.db.fetch(
            "SELECT placement_id, extract(epoch FROM created_at) AS at FROM proposals WHERE created_at >= to_timestamp($1)", since)


def lag_summary(lag: list[tuple[float, int]]) -> dict[str, Any]:
    peak = max((n for _, n in lag), default=0)
    # every 2nd sample (1 s apart): the curve, short enough to print
    return {"peak": peak, "series_t_s_pending": [list(x) for x in lag[::2]]}


def api_summary(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 1) if samples else 0,
            "p95_ms": round(pct(samples, 0.95), 1), "max_ms": round(max(samples, default=0), 1)}


def solves_from_log(text: str, since: float, until: float) -> dict[str, Any]:
    rows = []
    for line in text.splitlines():
        if '"rematch served"' not in line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        at = dt.datetime.fromisoformat(rec.get("time") or rec.get("timestamp") or rec.get("ts")).timestamp() if any(
            k in rec for k in ("time", "timestamp", "ts")) else None
        if at is not None and not (since <= at <= until + 1):
            continue
        rows.append(rec)
    if not rows:
        return {"solves": 0}
    keys = ("load_s", "plan_s", "write_s", "demands", "plots", "proposals", "requests", "stale", "oldest_request_s")
    return {"solves": len(rows), **{f"{k}_sum": round(sum(float(r.get(k, 0)) for r in rows), 3) for k in keys},
            "solver_wall_s_sum": round(sum(float((r.get("solver") or {}).get("wall_s") or 0) for r in rows), 3),
            "solver_status": sorted({f'{(r.get("solver") or {}).get("method")}/{(r.get("solver") or {}).get("mip_status")}' for r in rows}),
            "max_demands": max(int(r.get("demands", 0)) for r in rows),
            "max_plan_s": max(float(r.get("plan_s", 0)) for r in rows),
            # per solve: demands, proposals, plan s, write s, solver wall s, solver budget s, method
            "per_solve": [[r.get("demands"), r.get("proposals"), r.get("plan_s"), r.get("write_s"),
                           (r.get("solver") or {}).get("wall_s"), (r.get("solver") or {}).get("time_limit_s"),
                           (r.get("solver") or {}).get("method")] for r in rows]}


async def run(system: SystemUnderTest, args: argparse.Namespace) -> dict[str, Any]:
    b = Bench(system, args)
    await b.setup()
    try:
        t = time.time()
        await b.publish_expiring(args.placements)
        await b.settled()
        waiting = await b.db.fetchval("SELECT count(*) FROM placements WHERE demand_status = 'waiting'")
        homes = await b.db.fetchval("SELECT sum(unit_count) FROM placements WHERE demand_status = 'waiting'")
        print(f"setup: {waiting} waiting placements ({homes} homes) in {time.time() - t:.1f} s")

        idle = await b.idle_api(args.idle_s)
        print(f"idle: GET /proposals {api_summary(idle)}")

        # (a) burst of plots
        t_a = time.time()
        a = await b.observed(lambda: b.post_sites(args.plots))
        last_post = a["result"]
        made_a = await b.proposals_since(t_a)
        last_proposal = max((r["at"] for r in made_a), default=last_post)
        plots_a = {
            "plots_posted": args.plots, "posting_s": round(last_post - t_a, 1), "proposals_made": len(made_a),
            "last_post_to_last_proposal_s": round(float(last_proposal) - last_post, 2),
            "last_post_to_settled_s": round(a["settled_at"] - last_post, 2),
            "api_during": api_summary(a["api_ms"]), "lag": lag_summary(a["lag"]), "cpu_pct_of_one_core": a["cpu_pct_of_one_core"],
            "rematch": solves_from_log(system.logs("matching"), t_a, a["settled_at"]),
        }
        print(f"(a) plots: {json.dumps({k: v for k, v in plots_a.items() if k != 'lag'})}")
        print(f"    lag (t s, events pending): {plots_a['lag']['series_t_s_pending']}")

        # idle again, now that GET /proposals returns a full page (20 proposals with their explanations, as
        # during the bursts, not the empty page of the first idle phase): the fair baseline for the ratios
        idle_full = await b.idle_api(args.idle_s)
        print(f"idle (full page): GET /proposals {api_summary(idle_full)}")

        # (b) burst of expiring placements
        t_b = time.time()
        sent: dict[uuid.UUID, float] = {}

        # the placements are made up front, so their folds can be watched while they are published
        events_b = [expiring_event(b.rng, b.codes) for _ in range(args.expiring)]
        folded: dict[uuid.UUID, float] = {}
        stop_watch = asyncio.Event()
        watcher = asyncio.create_task(b.watch_folds([e.placement_id for e in events_b], stop_watch, folded))

        async def burst() -> None:
            for data in events_b:
                sent[data.placement_id] = await b.publish(data)

        bb = await b.observed(burst)
        stop_watch.set()
        await watcher
        made_b = {r["placement_id"]: float(r["at"]) for r in await b.proposals_since(t_b)}
        latencies = [made_b[p] - at for p, at in sent.items() if p in made_b]
        # the matcher's part alone: from the fold (the request committed) to the proposal
        after_fold = [made_b[p] - folded[p] for p in sent if p in made_b and p in folded]
        queued = [folded[p] - at for p, at in sent.items() if p in folded]
        placements_b = {
            "published": args.expiring, "publishing_s": round(max(sent.values()) - t_b, 2), "proposals_made": len(latencies),
            "event_to_proposal_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "event_to_proposal_p95_s": round(pct(latencies, 0.95), 2), "event_to_proposal_max_s": round(max(latencies, default=0), 2),
            "event_to_fold_p50_s": round(pct(queued, 0.5), 2), "event_to_fold_p95_s": round(pct(queued, 0.95), 2),
            "fold_to_proposal_p50_s": round(pct(after_fold, 0.5), 2), "fold_to_proposal_p95_s": round(pct(after_fold, 0.95), 2),
            "api_during": api_summary(bb["api_ms"]), "lag": lag_summary(bb["lag"]), "cpu_pct_of_one_core": bb["cpu_pct_of_one_core"],
            "rematch": solves_from_log(system.logs("matching"), t_b, bb["settled_at"]),
        }
        print(f"(b) placements: {json.dumps({k: v for k, v in placements_b.items() if k != 'lag'})}")
        print(f"    lag (t s, events pending): {placements_b['lag']['series_t_s_pending']}")

        _, redelivered = await b.lag()
        dead = await b.db.fetchval("SELECT count(*) FROM dead_letters")
        idle_p50 = api_summary(idle)["p50_ms"]
        full_p50 = api_summary(idle_full)["p50_ms"]
        figures = {
            "scale": {"placements": args.placements, "plots": args.plots, "expiring": args.expiring, "waiting_homes": homes},
            "executor": args.executor, "nice": args.nice, "proposal_time_limit_s": args.proposal_time_limit_s, "load_avg": os.getloadavg(), "cpus": os.cpu_count(),
            "api_idle": api_summary(idle), "plots_burst": plots_a, "placements_burst": placements_b,
            "api_p50_ratio_plots_burst": round(plots_a["api_during"]["p50_ms"] / idle_p50, 2) if idle_p50 else None,
            "api_p50_ratio_placements_burst": round(placements_b["api_during"]["p50_ms"] / idle_p50, 2) if idle_p50 else None,
            "api_idle_full_page": api_summary(idle_full),
            "api_p50_ratio_plots_burst_vs_full_page": round(plots_a["api_during"]["p50_ms"] / full_p50, 2) if full_p50 else None,
            "api_p50_ratio_placements_burst_vs_full_page": round(placements_b["api_during"]["p50_ms"] / full_p50, 2) if full_p50 else None,
            "redeliveries": redelivered, "dead_letters": dead,
        }
        print(f"API p50 ratio (burst/idle): plots {figures['api_p50_ratio_plots_burst']}x, "
              f"placements {figures['api_p50_ratio_placements_burst']}x; against a full page's idle p50: plots "
              f"{figures['api_p50_ratio_plots_burst_vs_full_page']}x, placements "
              f"{figures['api_p50_ratio_placements_burst_vs_full_page']}x; redeliveries {redelivered}, dead letters {dead}")
        return figures
    finally:
        await b.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--placements", type=int, default=2000, help="waiting placements before the bursts")
    parser.add_argument("--plots", type=int, default=500, help="plots POSTed in burst (a)")
    parser.add_argument("--expiring", type=int, default=1000, help="expiring placements in burst (b)")
    parser.add_argument("--executor", choices=("thread", "process"), default="thread", help="where matching solves")
    parser.add_argument("--nice", type=int, default=None, help="the worker process's lower CPU priority (MATCHER_NICE)")
    parser.add_argument("--proposal-time-limit-s", type=float, default=None, help="matching's solver budget per re-solve")
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    system = SystemUnderTest(Path(tempfile.mkdtemp(prefix="matching-burst-")))
    # the default ack deadline (30 s), as in production: a redelivery here means slow handling
    system.extra_env.update({"LOG_LEVEL": "INFO", "MATCHER_EXECUTOR": args.executor, "CONSUMER_ACK_WAIT_S": "30"})
    if args.nice is not None:
        system.extra_env["MATCHER_NICE"] = str(args.nice)
    if args.proposal_time_limit_s is not None:
        system.extra_env["PROPOSAL_TIME_LIMIT_S"] = str(args.proposal_time_limit_s)
    try:
        t0 = time.perf_counter()
        system.create_databases()
        system.start("sites", "matching")
        print(f"sites + matching up in {time.perf_counter() - t0:.1f} s (load average {os.getloadavg()[0]:.1f}, "
              f"{os.cpu_count()} CPUs shared)")
        figures = asyncio.run(run(system, args))
    finally:
        system.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
