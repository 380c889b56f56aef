"""Mounts the dashboard on the gateway: pages, /static (vendored assets), boundaries, /docs."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse
from starlette.staticfiles import StaticFiles

from services.gateway.app.web.pages import router
from services.gateway.app.web.signin import router as signin_router
import shared.reference
from shared.web.problems import ProblemError

STATIC_DIR = Path(__file__).parent / "static"
REFERENCE_DIR = Path(shared.reference.__file__).parent / "reference"  # beside gemeenten.csv, packaged with shared
CHANGELOG = Path(__file__).parent / "CHANGELOG.md"  # links to the repository root's; the wheel holds a copy
BOUNDARIES = {"gemeenten": "gemeenten-2025.geojson", "provincies": "provincies-2025.geojson"}

DOCS_HTML = f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>API-documentatie · Herplaatsing</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><main id="swagger-ui" aria-label="API-documentatie"></main>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>"""


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(signin_router)  # /login and /callback: the identity provider's code flow
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/kaart/grenzen/{name}.geojson", include_in_schema=False)
    async def boundaries(name: str) -> FileResponse:
        """CBS 2025 boundaries, the map's base layer (cached by the browser for a day)."""
        if name not in BOUNDARIES:
            raise ProblemError(404, "Not found", f"No boundaries called {name!r}.")
        return FileResponse(REFERENCE_DIR / BOUNDARIES[name], media_type="application/geo+json", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/changelog", include_in_schema=False)
    async def changelog() -> PlainTextResponse:
        """The API's changes per version, linked from the OpenAPI `info.description` (NLGov)."""
        return PlainTextResponse(CHANGELOG.read_text(encoding="utf-8"), media_type="text/markdown; charset=utf-8")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI from the product's own assets (no CDN: works on a closed network)."""
        return HTMLResponse(DOCS_HTML)

