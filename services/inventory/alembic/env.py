"""Alembic environment of the inventory service."""

from herplaatsing.migrations import run_env

run_env("services.inventory.app.models")
