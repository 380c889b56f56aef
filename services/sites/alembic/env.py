"""Alembic environment of the sites service."""

from herplaatsing.migrations import run_env

run_env("services.sites.app.models")
