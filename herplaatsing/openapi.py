"""The three services' own OpenAPI documents, from which `herplaatsing openapi` composes docs/openapi.json.

The runner may import the services (the gateway imports none): this builds each service's
app (no database is connected for that) and hands its `openapi()` to the gateway's composer
(services/gateway/app/openapi).
"""

from __future__ import annotations

from typing import Any


def service_documents() -> dict[str, dict[str, Any]]:
    from services.inventory.app.config import InventorySettings
    from services.inventory.app.main import create_app as inventory_app
    from services.matching.app.config import MatchingSettings
    from services.matching.app.main import create_app as matching_app
    from services.sites.app.config import SitesSettings
    from services.sites.app.main import create_app as sites_app

    unused = {"environment": "test", "log_json": False, "database_url": "postgresql://postgres@127.0.0.1:5432/unused"}
    return {
        "inventory": inventory_app(InventorySettings(**unused)).openapi(),
        "sites": sites_app(SitesSettings(**unused)).openapi(),
        "matching": matching_app(MatchingSettings(**unused)).openapi(),
    }
