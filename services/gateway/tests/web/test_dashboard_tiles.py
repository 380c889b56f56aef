"""The maps' optional tile layer: in the page's config and the CSP only when a tile URL is configured."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.gateway.tests.support import gateway, gateway_settings

TILES = "https://{s}.tiles.example.nl/brt/{z}/{x}/{y}.png"


async def kaart(**overrides: object) -> tuple[str, str]:
    async with gateway(gateway_settings(environment="development", **overrides)) as client:
        await client.post("/aanmelden", data={"role": "marktmeester", "org": ""})
        page = await client.get("/kaart")
        assert page.status_code == 200
        return page.text, page.headers["content-security-policy"]


async def test_without_a_tile_url_the_maps_draw_boundaries_only_and_images_stay_same_origin() -> None:
    html, csp = await kaart()
    assert "data-tile-url" not in html
    assert "img-src 'self' data:;" in csp


async def test_a_configured_tile_url_is_in_the_page_config_and_its_origin_in_img_src() -> None:
    html, csp = await kaart(dashboard_tile_url=TILES, dashboard_tile_attribution="Kaart: PDOK")
    assert f'data-tile-url="{TILES}"' in html and 'data-tile-attribution="Kaart: PDOK"' in html
    assert "img-src 'self' data: https://*.tiles.example.nl;" in csp
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp  # only images may come from there


def test_a_tile_url_must_be_an_absolute_http_url() -> None:
    with pytest.raises(ValidationError):
        gateway_settings(environment="development", dashboard_tile_url="javascript:alert(1)")
    assert gateway_settings(environment="development", dashboard_tile_url="").dashboard_tile_url is None
