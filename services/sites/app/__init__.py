"""The sites service: municipalities, plots (kavels) including the national garantiekavels, availability windows and capacity reservations."""
