"""Complexes (batches of identical flexwoningen) and their units: forwarded to inventory."""
