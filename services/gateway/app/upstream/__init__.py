"""The gateway's calls to the inventory, sites and matching services."""

from services.gateway.app.upstream.client import *  # noqa: F403 - the package is its client module
from services.gateway.app.upstream.client import __all__  # noqa: F401
