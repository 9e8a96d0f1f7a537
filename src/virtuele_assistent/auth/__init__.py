"""Who is calling: anonymous resident sessions (per tenant) and staff users with roles."""
