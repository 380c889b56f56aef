"""Free-form JSON shapes for resources whose owning service has not published typed schemas.

The gateway forwards these bodies unchanged; the owning service validates them. Each
domain's schemas.py swaps in the service's own pydantic models once they exist.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, RootModel


class JsonObject(RootModel[dict[str, Any]]):
    """A JSON object; the owning service defines and validates its fields."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "0b9b6a3e-8d0c-4a8e-9f43-0f2b1c7d5e11"}]})


def resource(name: str, doc: str, example: dict[str, Any]) -> type[JsonObject]:
    """A named free-form resource schema with an example (shows up as `name` in the OpenAPI)."""
    return type(name, (JsonObject,), {"__doc__": doc, "model_config": ConfigDict(json_schema_extra={"examples": [example]}), "__module__": __name__})
