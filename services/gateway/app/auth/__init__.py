"""Who is calling the public API: bearer JWTs, roles, and the rate limit per caller."""

from services.gateway.app.auth.dependencies import authorize, requires

__all__ = ["authorize", "requires"]
