"""The dashboard in a real browser (Debian's chromium via Playwright) against the whole system."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.gateway.app.web.session import SESSION_COOKIE
from services.gateway.tests.browser.conftest import ARTEFACTS, Dashboard, axe_findings, screenshot
from shared.reference import municipalities

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

MM = "Marktmeester (RVO)"


async def open_page(page, dashboard: Dashboard, path: str) -> None:
    await page.goto(dashboard.url + path)
    await page.wait_for_selector("body[data-loaded=true]", timeout=20_000)


async def test_sign_in_per_role(dashboard: Dashboard) -> None:
    page = await dashboard.signed_in(MM, enforce_csp=True)
    await page.wait_for_selector("body[data-loaded=true]")
    for path in ("/kaart", "/voorstellen", "/prognose"):  # the pages work under their Content-Security-Policy
        await open_page(page, dashboard, path)
    assert not page.errors, page.errors
    await page.goto(dashboard.url + "/")
    await page.wait_for_selector("body[data-loaded=true]")
    assert await page.title() == "Overzicht · Herplaatsing flexwoningen"
    assert "marktmeester" in await page.locator(".hp-who").inner_text()
    cookie = next(c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert SESSION_COOKIE not in await page.evaluate("document.cookie")  # the script cannot read the session
    await screenshot(page, "aanmelden-marktmeester")

    buttons = page.context.pages[0]
    await buttons.goto(dashboard.url + "/aanmelden")
    await screenshot(buttons, "aanmelden")
    investor = (await buttons.locator("#rol-investor ~ ul button").first.inner_text()).strip()
    municipality = (await buttons.locator("#rol-municipality ~ ul button").first.inner_text()).strip()
    await page.context.close()
    for label, home, heading in ((investor, "/investeerder", "Mijn woningen"), (municipality, "/gemeente", "Mijn kavels")):
        page = await dashboard.signed_in(label)
        assert page.url.endswith(home)
        assert await page.locator("h1").inner_text() == heading
        await page.get_by_role("button", name="Afmelden").click()
        await page.wait_for_url("**/aanmelden")
        await page.context.close()


async def test_overview_numbers_equal_the_api(dashboard: Dashboard) -> None:
    page = await dashboard.signed_in(MM)
    await page.wait_for_selector("body[data-loaded=true]")
    summary = await dashboard.api("/dashboard/summary")
    shown = await page.eval_on_selector_all("a[data-key]", "as => as.map(a => [a.dataset.key, a.textContent, a.getAttribute('href')])")
    assert len(shown) >= 15
    for key, text, href in shown:
        value = summary
        for part in key.split("."):
            value = value[part]
        assert int(text.replace(".", "")) == value, key
        assert href.startswith("/")
    assert summary["homes"]["placed"] > 0
    await screenshot(page, "overzicht")
    await page.context.close()


async def test_the_map_draws_the_plots_and_placements(dashboard: Dashboard) -> None:
    page = await dashboard.signed_in(MM)
    await page.goto(dashboard.url + "/kaart")
    await page.wait_for_function("window.hpMap !== undefined", timeout=20_000)
    drawn = await page.evaluate("window.hpMap")
    sites = await dashboard.api("/map/sites.geojson")
    homes = await dashboard.api("/map/placements.geojson")
    assert drawn["sites"] == len(sites["features"]) > 0
    assert drawn["placements"] == len(homes["features"]) > 0
    assert await page.locator(".leaflet-overlay-pane canvas").count() >= 1
    assert f"{len(sites['features'])} kavels" in await page.locator("#kaart-status").inner_text()
    # A filter by province narrows the plots.
    await page.select_option("#provincie", "PV25")
    await page.get_by_role("button", name="Toon").click()
    await page.wait_for_function("window.hpMap && document.getElementById('provincie').value === 'PV25'")
    await asyncio.sleep(0.5)
    gelderland = await dashboard.api("/map/sites.geojson?province=PV25")
    assert (await page.evaluate("window.hpMap"))["sites"] == len(gelderland["features"])
    await screenshot(page, "kaart")
    await page.context.close()


async def test_accept_flow_from_two_browsers_ends_in_a_confirmed_reservation(dashboard: Dashboard) -> None:
    pending = (await dashboard.api("/proposals?status=pending&limit=100"))["data"]
    assert pending, "the demo data produced no pending proposal"
    proposal = pending[0]
    parties = {p["role"]: p["org"] for p in proposal["parties"]}
    investor = await dashboard.signed_in(f"Investeerder {parties['investor']}")
    municipality = await dashboard.signed_in(next(label for label in await labels(dashboard) if f"({parties['municipality']})" in label))
    await open_page(investor, dashboard, f"/voorstellen?id={proposal['id']}")
    # The municipality opens it from its queue by keyboard: the focus moves to the detail.
    await open_page(municipality, dashboard, "/voorstellen")
    await municipality.locator(f"button[data-id='{proposal['id']}']").focus()
    await municipality.keyboard.press("Enter")
    await municipality.wait_for_function("document.activeElement && document.activeElement.id === 'detail'")
    for page in (investor, municipality):
        await page.wait_for_selector("#accepteren")
    await screenshot(investor, "voorstel-detail")
    # By keyboard: the investor answers with Enter on the focused "Accepteren" button.
    await investor.locator("#accepteren").focus()
    await investor.keyboard.press("Enter")
    await investor.wait_for_selector("#uitkomst .hp-alert")
    await municipality.locator("#accepteren").click()
    # The outcome appears without reloading, in both browsers.
    for page in (municipality, investor):
        await page.wait_for_selector("#detail-status[data-status=reserved], #detail-status[data-status=scheduled]", timeout=30_000)
    final = await dashboard.api(f"/proposals/{proposal['id']}")
    assert final["status"] in ("reserved", "scheduled")
    await screenshot(municipality, "voorstel-gereserveerd")
    for page in (investor, municipality):
        await page.context.close()


async def labels(dashboard: Dashboard) -> list[str]:
    context = await dashboard.browser.new_context()
    page = await context.new_page()
    await page.goto(dashboard.url + "/aanmelden")
    found = [t.strip() for t in await page.locator("form button").all_inner_texts()]
    await context.close()
    return found


async def test_a_validation_error_is_shown_at_its_field(dashboard: Dashboard) -> None:
    label = next(label for label in await labels(dashboard) if label.startswith("Gemeente "))
    page = await dashboard.signed_in(label)
    await page.wait_for_selector("body[data-loaded=true]")
    await page.fill("#f-name", "Kavel met fout")
    await page.fill("#f-capacity_units", "-3")
    home = municipalities()[label.rsplit("(", 1)[1].rstrip(")")]  # sites refuses a point outside the gemeente
    await page.fill("#f-lat", f"{home.lat:.5f}")
    await page.fill("#f-lon", f"{home.lon:.5f}")
    await page.fill("#f-available_from", "2027-01-01")
    await page.get_by_role("button", name="Publiceren").click()
    error = page.locator("#f-capacity_units-fout")
    await error.wait_for(timeout=10_000)
    assert await page.get_attribute("#f-capacity_units", "aria-invalid") == "true"
    assert await page.get_attribute("#f-capacity_units", "aria-describedby") == "f-capacity_units-fout"
    assert await page.evaluate("document.activeElement.id") == "f-capacity_units"
    await screenshot(page, "gemeente-validatiefout")
    # Corrected and drawn as a polygon on the map (three corners around the centre of the gemeente the map shows),
    # it is published and listed.
    await page.wait_for_selector("#kavel-kaart[data-grenzen=geladen]")
    await page.fill("#f-capacity_units", "12")
    await page.check("#f-boundary")
    await page.locator("#kavel-kaart").scroll_into_view_if_needed()
    box = await page.locator("#kavel-kaart").bounding_box()  # in the viewport's coordinates
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-15, -10), (15, -10), (0, 15)):
        await page.mouse.click(cx + dx, cy + dy)
    assert "3 hoekpunten" in await page.locator("#vlak-melding").inner_text()
    await page.get_by_role("button", name="Publiceren").click()
    await page.wait_for_selector("text=Kavel met fout is gepubliceerd")
    await page.wait_for_selector("td:has-text('Kavel met fout')")
    code = label.rsplit("(", 1)[1].rstrip(")")
    published = [s for s in (await dashboard.api(f"/sites?municipality={code}&limit=100"))["data"] if s["name"] == "Kavel met fout"]
    assert len(published) == 1 and published[0]["boundary"]["type"] == "Polygon"
    assert published[0]["capacity_units"] == 12
    await page.context.close()


async def test_a_national_dry_run_shows_its_result_and_can_be_made_binding(dashboard: Dashboard) -> None:
    page = await dashboard.signed_in(MM)
    await open_page(page, dashboard, "/landelijke-run")
    assert await page.is_disabled("#bindend")
    await page.click("#proefrun")
    await page.wait_for_selector("#resultaat .hp-alert--ok", timeout=60_000)
    assert "Proefrun" in await page.locator("#resultaat .hp-alert").inner_text()
    runs = (await dashboard.api("/matching/runs"))["data"]
    assert runs and runs[0]["mode"] == "dry_run"
    await page.wait_for_selector("#runs tbody tr")
    assert await page.is_enabled("#bindend")
    await screenshot(page, "landelijke-run-proef")
    await page.context.close()


PAGES = {
    "marktmeester": ["/", "/voorstellen", "/kaart", "/prognose", "/landelijke-run"],
    "investor": ["/investeerder", "/voorstellen", "/kaart"],
    "municipality": ["/gemeente", "/voorstellen", "/kaart"],
}


async def test_every_page_has_no_serious_or_critical_axe_findings(dashboard: Dashboard) -> None:
    all_labels = await labels(dashboard)
    who = {"marktmeester": MM, "investor": next(x for x in all_labels if x.startswith("Investeerder")), "municipality": next(x for x in all_labels if x.startswith("Gemeente "))}
    findings: dict[str, list] = {}
    anonymous = await dashboard.browser.new_context(bypass_csp=True)
    for path in ("/aanmelden", "/docs"):
        page = await anonymous.new_page()
        await page.goto(dashboard.url + path)
        if path == "/docs":
            await page.wait_for_selector(".swagger-ui .info", timeout=20_000)
        else:
            findings[path] = await axe_findings(page)  # Swagger UI's own markup is not ours to fix
        await screenshot(page, "docs" if path == "/docs" else "aanmelden")
    await anonymous.close()
    for role, paths in PAGES.items():
        page = await dashboard.signed_in(who[role])
        for path in paths:
            await page.goto(dashboard.url + path)
            await page.wait_for_selector("body[data-loaded=true]", timeout=20_000)
            findings[f"{role} {path}"] = await axe_findings(page)
            if path == "/voorstellen" and await page.locator("button[data-id]").count():
                await page.locator("button[data-id]").first.click()  # and a proposal's detail with its map
                await page.wait_for_selector("#voorstel-kaart")
                findings[f"{role} {path} detail"] = await axe_findings(page)
            await screenshot(page, f"{role}{path.replace('/', '-') if path != '/' else '-overzicht'}")
        assert not page.errors, page.errors
        await page.context.close()
    (ARTEFACTS / "axe.json").write_text(json.dumps(findings, indent=2))  # every finding, for the record
    serious = {page: [f for f in found if f["impact"] in ("serious", "critical")] for page, found in findings.items()}
    assert {page: found for page, found in serious.items() if found} == {}
