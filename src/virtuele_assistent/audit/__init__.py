"""The audit log as staff read it: who changed what, when, at which municipality; export; the chain check."""
