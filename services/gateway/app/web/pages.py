"""The dashboard's pages: Dutch HTML shells (NL Design System CSS) whose scripts call /api/v1.

Every page is rendered by one layout: a header with the signed-in identity, a navigation for
the role, and the page's own `<main>`. The data comes from the public API with the session
cookie (app/web/session.py), so a page shows exactly what the API answers for that caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.app.config import GatewaySettings
from services.gateway.app.upstream import upstreams_of
from services.gateway.app.web.identities import demo_identities
from services.gateway.app.web.session import CSRF_COOKIE, end_session, session_id, session_principal, start_session
from services.gateway.app.web.signin import end_session_url
from shared.domain import Role
from shared.web.identity import AuthError, Principal

router = APIRouter(include_in_schema=False)

MM, INV, GEM = Role.marktmeester, Role.investor, Role.municipality
ROLE_NAMES = {MM: "marktmeester", INV: "investeerder", GEM: "gemeente"}


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    title: str
    roles: tuple[Role, ...]
    script: str  # static/pages/<script>.js
    body: str  # the page's content under its <h1>


PAGES: tuple[Page, ...] = (
    Page("/", "Overzicht", (MM,), "overzicht", """
<p class="utrecht-paragraph">Landelijke stand op <span data-field="today">…</span>. Elk getal linkt naar de lijst erachter.</p>
<div id="cijfers" class="hp-cards" aria-live="polite"><p class="utrecht-paragraph">Cijfers laden…</p></div>
<section aria-labelledby="register-kop"><h2 class="utrecht-heading-2" id="register-kop">Woningregister</h2>
<div id="woningregister" aria-live="polite"><p class="utrecht-paragraph">Register laden…</p></div></section>"""),
    Page("/voorstellen", "Voorstellen", (MM, INV, GEM), "voorstellen", """
<form class="hp-filters" id="filter" role="search" aria-label="Voorstellen filteren">
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="status">Status</label>
  <select class="utrecht-select" id="status" name="status"><option value="">Alle</option>
  <option value="pending">In afwachting</option><option value="accepted">Geaccepteerd</option><option value="reserved">Gereserveerd</option>
  <option value="scheduled">Ingepland</option><option value="declined">Afgewezen</option><option value="expired">Verlopen</option>
  <option value="withdrawn">Ingetrokken</option></select></div>
  <button class="utrecht-button utrecht-button--secondary-action" type="submit">Filter</button>
</form>
<div class="hp-split">
  <section aria-labelledby="lijst-kop"><h2 class="utrecht-heading-2" id="lijst-kop">Wachtrij</h2><div id="lijst" aria-live="polite"></div></section>
  <section aria-labelledby="detail-kop" id="detail" tabindex="-1"><h2 class="utrecht-heading-2" id="detail-kop">Voorstel</h2>
  <p class="utrecht-paragraph">Kies een voorstel uit de wachtrij.</p></section>
</div>"""),
    Page("/kaart", "Kaart", (MM, INV, GEM), "kaart", """
<form class="hp-filters" id="filter" aria-label="Kaart filteren">
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="provincie">Provincie</label>
  <select class="utrecht-select" id="provincie"><option value="">Heel Nederland</option></select></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="gemeente">Gemeente (CBS-code)</label>
  <input class="utrecht-textbox" id="gemeente" placeholder="GM0200" pattern="GM[0-9]{4}" size="8"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="eindjaar">Plaatsingen eindigend uiterlijk</label>
  <input class="utrecht-textbox" id="eindjaar" type="number" min="2020" max="2060" size="6"></div>
  <button class="utrecht-button utrecht-button--secondary-action" type="submit">Toon</button>
</form>
<div id="kaart" class="hp-map" role="region" aria-label="Kaart van Nederland met kavels en plaatsingen"></div>
<div id="legenda" class="hp-legend" aria-label="Legenda"></div>
<p class="utrecht-paragraph" id="kaart-status" aria-live="polite">Kaart laden…</p>"""),
    Page("/prognose", "Prognose", (MM,), "prognose", """
<p class="utrecht-paragraph">Woningen waarvan de termijn afloopt tegenover vrije kavelcapaciteit, per kwartaal voor tien jaar. Een tekort is rood gemarkeerd.</p>
<div class="utrecht-form-field"><label class="utrecht-form-label" for="provincie">Provincie</label>
<select class="utrecht-select" id="provincie"><option value="">Alle provincies</option></select></div>
<figure class="hp-chart"><div id="grafiek"></div><figcaption class="utrecht-paragraph">Staven: aflopende woningen (donker) en beschikbare capaciteit (licht) per kwartaal.</figcaption></figure>
<div id="tabel" aria-live="polite"></div>"""),
    Page("/landelijke-run", "Landelijke run", (MM,), "run", """
<p class="utrecht-paragraph">Start een proefrun om het plan en het tekort te zien zonder iets vast te leggen; maak het daarna bindend.</p>
<div class="hp-actions">
  <button class="utrecht-button utrecht-button--primary-action" id="proefrun" type="button">Proefrun starten</button>
  <button class="utrecht-button utrecht-button--secondary-action" id="bindend" type="button" disabled>Bindend maken</button>
</div>
<div id="resultaat" aria-live="polite"></div>
<h2 class="utrecht-heading-2">Eerdere runs</h2><div id="runs"></div>"""),
    Page("/gemeente", "Mijn kavels", (GEM, MM), "gemeente", """
<div class="hp-split">
<section aria-labelledby="kavels-kop"><h2 class="utrecht-heading-2" id="kavels-kop">Kavels</h2><div id="kavels" aria-live="polite"></div></section>
<section aria-labelledby="form-kop"><h2 class="utrecht-heading-2" id="form-kop">Kavel publiceren</h2>
<form id="kavel-form" novalidate>
  <input type="hidden" name="id"><input type="hidden" name="version">
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-name">Naam</label>
  <input class="utrecht-textbox" id="f-name" name="name" required></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-gemeente_code">Gemeente (CBS-code)</label>
  <input class="utrecht-textbox" id="f-gemeente_code" name="gemeente_code" pattern="GM[0-9]{4}"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-kind">Soort</label>
  <select class="utrecht-select" id="f-kind" name="kind"><option value="municipal">Gemeentelijk</option><option value="private">Particulier</option><option value="garantiekavel">Garantiekavel</option></select></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-cluster_id">Cluster (alleen garantiekavel)</label>
  <input class="utrecht-textbox" id="f-cluster_id" name="cluster_id"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-capacity_units">Capaciteit (woningen)</label>
  <input class="utrecht-textbox" id="f-capacity_units" name="capacity_units" type="number"></div>
  <fieldset class="utrecht-form-fieldset"><legend class="utrecht-form-fieldset__legend">Locatie: WGS84 of RD New (of klik op de kaart)</legend>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-lat">Breedtegraad (WGS84)</label><input class="utrecht-textbox" id="f-lat" name="lat" inputmode="decimal"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-lon">Lengtegraad (WGS84)</label><input class="utrecht-textbox" id="f-lon" name="lon" inputmode="decimal"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-rd_x">RD x</label><input class="utrecht-textbox" id="f-rd_x" name="rd_x" inputmode="decimal"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-rd_y">RD y</label><input class="utrecht-textbox" id="f-rd_y" name="rd_y" inputmode="decimal"></div>
  </fieldset>
  <div class="utrecht-form-field"><label class="utrecht-form-label"><input type="checkbox" class="utrecht-checkbox" id="f-boundary"> Teken de kavel als vlak (klik de hoekpunten op de kaart)</label>
  <button class="utrecht-button utrecht-button--subtle" type="button" id="vlak-wissen">Vlak wissen</button></div>
  <div id="kavel-kaart" class="hp-map hp-map--small" role="region" aria-label="Kaart: klik om de locatie of de hoekpunten te kiezen"></div>
  <p class="utrecht-paragraph" id="vlak-melding" aria-live="polite"></p>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-available_from">Beschikbaar vanaf</label>
  <input class="utrecht-textbox" id="f-available_from" name="available_from" type="date"></div>
  <div class="utrecht-form-field"><label class="utrecht-form-label" for="f-available_until">Beschikbaar tot</label>
  <input class="utrecht-textbox" id="f-available_until" name="available_until" type="date"></div>
  <div id="form-melding" aria-live="assertive"></div>
  <div class="hp-actions"><button class="utrecht-button utrecht-button--primary-action" type="submit" id="opslaan">Publiceren</button>
  <button class="utrecht-button utrecht-button--secondary-action" type="reset" id="nieuw">Nieuwe kavel</button></div>
</form></section></div>"""),
    Page("/investeerder", "Mijn woningen", (INV, MM), "investeerder", """
<section aria-labelledby="complexen-kop"><h2 class="utrecht-heading-2" id="complexen-kop">Complexen</h2><div id="complexen" aria-live="polite"></div></section>
<section aria-labelledby="waardering-kop"><h2 class="utrecht-heading-2" id="waardering-kop">Waardering en RTHF-claim</h2><div id="waardering" aria-live="polite">
<p class="utrecht-paragraph">Kies een complex.</p></div></section>
<section aria-labelledby="plaatsingen-kop"><h2 class="utrecht-heading-2" id="plaatsingen-kop">Plaatsingen</h2><div id="plaatsingen" aria-live="polite"></div></section>"""),
)
PAGE_BY_PATH = {page.path: page for page in PAGES}
NAV = {
    MM: ("/", "/voorstellen", "/kaart", "/prognose", "/landelijke-run"),
    INV: ("/investeerder", "/voorstellen", "/kaart"),
    GEM: ("/gemeente", "/voorstellen", "/kaart"),
}
HOME = {role: paths[0] for role, paths in NAV.items()}
# Only the product's own scripts run (no inline script); Leaflet positions with inline styles.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:{tiles}; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'{idp}"
)


def tile_origin(tile_url: str | None) -> str | None:
    """The origin of a Leaflet tile template, as a CSP source: a `{s}` subdomain becomes `*`."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    host = ".".join("*" if label == "{s}" else label for label in parts.netloc.split("."))
    return f"{parts.scheme}://{host}"


def page_headers(settings: GatewaySettings) -> dict[str, str]:
    origin = tile_origin(settings.dashboard_tile_url)
    # Sign-out is a form whose answer redirects to the identity provider's end_session_endpoint:
    # form-action covers that redirect, so the provider's origin is allowed there (and nowhere else).
    provider = settings.dashboard_oidc
    idp = f" {urlsplit(provider.issuer).scheme}://{urlsplit(provider.issuer).netloc}" if provider else ""
    return {**PAGE_HEADERS, "Content-Security-Policy": CSP.format(tiles=f" {origin}" if origin else "", idp=idp)}


def layout(request: Request, title: str, body: str, principal: Principal | None = None, script: str | None = None, status: int = 200) -> HTMLResponse:
    current = request.url.path
    nav = ""
    who = ""
    if principal is not None and principal.role is not None:
        links = "".join(
            f'<li class="utrecht-nav-list__item"><a class="utrecht-link utrecht-nav-list__link" href="{p}"'
            + (' aria-current="page"' if p == current else "")
            + f">{escape(PAGE_BY_PATH[p].title)}</a></li>"
            for p in NAV[principal.role]
        )
        nav = f'<nav class="hp-nav" aria-label="Hoofdmenu"><ul class="utrecht-nav-list">{links}</ul></nav>'
        csrf = escape(request.cookies.get(CSRF_COOKIE, ""))
        who = (
            f'<div class="hp-who"><span>Aangemeld als <strong>{ROLE_NAMES[principal.role]}</strong>'
            + (f" ({escape(principal.org)})" if principal.org else "")
            + f'</span><form method="post" action="/afmelden"><input type="hidden" name="csrf" value="{csrf}">'
            '<button class="utrecht-button utrecht-button--subtle" type="submit">Afmelden</button></form></div>'
        )
    role_attr = f' data-role="{principal.role.value}" data-org="{escape(principal.org or "")}"' if principal and principal.role else ""
    settings: GatewaySettings = request.app.state.settings
    maps = script in ("kaart", "gemeente", "voorstellen")
    if maps and settings.dashboard_tile_url:  # the page's map config: a background layer only when configured
        role_attr += (f' data-tile-url="{escape(settings.dashboard_tile_url)}"'
                      f' data-tile-attribution="{escape(settings.dashboard_tile_attribution)}"')
    scripts = f'<script src="/static/app.js" defer></script><script src="/static/pages/{script}.js" defer></script>' if script else ""
    leaflet = (
        '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css"><script src="/static/vendor/leaflet/leaflet.js" defer></script>'
        if maps else ""
    )
    html = f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Herplaatsing flexwoningen</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/vendor/utrecht/design-tokens.css">
<link rel="stylesheet" href="/static/vendor/utrecht/component-library.css">
<link rel="stylesheet" href="/static/app.css">
{leaflet}{scripts}
</head>
<body class="utrecht-theme utrecht-page-body"{role_attr}>
<a class="hp-skip utrecht-link" href="#inhoud">Direct naar de inhoud</a>
<div class="utrecht-page">
<header class="utrecht-page-header hp-header">
<a class="hp-brand utrecht-link" href="/">Herplaatsing flexwoningen</a>
{who}
</header>
{nav}
<main class="utrecht-page-content" id="inhoud" tabindex="-1">
<h1 class="utrecht-heading-1">{escape(title)}</h1>
{body}
</main>
<footer class="utrecht-page-footer hp-footer"><a class="utrecht-link" href="/docs">API-documentatie</a></footer>
</div>
</body>
</html>"""
    return HTMLResponse(html, status_code=status, headers=page_headers(settings))


async def _signed_in(request: Request) -> Principal | None:
    try:
        return await session_principal(request)
    except AuthError:
        return None


def _development(request: Request) -> bool:
    return request.app.state.settings.environment == "development"


def _page_endpoint(page: Page):  # noqa: ANN202
    async def endpoint(request: Request) -> Response:
        principal = await _signed_in(request)
        if principal is None:
            return RedirectResponse("/aanmelden", status_code=303)
        if principal.role not in page.roles:
            if page.path == "/" and principal.role in HOME:
                return RedirectResponse(HOME[principal.role], status_code=303)
            return layout(request, "Geen toegang", '<p class="utrecht-paragraph">Deze pagina is niet voor uw rol.</p>', principal, status=403)
        return layout(request, page.title, page.body, principal, page.script)

    endpoint.__name__ = "page_" + (page.script or "home")
    return endpoint


for _page in PAGES:
    router.add_api_route(_page.path, _page_endpoint(_page), methods=["GET"], response_class=HTMLResponse)


@router.get("/aanmelden", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    """Sign-in: through the identity provider when one is configured (only that, outside development);
    in development also the ontwikkel-aanmelding, a demo identity without a password."""
    provider = request.app.state.runtime.sessions.issuer
    if provider is not None and not _development(request):
        return RedirectResponse("/login", status_code=303)
    if not _development(request):
        return layout(request, "Niet gevonden", '<p class="utrecht-paragraph">Aanmelden is niet ingesteld: '
                      "er is geen identiteitsaanbieder geconfigureerd, en aanmelden met een demo-identiteit kan alleen in ontwikkeling.</p>", status=404)
    identities = await demo_identities(upstreams_of(request))
    groups: dict[Role, list[str]] = {MM: [], INV: [], GEM: []}
    for ident in identities:
        groups[ident.role].append(
            '<li><form method="post" action="/aanmelden">'
            f'<input type="hidden" name="role" value="{ident.role.value}"><input type="hidden" name="org" value="{escape(ident.org or "")}">'
            f'<button class="utrecht-button utrecht-button--secondary-action" type="submit">{escape(ident.label)}</button></form></li>'
        )
    sections = "".join(
        f'<section aria-labelledby="rol-{role.value}"><h3 class="utrecht-heading-3" id="rol-{role.value}">{heading}</h3>'
        f'<ul class="hp-identities">{"".join(groups[role])}</ul></section>'
        for role, heading in ((MM, "Marktmeester"), (INV, "Investeerders"), (GEM, "Gemeenten met kavels"))
    )
    via_provider = (
        '<section aria-labelledby="via-idp"><h2 class="utrecht-heading-2" id="via-idp">Met uw account</h2>'
        '<p class="utrecht-paragraph"><a class="utrecht-button utrecht-button--primary-action" id="aanmelden-idp" href="/login">'
        "Aanmelden via de identiteitsaanbieder</a></p></section>"
        if provider is not None else ""
    )
    body = (
        via_provider + '<section aria-labelledby="ontwikkel-aanmelding"><h2 class="utrecht-heading-2" id="ontwikkel-aanmelding">Ontwikkel-aanmelding</h2>'
        '<div class="utrecht-alert utrecht-alert--warning hp-alert" role="note"><p class="utrecht-paragraph">'
        "Ontwikkel-aanmelding: u meldt zich aan met een demo-identiteit, zonder wachtwoord. Alleen in de ontwikkelomgeving.</p></div>"
        + sections + "</section>"
    )
    return layout(request, "Aanmelden", body)


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form (parsed here: python-multipart would be a dependency for two fields)."""
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return dict(pairs)


@router.post("/aanmelden")
async def sign_in(request: Request) -> Response:
    form = await _form(request)
    role, org = form.get("role", ""), form.get("org", "")
    if not _development(request):
        return layout(request, "Niet gevonden", '<p class="utrecht-paragraph">Niet beschikbaar.</p>', status=404)
    allowed = {(i.role.value, i.org or "") for i in await demo_identities(upstreams_of(request))}
    if (role, org) not in allowed:
        return layout(request, "Aanmelden mislukt", '<p class="utrecht-paragraph">Onbekende demo-identiteit.</p>', status=403)
    principal = Principal(sub=f"demo-{role}-{org or 'rvo'}", role=Role(role), org=org or None)
    response = RedirectResponse(HOME[principal.role], status_code=303)
    start_session(response, request, principal)
    return response


@router.post("/afmelden")
async def sign_out(request: Request) -> Response:
    csrf = (await _form(request)).get("csrf", "")
    # A cross-site form cannot know the CSRF token, so it cannot sign anyone out.
    if request.cookies.get(CSRF_COOKIE) and csrf != request.cookies.get(CSRF_COOKIE):
        return layout(request, "Afmelden mislukt", '<p class="utrecht-paragraph">Ongeldig formulier.</p>', status=403)
    # A sign-in through the provider: its tokens leave the gateway, and the provider's session ends too.
    ended = request.app.state.runtime.sessions.close(session_id(request))
    logout = await end_session_url(request, ended.id_token) if ended is not None else None
    response = RedirectResponse(logout or "/aanmelden", status_code=303)
    end_session(response)
    return response
