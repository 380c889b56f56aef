"""The dashboard's assets are the product's own: vendored from the pinned npm packages, no CDN."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from services.gateway.app.web.install import STATIC_DIR
from services.gateway.app.web.pages import PAGES
from services.gateway.tests.support import gateway, gateway_settings

ROOT = Path(__file__).resolve().parents[4]
ASSETS = ROOT / "tools" / "dashboard-assets"
MANIFEST = STATIC_DIR / "vendor" / "MANIFEST.json"


def test_vendored_files_match_the_manifest_and_the_npm_lock() -> None:
    manifest = json.loads(MANIFEST.read_text())
    lock = json.loads((ASSETS / "package-lock.json").read_text())["packages"]
    pins = json.loads((ASSETS / "package.json").read_text())["dependencies"]
    assert {entry["package"] for entry in manifest.values()} == set(pins)
    for dest, entry in manifest.items():
        path = ROOT / dest
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], f"{dest} changed: run tools/dashboard-assets/refresh.py"
        locked = lock[f"node_modules/{entry['package']}"]["version"]
        assert entry["version"] == locked == pins[entry["package"]], f"{entry['package']}: manifest {entry['version']}, lock {locked}"
    vendored = {str(p.relative_to(ROOT)) for p in (STATIC_DIR / "vendor").rglob("*") if p.is_file() and p.name != "MANIFEST.json"}
    assert vendored <= set(manifest), f"files in vendor/ that the manifest does not know: {vendored - set(manifest)}"


def test_no_page_or_script_loads_anything_from_another_origin() -> None:
    external = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.I)
    for path in [*STATIC_DIR.glob("*.js"), *STATIC_DIR.glob("pages/*.js"), STATIC_DIR / "app.css"]:
        assert not external.search(path.read_text()), path
    assert not re.search(r"https?://", (STATIC_DIR / "docs.js").read_text())
    for page in PAGES:
        assert not external.search(page.body), page.path


async def test_docs_and_static_assets_are_served_locally() -> None:
    async with gateway(gateway_settings()) as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
        assert "cdn" not in docs.text.lower()
        for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/leaflet/leaflet.js", "/static/vendor/utrecht/component-library.css", "/static/app.js"):
            assert (await client.get(asset)).status_code == 200, asset
        boundaries = await client.get("/kaart/grenzen/gemeenten.geojson")
        assert boundaries.status_code == 200 and len(boundaries.json()["features"]) == 342
        assert (await client.get("/kaart/grenzen/wereld.geojson")).status_code == 404
        assert (await client.get("/api/v1/openapi.json")).status_code == 200
