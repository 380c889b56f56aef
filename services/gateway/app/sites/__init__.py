"""Plots (kavels), incl. the national garantiekavels: forwarded to the sites service."""
