"""Placements of complexes on plots with their permit terms: forwarded to inventory."""
