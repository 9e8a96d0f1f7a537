"""Answering: understand -> retrieve -> select -> compose -> verify -> respond."""
