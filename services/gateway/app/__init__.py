"""The gateway: identities and tokens, the public API (/api/v1), dashboard aggregation."""
