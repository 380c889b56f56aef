"""Alembic environment of the matching service."""

from herplaatsing.migrations import run_env

run_env("services.matching.app.models")
