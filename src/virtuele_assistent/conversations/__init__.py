"""Conversations: sessions, memory, safety, privacy, feedback and handover."""
