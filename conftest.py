"""Test-run wide: ENVIRONMENT has no default (shared/config.py), so the suite names its own."""

import os

os.environ.setdefault("ENVIRONMENT", "test")
