"""Assistance requests: intake, the city's own list, privacy screening."""
