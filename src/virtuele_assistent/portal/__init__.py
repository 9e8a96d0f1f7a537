"""The staff portal at /beheer: server-rendered pages over the same services as the API."""
