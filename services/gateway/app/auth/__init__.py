"""Who is calling the public API: bearer JWTs, roles, and the rate limit per caller."""

from services.gateway.app.auth.dependencies import (
    Authenticated,
    Caller,
    ComplexOwner,
    Marktmeester,
    authenticated,
    optional_principal,
    require_roles,
)

__all__ = ["Authenticated", "Caller", "ComplexOwner", "Marktmeester", "authenticated", "optional_principal", "require_roles"]
