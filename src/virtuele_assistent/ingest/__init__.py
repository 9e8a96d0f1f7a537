"""Ingestion: one fetched file -> extracted -> chunked -> embedded -> indexed (SQL + vectors)."""
