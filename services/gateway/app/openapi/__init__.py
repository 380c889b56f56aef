"""The public OpenAPI document (NLGov API Design Rules)."""

from services.gateway.app.openapi.document import build_openapi, install_openapi

__all__ = ["build_openapi", "install_openapi"]
