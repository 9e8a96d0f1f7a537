"""Quality monitoring: evaluation sets, runners and metrics."""
