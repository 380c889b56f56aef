"""Capacity reservations made when a relocation proposal is accepted by every party."""
