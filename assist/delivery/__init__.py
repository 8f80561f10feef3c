"""Delivery: planned and delivered activities, the city's confirmation and rating, follow-up."""
