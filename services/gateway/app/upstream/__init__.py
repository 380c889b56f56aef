"""The gateway's calls to the inventory, sites and matching services."""

from services.gateway.app.upstream.client import (
    SERVICES,
    Service,
    UpstreamProblem,
    Upstreams,
    UpstreamUnavailable,
    forward,
    upstreams_of,
)

__all__ = ["SERVICES", "Service", "UpstreamProblem", "UpstreamUnavailable", "Upstreams", "forward", "upstreams_of"]
