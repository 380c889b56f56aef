"""Benchmark: the home ledger of the matching service — folding lifecycle events, and reading it.

In a scratch database (real PostgreSQL, no NATS): folds --placements placements of 48 homes through
the ledger's fold functions (created, expiring, a partial proposal, the term ended), then times
through the service's HTTP API (in-process ASGI client):

- GET /api/v1/ledger as the marktmeester (all homes), an investor, a municipality;
- GET /api/v1/ledger/placements?state=in_storage (the drill-down, first page).

Baseline in the same run: the marktmeester's counts answered by loading every home and counting in
Python, as a naive implementation would. Figures: fold rate (events/s, homes/s), p50/p99 per query,
the ratio baseline / API.

Run: .venv/bin/python bench/matching_ledger.py [--placements 1000] [--queries 50]
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from herplaatsing.migrations import upgrade  # noqa: E402
from herplaatsing.testing import headers_for  # noqa: E402
from services.matching.app.config import MatchingSettings  # noqa: E402
from services.matching.app.ledger import fold  # noqa: E402
from services.matching.app.ledger.models import LedgerHome  # noqa: E402
from services.matching.app.main import create_app  # noqa: E402
from shared.db import drop_database, ensure_database, with_database  # noqa: E402
from shared.domain import Role  # noqa: E402
from shared.events import models as ev  # noqa: E402
from shared.reference import municipalities  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
HOMES = 48
ORGS = [f"investor-{i}" for i in range(20)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(ms, 0.5), 3), "p99_ms": round(pct(ms, 0.99), 3), "mean_ms": round(statistics.fmean(ms), 3)}


async def fold_placements(db, n: int, rng: random.Random) -> tuple[int, float, str]:
    """Fold n placements through their lifecycle; returns (events, seconds, a gemeente with homes)."""
    gemeenten = list(municipalities().values())
    events, t0, some_gemeente = 0, time.perf_counter(), gemeenten[0].code
    for i in range(n):
        gm = rng.choice(gemeenten)
        some_gemeente = gm.code if i == 0 else some_gemeente
        org = rng.choice(ORGS)
        placement, complex_id, units = uuid.uuid4(), uuid.uuid4(), [uuid.uuid4() for _ in range(HOMES)]
        end = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(0, 900))
        async with db.transaction() as session:
            await fold.placement_created(session, ev.PlacementCreated(
                placement_id=placement, complex_id=complex_id, investor_org=org, unit_ids=units, gemeente_code=gm.code,
                province_code=gm.province_code, lat=gm.lat, lon=gm.lon, instrument="wabo_bor4_11",
                start_date=end - dt.timedelta(days=3650), end_date=end))
            events += 1
            if rng.random() < 0.7:
                spec = ev.ComplexSpec(complex_id=complex_id, investor_org=org, name="c", unit_count=HOMES, typology="gestapeld",
                                      layers=2, floor_area_m2=38, bedrooms=1, modules_per_unit=1.0, bbl_level="nieuwbouw")
                await fold.placement_expiring(session, ev.PlacementExpiring(
                    placement_id=placement, complex=spec, unit_ids=units, gemeente_code=gm.code, province_code=gm.province_code,
                    lat=gm.lat, lon=gm.lon, instrument="wabo_bor4_11", start_date=end - dt.timedelta(days=3650), end_date=end,
                    detected_on=dt.date(2026, 11, 23)))
                events += 1
                if rng.random() < 0.5:
                    await fold.proposal_created(session, uuid.uuid4(), placement, rng.randint(1, HOMES), dt.date(2026, 11, 23))
                    events += 1
                if rng.random() < 0.3:
                    await fold.placement_ended(session, ev.PlacementEnded(
                        placement_id=placement, complex_id=complex_id, investor_org=org, end_date=end, relocated=False,
                        unit_count=HOMES, unit_ids=units))
                    events += 1
    return events, time.perf_counter() - t0, some_gemeente


async def time_get(client, headers, path: str, n: int) -> tuple[list[float], dict]:
    ms, body = [], {}
    for _ in range(n):
        t0 = time.perf_counter()
        r = await client.get(path, headers=headers)
        ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
        body = r.json()
    return ms, body


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--placements", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(20261130)
    db_name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    url = with_database(SERVER, db_name)
    await ensure_database(SERVER, db_name)
    try:
        await asyncio.to_thread(upgrade, "matching", url)
        settings = MatchingSettings(database_url=url, log_json=False, log_level="WARNING", environment="test")
        app = create_app(settings)  # no lifespan: the ledger needs only the database
        db = app.state.runtime.db
        events, fold_s, gemeente = await fold_placements(db, args.placements, rng)
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE home_ledger"))
            await conn.commit()
        homes = args.placements * HOMES
        print(f"folded {events} events ({homes} homes) in {fold_s:.2f} s")
        figures: dict = {"placements": args.placements, "homes": homes, "events": events, "fold_s": round(fold_s, 3),
                         "fold_events_per_s": round(events / fold_s, 1)}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://matching") as client:
            mm = headers_for(settings, Role.marktmeester)
            await time_get(client, mm, "/api/v1/ledger", 5)  # warm up
            for name, headers, path in (
                ("ledger_marktmeester", mm, "/api/v1/ledger"),
                ("ledger_investor", headers_for(settings, Role.investor, ORGS[0]), "/api/v1/ledger"),
                ("ledger_municipality", headers_for(settings, Role.municipality, gemeente), "/api/v1/ledger"),
                ("placements_in_storage", mm, "/api/v1/ledger/placements?state=in_storage&limit=50"),
            ):
                ms, body = await time_get(client, headers, path, args.queries)
                figures[name] = summary(ms)
                if name == "ledger_marktmeester":
                    api_body = body
            # baseline: every home loaded and counted in Python
            base_ms = []
            for _ in range(args.queries):
                t0 = time.perf_counter()
                async with db.sessions() as session:
                    rows = (await session.execute(sa.select(LedgerHome.__table__))).all()
                counts = Counter(r.state for r in rows)
                base_ms.append((time.perf_counter() - t0) * 1000)
            assert dict(counts) == {k: v for k, v in api_body["by_state"].items() if v}, "baseline disagrees with the API"
            assert api_body["registered"] == api_body["accounted"] == homes
            figures["baseline_python_count"] = summary(base_ms)
            figures["ratio_baseline_over_api_p50"] = round(pct(base_ms, 0.5) / figures["ledger_marktmeester"]["p50_ms"], 1)
        await db.dispose()
    finally:
        await drop_database(SERVER, db_name)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
