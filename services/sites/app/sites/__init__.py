"""Plots (kavels), including the national garantiekavels: publish, change, withdraw, query."""
