"""Municipalities (gemeenten): the CBS reference list, served read-only."""
