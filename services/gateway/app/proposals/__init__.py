"""Relocation proposals and their two-party acceptance: forwarded to matching."""
