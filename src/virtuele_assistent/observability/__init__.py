"""Structured JSON logging (and, later, metrics)."""
