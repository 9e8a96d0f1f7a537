"""Municipalities: slug, tone, contact routes, allowed widget origins."""
