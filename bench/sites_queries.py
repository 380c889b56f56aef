"""Benchmark: plot queries of the sites service over 10,000 plots.

Inserts 10,000 plots in bulk into a scratch database, then times two queries through
the service's HTTP API (in-process ASGI client, real PostgreSQL):

- free capacity at a date: GET /api/v1/sites?freeAt=...&minFreeUnits=...
- distance: GET /api/v1/sites?nearLat=...&nearLon=...&withinKm=15&sort=distance

Baseline in the same run: the same query answered by a full scan in Python (load every
plot, filter and sort in Python), as a naive implementation would. The query indexes
are then dropped and the API timed again to show what they contribute.

Run: .venv/bin/python bench/sites_queries.py [--plots 10000] [--queries 200]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from herplaatsing.migrations import upgrade  # noqa: E402
from herplaatsing.testing import headers_for  # noqa: E402
from services.sites.app.config import SitesSettings  # noqa: E402
from services.sites.app.main import create_app  # noqa: E402
from shared.geo import wgs84_to_rd  # noqa: E402
from services.sites.app.sites.models import Site  # noqa: E402
from services.sites.app.sites.repository import SiteQuery, _conditions, distance_km_sql  # noqa: E402
from shared.db import drop_database, ensure_database, with_database  # noqa: E402
from shared.domain import PermitInstrument  # noqa: E402
from shared.reference import haversine_km, municipalities  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE = 50
WITHIN_KM = 15.0
INDEXES = {
    "ix_sites_published_window": "CREATE INDEX ix_sites_published_window ON sites (available_from, available_until, free_units) WHERE status = 'published'",
    "ix_sites_published_lat_lon": "CREATE INDEX ix_sites_published_lat_lon ON sites (lat, lon) WHERE status = 'published'",
}


def make_plots(n: int, rng: random.Random) -> list[dict]:
    gemeenten = list(municipalities().values())
    instruments = [PermitInstrument.wabo_bor4_11, PermitInstrument.wro_voorlopig, PermitInstrument.ow_bopa, PermitInstrument.permanent]
    now = dt.datetime.now(dt.timezone.utc)
    rows = []
    for i in range(n):
        gm = rng.choice(gemeenten)
        lat, lon = gm.lat + rng.uniform(-0.04, 0.04), gm.lon + rng.uniform(-0.06, 0.06)
        x, y = wgs84_to_rd(lat, lon)
        capacity = rng.choice([10, 20, 24, 48, 50, 60, 100])
        start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 12))
        until = None if rng.random() < 0.2 else start + dt.timedelta(days=365 * rng.randint(5, 15))
        instrument = rng.choice(instruments)
        rows.append(
            dict(
                id=uuid.uuid4(),
                status="published" if rng.random() < 0.9 else rng.choice(["draft", "withdrawn"]),
                version=1,
                gemeente_code=gm.code,
                province_code=gm.province_code,
                name=f"Bench plot {i}",
                kind="garantiekavel" if rng.random() < 0.05 else rng.choice(["municipal", "private"]),
                lat=lat, lon=lon, rd_x=x, rd_y=y,
                capacity_units=capacity,
                reserved_units=rng.randint(0, capacity),
                available_from=start,
                available_until=until,
                expected_instrument=instrument.value,
                min_term_years=5 if instrument is not PermitInstrument.permanent else 0,
                max_layers=rng.randint(1, 4),
                allows_tijdelijk_bbl=instrument is not PermitInstrument.permanent,
                allows_permanent=True,
                doelgroep_restrictions=[],
                social_rent_only=rng.random() < 0.3,
                bouwrijp=rng.random() < 0.5, utility_water=True, utility_electricity=True, utility_sewer=rng.random() < 0.7,
                utility_heat=False,
                exclusions=[],
                created_by="bench",
                created_at=now + dt.timedelta(microseconds=i),
                updated_at=now,
            )
        )
    return rows


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(ms, 0.5), 3), "p99_ms": round(pct(ms, 0.99), 3), "mean_ms": round(statistics.fmean(ms), 3)}


# ---- the full-scan baseline: every plot loaded, filtered and sorted in Python


async def load_all(db) -> list:
    async with db.sessions() as session:
        return list((await session.execute(sa.select(Site.__table__))).all())


def scan_free_at(rows: list, day: dt.date, min_free: int) -> list:
    hits = [
        r for r in rows
        if r.status == "published" and r.available_from <= day and (r.available_until is None or r.available_until >= day)
        and r.capacity_units - r.reserved_units >= min_free
    ]
    hits.sort(key=lambda r: (r.created_at, str(r.id)))
    return hits[:PAGE]


def scan_near(rows: list, lat: float, lon: float, km: float) -> list:
    published = [r for r in rows if r.status == "published"]
    # every distance in one vectorised call: the baseline is not slowed by a Python loop of trigonometry
    dist = haversine_km(lat, lon, np.array([r.lat for r in published]), np.array([r.lon for r in published]))
    hits = [(float(d), str(r.id), r) for d, r in zip(dist, published, strict=True) if d <= km]
    hits.sort(key=lambda t: (t[0], t[1]))
    return [t[2] for t in hits[:PAGE]]


def query_sql(q: SiteQuery, order: str) -> str:
    """The SQL the listing runs for `q` (literal values), for EXPLAIN."""
    from sqlalchemy.dialects import postgresql

    cols: list = [Site.id]
    order_by: list = [Site.created_at, Site.id]
    if q.near is not None:
        d = distance_km_sql(*q.near).label("distance_km")
        cols.append(d)
        order_by = [d, Site.id]
    stmt = sa.select(*cols).where(*_conditions(q)).order_by(*order_by).limit(PAGE + 1)
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


async def scans(db, sql: str) -> str:
    """The scan nodes of the plan, e.g. 'Bitmap Index Scan on ix_sites_published_lat_lon'."""
    async with db.engine.connect() as conn:
        plan = [r[0] for r in await conn.execute(sa.text("EXPLAIN " + sql))]
    nodes = [line.strip().lstrip("-> ").split("  (")[0] for line in plan if "Scan" in line]
    return "; ".join(nodes)


async def time_sql(db, sqls: list[str]) -> list[float]:
    """Database time alone (execute + fetch) of the listing's SQL: isolates what the indexes do."""
    ms = []
    async with db.engine.connect() as conn:
        for sql in sqls:
            t0 = time.perf_counter()
            (await conn.execute(sa.text(sql))).all()
            ms.append((time.perf_counter() - t0) * 1000)
    return ms


async def time_api(client, settings, queries: list[str]) -> tuple[list[float], list[list[str]]]:
    headers = headers_for(settings, None)  # the internal credential lives 2 minutes: mint one per batch
    ms, results = [], []
    for q in queries:
        t0 = time.perf_counter()
        r = await client.get(f"/api/v1/sites?{q}", headers=headers)
        ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
        results.append([s["id"] for s in r.json()["data"]])
    return ms, results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plots", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(20261123)

    db_name = f"bench_sites_{uuid.uuid4().hex[:8]}"
    url = with_database(SERVER, db_name)
    await ensure_database(SERVER, db_name)
    try:
        await asyncio.to_thread(upgrade, "sites", url)
        settings = SitesSettings(database_url=url, log_json=False, log_level="WARNING", environment="test")
        app = create_app(settings)  # no lifespan: queries need only the database
        db = app.state.runtime.db

        rows = make_plots(args.plots, rng)
        t0 = time.perf_counter()
        async with db.transaction() as session:
            for i in range(0, len(rows), 2000):
                await session.execute(sa.insert(Site), rows[i : i + 2000])
        insert_s = time.perf_counter() - t0
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE sites"))
            await conn.commit()
        print(f"inserted {len(rows)} plots in {insert_s:.2f} s")

        gms = list(municipalities().values())
        free_params = [(dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 15)), rng.choice([1, 10, 30])) for _ in range(args.queries)]
        near_params = []
        for _ in range(args.queries):
            gm = rng.choice(gms)
            near_params.append((round(gm.lat + rng.uniform(-0.05, 0.05), 5), round(gm.lon + rng.uniform(-0.05, 0.05), 5)))
        free_q = [f"freeAt={d}&minFreeUnits={n}&limit={PAGE}" for d, n in free_params]
        near_q = [f"nearLat={la}&nearLon={lo}&withinKm={WITHIN_KM}&sort=distance&limit={PAGE}" for la, lo in near_params]

        (d0, n0), (la0, lo0) = free_params[0], near_params[0]
        free_sql = query_sql(SiteQuery(free_at=d0, min_free_units=n0), "createdAt")
        near_sql = query_sql(SiteQuery(near=(la0, lo0), within_km=WITHIN_KM), "distance")
        free_sqls = [query_sql(SiteQuery(free_at=d, min_free_units=n), "createdAt") for d, n in free_params]
        near_sqls = [query_sql(SiteQuery(near=(la, lo), within_km=WITHIN_KM), "distance") for la, lo in near_params]
        await time_sql(db, free_sqls[:10] + near_sqls[:10])
        await time_sql(db, free_sqls + near_sqls)  # warm-up pass; timed with indexes at the end (A-B-A order)
        sql_ms: dict = {"free_at_date": {}, "distance": {}}
        plans = {"free_at_date": {"with_indexes": await scans(db, free_sql)}, "distance": {"with_indexes": await scans(db, near_sql)}}

        transport = httpx.ASGITransport(app=app)
        figures: dict = {"plots": len(rows), "queries_each": args.queries, "insert_s": round(insert_s, 3)}
        async with httpx.AsyncClient(transport=transport, base_url="http://sites") as client:
            await time_api(client, settings, free_q[:20] + near_q[:20])  # warm up connections and caches
            free_ms, free_ids = await time_api(client, settings, free_q)
            near_ms, near_ids = await time_api(client, settings, near_q)

            # baseline: load every plot and answer the same queries in Python
            base_free_ms, base_near_ms, scan_only_free, scan_only_near = [], [], [], []
            mismatches = 0
            for (d, n), ids in zip(free_params, free_ids, strict=True):
                t0 = time.perf_counter()
                all_rows = await load_all(db)
                t1 = time.perf_counter()
                hits = scan_free_at(all_rows, d, n)
                t2 = time.perf_counter()
                base_free_ms.append((t2 - t0) * 1000)
                scan_only_free.append((t2 - t1) * 1000)
                mismatches += [str(r.id) for r in hits] != ids
            for (la, lo), ids in zip(near_params, near_ids, strict=True):
                t0 = time.perf_counter()
                all_rows = await load_all(db)
                t1 = time.perf_counter()
                hits = scan_near(all_rows, la, lo, WITHIN_KM)
                t2 = time.perf_counter()
                base_near_ms.append((t2 - t0) * 1000)
                scan_only_near.append((t2 - t1) * 1000)
                mismatches += [str(r.id) for r in hits] != ids

            # the same API queries without the query indexes
            async with db.engine.connect() as conn:
                for name in INDEXES:
                    await conn.execute(sa.text(f"DROP INDEX {name}"))
                await conn.commit()
            plans["free_at_date"]["without_indexes"] = await scans(db, free_sql)
            plans["distance"]["without_indexes"] = await scans(db, near_sql)
            sql_ms["free_at_date"]["without_indexes"] = await time_sql(db, free_sqls)
            sql_ms["distance"]["without_indexes"] = await time_sql(db, near_sqls)
            free_noidx_ms, _ = await time_api(client, settings, free_q)
            near_noidx_ms, _ = await time_api(client, settings, near_q)
            async with db.engine.connect() as conn:
                for ddl in INDEXES.values():
                    await conn.execute(sa.text(ddl))
                await conn.execute(sa.text("ANALYZE sites"))
                await conn.commit()
            sql_ms["free_at_date"]["with_indexes"] = await time_sql(db, free_sqls)
            sql_ms["distance"]["with_indexes"] = await time_sql(db, near_sqls)

        figures["free_at_date"] = {
            "api": summary(free_ms),
            "api_without_indexes": summary(free_noidx_ms),
            "baseline_load_and_scan": summary(base_free_ms),
            "baseline_scan_in_memory_only": summary(scan_only_free),
        }
        figures["distance"] = {
            "api": summary(near_ms),
            "api_without_indexes": summary(near_noidx_ms),
            "baseline_load_and_scan": summary(base_near_ms),
            "baseline_scan_in_memory_only": summary(scan_only_near),
        }
        for key in ("free_at_date", "distance"):
            f = figures[key]
            f["sql_only"] = summary(sql_ms[key]["with_indexes"])
            f["sql_only_without_indexes"] = summary(sql_ms[key]["without_indexes"])
            f["ratio_sql_no_index_over_index_p50"] = round(f["sql_only_without_indexes"]["p50_ms"] / f["sql_only"]["p50_ms"], 2)
            f["ratio_baseline_over_api_p50"] = round(f["baseline_load_and_scan"]["p50_ms"] / f["api"]["p50_ms"], 2)
            f["ratio_no_index_over_index_p50"] = round(f["api_without_indexes"]["p50_ms"] / f["api"]["p50_ms"], 2)
        figures["result_mismatches_vs_baseline"] = mismatches
        figures["plans"] = plans

        for key, label in (("free_at_date", "free capacity at a date"), ("distance", f"distance (withinKm={WITHIN_KM:g}, sorted)")):
            f = figures[key]
            print(f"{label}:")
            for variant in ("api", "api_without_indexes", "sql_only", "sql_only_without_indexes", "baseline_load_and_scan", "baseline_scan_in_memory_only"):
                s = f[variant]
                print(f"  {variant:30s} p50 {s['p50_ms']:8.2f} ms   p99 {s['p99_ms']:8.2f} ms")
            print(f"  plan with indexes:    {plans[key]['with_indexes']}")
            print(f"  plan without indexes: {plans[key]['without_indexes']}")
            print(
                f"  baseline/api (p50) = {f['ratio_baseline_over_api_p50']}x; without/with indexes (p50): "
                f"API {f['ratio_no_index_over_index_p50']}x, SQL alone {f['ratio_sql_no_index_over_index_p50']}x"
            )
        print(f"API pages identical to the full-scan answers: {args.queries * 2 - mismatches}/{args.queries * 2}")
        await db.dispose()
    finally:
        await drop_database(SERVER, db_name)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
