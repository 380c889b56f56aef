"""Benchmark: the dashboard as a user sees it, in Debian's chromium (Playwright), on a running system.

Against a running gateway in development (`bash scripts/up --demo-scale 1.0`, the full demo
data), signed in as the marktmeester through the development sign-in, each repetition in a
fresh browser context (cold cookies and cache):

- overview first view: from navigation to the summary numbers on screen (`body[data-loaded]`);
- map interactive: from navigation to every plot and placement drawn (`window.hpMap`), then the
  time a zoom step takes to redraw (the map answers while holding all features).

Targets (issue 17): overview < 1.5 s, map interactive < 3 s.
Run: .venv/bin/python bench/dashboard_browser.py [--url http://127.0.0.1:8000] [--repeat 5]
The last line printed is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time

from playwright.async_api import async_playwright


async def measure(url: str, repeat: int) -> dict:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no chromium: apt-get install -y chromium")
    overview, map_ready, zoom, counts = [], [], [], {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for _ in range(repeat + 1):  # the first round warms the server's caches and is not counted
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            await page.goto(f"{url}/aanmelden")
            async with page.expect_navigation():
                await page.get_by_role("button", name="Marktmeester (RVO)", exact=True).click()
            t0 = time.perf_counter()
            await page.goto(f"{url}/")
            await page.wait_for_selector("body[data-loaded=true]", timeout=30_000)
            t_overview = time.perf_counter() - t0

            t0 = time.perf_counter()
            await page.goto(f"{url}/kaart")
            await page.wait_for_selector("body[data-loaded=true]", timeout=60_000)  # set with window.hpMap, all drawn
            t_map = time.perf_counter() - t0
            counts = await page.evaluate("window.hpMap")
            t0 = time.perf_counter()
            await page.evaluate("() => new Promise((done) => { document.querySelector('.leaflet-control-zoom-in').click(); "
                                "requestAnimationFrame(() => requestAnimationFrame(done)); })")
            t_zoom = time.perf_counter() - t0
            await context.close()
            overview.append(t_overview)
            map_ready.append(t_map)
            zoom.append(t_zoom)
        await browser.close()
    overview, map_ready, zoom = overview[1:], map_ready[1:], zoom[1:]
    return {
        "repeat": repeat,
        "plots": counts.get("sites"),
        "placements": counts.get("placements"),
        "overview_first_view_s": {"median": round(statistics.median(overview), 3), "max": round(max(overview), 3)},
        "map_interactive_s": {"median": round(statistics.median(map_ready), 3), "max": round(max(map_ready), 3)},
        "map_zoom_step_s": {"median": round(statistics.median(zoom), 3), "max": round(max(zoom), 3)},
        "targets_met": max(overview) < 1.5 and max(map_ready) < 3.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.url.rstrip("/"), args.repeat))
    print(f"overview first view: median {figures['overview_first_view_s']['median']} s, max {figures['overview_first_view_s']['max']} s (target < 1.5 s)")
    print(f"map with {figures['plots']} plots and {figures['placements']} placements interactive: "
          f"median {figures['map_interactive_s']['median']} s, max {figures['map_interactive_s']['max']} s (target < 3 s)")
    print(f"map zoom step redraw: median {figures['map_zoom_step_s']['median']} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
