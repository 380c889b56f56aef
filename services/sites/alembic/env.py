"""Alembic environment of the sites service."""

from shared.migrations import run_env

run_env("services.sites.app.models")
