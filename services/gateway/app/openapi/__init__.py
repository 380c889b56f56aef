"""The public OpenAPI document (NLGov API Design Rules), composed from the services' own."""

from services.gateway.app.openapi.document import compose
from services.gateway.app.openapi.public import DOCUMENT_PATH, install_openapi, public_document, render, write

__all__ = ["DOCUMENT_PATH", "compose", "install_openapi", "public_document", "render", "write"]
