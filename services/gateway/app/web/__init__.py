"""The dashboard web application served by the gateway: pages, static assets, session sign-in, /docs."""

from services.gateway.app.web.install import install_web

__all__ = ["install_web"]
