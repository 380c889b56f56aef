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
    await page.wait_for_selector("body[data-loaded=true]", timeout=45_000)


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
    await page.wait_for_function("window.hpMap !== undefined", timeout=45_000)
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
    # two browsers, two parties: a proposal whose homes go to one gemeente (a split over two needs a third)
    proposal = next((p for p in pending if len(p["parties"]) == 2), None)
    assert proposal, "the demo data produced no pending proposal with one municipality"
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
        # the outcome travels as events through three services: generous on a loaded machine
        await page.wait_for_selector("#detail-status[data-status=reserved], #detail-status[data-status=scheduled]", timeout=90_000)
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
    runs = (await dashboard.api("/matching/runs?limit=100"))["data"]
    assert runs and runs[-1]["mode"] == "dry_run"  # oldest first
    await page.wait_for_selector("#runs tbody tr")
    assert await page.is_enabled("#bindend")

    # What would change, against the pending proposals of the API.
    shown = await page.wait_for_selector("#wijzigingen[data-first]", timeout=45_000)
    expected = await what_would_change(dashboard, runs[-1])
    assert {k: int(await shown.get_attribute(f"data-{k}")) for k in expected} == expected
    text = await shown.inner_text()
    assert "Wat verandert er als u dit plan bindend maakt" in text
    assert f"Tekort: {runs[-1]['shortfall_units']:,}".replace(",", ".") in text
    assert await page.locator("#wijzigingen tr[data-placement]").count() == min(50, expected["first"]) + expected["replaced"]
    await screenshot(page, "landelijke-run-proef")
    # With the demo data the plan is empty (waiting demand is proposed for as soon as supply appears), so
    # the comparison is also shown for a plan that moves one pending proposal to two plots and adds one placement.
    pending = await all_pending(dashboard)
    assert pending
    # the one with the fewest plots (the demo's few pending proposals may all be split over garantiekavel spots)
    moved = min(pending, key=lambda p: len(p["allocations"]))
    other_site = next(f["id"] for f in (await dashboard.api("/map/sites.geojson"))["features"] if f["id"] != moved["allocations"][0]["site_id"])
    first = {**moved["allocations"][0], "placement_id": "00000000-0000-4000-8000-000000000001"}
    plan = [{**a, "placement_id": p["placement_id"]} for p in pending if p is not moved for a in p["allocations"]] + [
        {**moved["allocations"][0], "placement_id": moved["placement_id"]},
        {**moved["allocations"][0], "placement_id": moved["placement_id"], "site_id": other_site, "units": 1}, first]
    demo_run = {**runs[-1], "plan": plan, "shortfall_units": 7}
    await page.evaluate("([run, pending]) => window.hpRun.show(run, pending)", [demo_run, pending])
    shown = page.locator("#wijzigingen")
    assert {k: await shown.get_attribute(f"data-{k}") for k in ("replaced", "first", "kept", "shortfall")} == {
        "replaced": "1", "first": "1", "kept": str(len(pending) - 1), "shortfall": "7"}
    text = await shown.inner_text()
    assert "1 lopende voorstel wordt vervangen" in text and "1 plaatsing krijgt een eerste voorstel" in text
    # two plots in the plan: "split" when it was one plot, else "other plots"
    why = "gesplitst over 2 kavels" if len(moved["allocations"]) != 2 else "andere kavels"
    assert why in await shown.locator(f"tr[data-placement='{moved['placement_id']}']").inner_text()
    assert await shown.locator(f"tr[data-placement='{first['placement_id']}']").count() == 1
    assert await shown.locator(f"a[href='/voorstellen?id={moved['id']}']").count() == 1
    assert [f for f in await axe_findings(page) if f["impact"] in ("serious", "critical")] == []
    await screenshot(page, "landelijke-run-wijzigingen")

    # Binding: a first proposal for every placement the plan housed (nothing changed in between).
    await page.click("#bindend")
    await page.wait_for_selector("#resultaat .hp-alert--ok:has-text('Bindende run')", timeout=60_000)
    binding = (await dashboard.api("/matching/runs?limit=100"))["data"][-1]
    assert binding["mode"] == "binding" and binding["proposals_created"] == expected["first"] + expected["replaced"]
    assert await page.locator("#wijzigingen").count() == 0
    await screenshot(page, "landelijke-run-bindend")
    await page.context.close()


async def all_pending(dashboard: Dashboard) -> list[dict]:
    pending, cursor = [], ""
    while True:
        page = await dashboard.api(f"/proposals?status=pending&limit=100{cursor}")
        pending += page["data"]
        if not page["next_cursor"]:
            return pending
        cursor = f"&cursor={page['next_cursor']}"


async def what_would_change(dashboard: Dashboard, run: dict) -> dict[str, int]:
    pending = await all_pending(dashboard)
    planned: dict[str, set] = {}
    for a in run["plan"]:
        planned.setdefault(a["placement_id"], set()).add((a["site_id"], a["units"]))
    now = {p["placement_id"]: {(a["site_id"], a["units"]) for a in p["allocations"]} for p in pending}
    replaced = sum(1 for placement, allocs in planned.items() if placement in now and now[placement] != allocs)
    return {"replaced": replaced, "first": sum(1 for placement in planned if placement not in now),
            "kept": len(pending) - replaced, "shortfall": run["shortfall_units"]}


async def tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focus is on `selector` (keyboard only: no click, no programmatic focus)."""
    for _ in range(limit):
        if await page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached by Tab")


async def focus_is_visible(page) -> bool:
    return await page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return e.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"
    )


async def test_the_queue_by_keyboard_only_open_and_decline(dashboard: Dashboard) -> None:
    pending = (await dashboard.api("/proposals?status=pending&limit=100"))["data"]
    assert pending, "no pending proposal left to decline"
    proposal = pending[-1]
    investor = await dashboard.signed_in(f"Investeerder {proposal['investor_org']}")
    await open_page(investor, dashboard, "/voorstellen")
    # Open: Tab to the proposal's button in the queue, Enter; the focus moves to the detail.
    await tab_to(investor, f"button[data-id='{proposal['id']}']")
    assert await focus_is_visible(investor)
    await investor.keyboard.press("Enter")
    await investor.wait_for_function("document.activeElement && document.activeElement.id === 'detail'")
    await investor.wait_for_selector("#afwijzen")
    # every cost term the API sends is named in Dutch, none by its raw field name (such as site_factors)
    terms = await investor.locator("#detail dl.hp-dl dt").all_inner_texts()
    assert terms and not [t for t in terms if "_" in t], terms
    # Decline: Tab to the reason, type it, Tab to "Afwijzen", Space.
    await tab_to(investor, "#reden", limit=60)
    await investor.keyboard.type("Kavel ligt te ver van de huurders")
    await tab_to(investor, "#afwijzen", limit=5)
    assert await focus_is_visible(investor)
    await investor.keyboard.press("Space")
    await investor.wait_for_selector("#detail-status[data-status=declined]", timeout=45_000)
    # The focus is not lost to <body>: it is on the outcome, which says what happened.
    assert await investor.evaluate("document.activeElement.id") == "uitkomst"
    assert "Afgewezen" in await investor.locator("#uitkomst").inner_text()
    assert await investor.locator("#afwijzen").count() == 0
    final = await dashboard.api(f"/proposals/{proposal['id']}")
    assert final["status"] == "declined" and final["reason"] == "Kavel ligt te ver van de huurders"
    await screenshot(investor, "voorstel-afgewezen-toetsenbord")
    await investor.context.close()


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
            await page.wait_for_selector(".swagger-ui .info", timeout=45_000)
        else:
            findings[path] = await axe_findings(page)  # Swagger UI's own markup is not ours to fix
        await screenshot(page, "docs" if path == "/docs" else "aanmelden")
    await anonymous.close()
    for role, paths in PAGES.items():
        page = await dashboard.signed_in(who[role])
        for path in paths:
            await page.goto(dashboard.url + path)
            await page.wait_for_selector("body[data-loaded=true]", timeout=45_000)
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


async def test_sign_in_through_the_identity_provider_and_out_again(dashboard: Dashboard) -> None:
    """The code flow in the browser: the sign-in page, the issuer (approves at once), back on the investor's
    home with a session the page's script cannot read, no token in the page, and sign-out at the issuer too."""
    context = await dashboard.browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = await context.new_page()
    await page.goto(f"{dashboard.url}/aanmelden")
    assert await page.locator("#ontwikkel-aanmelding").inner_text() == "Ontwikkel-aanmelding"  # clearly marked
    issued_before = len(dashboard.issuer.issued)
    await page.get_by_role("link", name="Aanmelden via de identiteitsaanbieder").click()
    await page.wait_for_url("**/investeerder")
    await page.wait_for_selector("body[data-loaded=true]", timeout=45_000)
    assert "investeerder" in await page.locator(".hp-who").inner_text() and "wc-woonbron" in await page.locator(".hp-who").inner_text()
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies[SESSION_COOKIE]["httpOnly"] and cookies[SESSION_COOKIE]["sameSite"] == "Lax"
    assert SESSION_COOKIE not in await page.evaluate("document.cookie")
    tokens = dashboard.issuer.issued[issued_before:]
    assert len(tokens) == 3
    html = await page.content()
    assert not any(token in html or any(token in c["value"] for c in cookies.values()) for token in tokens)
    await screenshot(page, "aanmelden-idp-investeerder")

    logouts = len(dashboard.issuer.logouts)
    await page.get_by_role("button", name="Afmelden").click()
    await page.wait_for_url("**/aanmelden")
    assert len(dashboard.issuer.logouts) == logouts + 1  # the issuer's session ended as well
    assert SESSION_COOKIE not in {c["name"] for c in await context.cookies()}
    await page.goto(f"{dashboard.url}/investeerder")
    assert page.url.endswith("/aanmelden")
    await context.close()
