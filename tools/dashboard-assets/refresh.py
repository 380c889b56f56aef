"""Refresh the dashboard's vendored assets from the pinned npm packages (run after changing package.json).

    PATH=.venv/bin:$PATH python tools/dashboard-assets/refresh.py

`npm ci` installs package-lock.json's exact versions here, then the few built files the
dashboard serves are copied into the gateway's static folder (and axe-core beside the
browser tests), with MANIFEST.json recording package, version and sha256 of each. The gateway
needs no node at run time; services/gateway/tests/web/test_assets.py fails when a copied
file no longer matches the manifest or the manifest no longer matches the lock.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATIC = ROOT / "services" / "gateway" / "app" / "web" / "static" / "vendor"
MANIFEST = STATIC / "MANIFEST.json"

# (package, file inside the package, destination relative to the repository)
FILES: tuple[tuple[str, str, str], ...] = (
    ("@utrecht/design-tokens", "dist/index.css", "services/gateway/app/web/static/vendor/utrecht/design-tokens.css"),
    ("@utrecht/component-library-css", "dist/index.css", "services/gateway/app/web/static/vendor/utrecht/component-library.css"),
    ("leaflet", "dist/leaflet.js", "services/gateway/app/web/static/vendor/leaflet/leaflet.js"),
    ("leaflet", "dist/leaflet.css", "services/gateway/app/web/static/vendor/leaflet/leaflet.css"),
    *(
        ("leaflet", f"dist/images/{name}", f"services/gateway/app/web/static/vendor/leaflet/images/{name}")
        for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
    ),
    ("swagger-ui-dist", "swagger-ui-bundle.js", "services/gateway/app/web/static/vendor/swagger-ui/swagger-ui-bundle.js"),
    ("swagger-ui-dist", "swagger-ui.css", "services/gateway/app/web/static/vendor/swagger-ui/swagger-ui.css"),
    ("axe-core", "axe.min.js", "services/gateway/tests/browser/axe.min.js"),  # tests only: not served
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)
    manifest = {}
    for package, source, dest in FILES:
        version = json.loads((HERE / "node_modules" / package / "package.json").read_text())["version"]
        target = ROOT / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "node_modules" / package / source, target)
        manifest[dest] = {"package": package, "version": version, "source": source, "sha256": sha256(target)}
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"{len(manifest)} files vendored; manifest {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
