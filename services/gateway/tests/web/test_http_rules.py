"""NLGov rules the linter cannot see, on the gateway: headers, slashes, HEAD, CORS, the changelog."""

from __future__ import annotations

import json
import re
from pathlib import Path

from services.gateway.tests.support import bearer, gateway
from shared.domain import Role
from shared.web.app import API_VERSION

ROOT = Path(__file__).parents[4]


async def test_security_headers_slashes_and_head_on_the_gateway(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make(cors_origins="https://portal.example.nl")
    investor = bearer(settings, Role.investor, "wc-woonbron")
    async with gateway(settings) as client:
        forwarded = await client.get("/api/v1/proposals", headers=investor)
        assert forwarded.status_code == 200
        for name, value in (("Cache-Control", "no-store"), ("Content-Security-Policy", "frame-ancestors 'none'"),
                            ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")):
            assert forwarded.headers[name] == value, name
        assert "max-age=" in forwarded.headers["Strict-Transport-Security"]

        page = await client.get("/aanmelden")  # a dashboard page keeps its fuller policy
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"

        slash = await client.get("/api/v1/proposals/", headers=investor)
        assert slash.status_code == 404 and "location" not in slash.headers

        head = await client.head("/api/v1/proposals", headers=investor)
        assert head.status_code == 200 and head.content == b"" and head.headers["API-Version"] == API_VERSION
        assert (await client.head("/api/v1/no-such-resource")).status_code == 404

        doc = await client.get("/api/v1/openapi.json", headers={"Origin": "https://anyone.example"})
        assert doc.headers["Access-Control-Allow-Origin"] == "*"
        preflight = await client.options("/api/v1/complexes", headers={
            "Origin": "https://portal.example.nl", "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "https://portal.example.nl"


async def test_changelog_is_semver_linked_from_the_openapi_info_and_served(echo_upstream) -> None:
    _, _, make = echo_upstream
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## (\d+\.\d+\.\d+)\b", changelog, flags=re.M)
    assert versions and versions[0] == API_VERSION  # the newest entry is the version that answers
    info = json.loads((ROOT / "docs/openapi.json").read_text(encoding="utf-8"))["info"]
    assert info["version"] == API_VERSION and "(/changelog)" in info["description"]
    async with gateway(make()) as client:
        served = await client.get("/changelog")
        assert served.status_code == 200 and served.text == changelog
        assert served.headers["content-type"].startswith("text/markdown")


def test_the_document_states_page_links_etags_and_the_412() -> None:
    paths = json.loads((ROOT / "docs/openapi.json").read_text(encoding="utf-8"))["paths"]
    for path in ("/sites", "/complexes", "/placements", "/proposals", "/municipalities"):
        assert "Link" in paths[path]["get"]["responses"]["200"]["headers"], path
    plot = paths["/sites/{id}"]
    assert "ETag" in plot["get"]["responses"]["200"]["headers"] and "ETag" in plot["patch"]["responses"]["200"]["headers"]
    assert "412" in plot["patch"]["responses"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in plot["patch"]["parameters"])
