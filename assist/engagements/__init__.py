"""Engagements between a request and an expert organisation; for now, the expert ranking."""
