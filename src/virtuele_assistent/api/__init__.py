"""HTTP API: app factory, one router per resource, problem-JSON errors."""
