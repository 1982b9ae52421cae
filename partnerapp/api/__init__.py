"""The partner API (/api/v1/): API keys, idempotency keys and the resources partners drive."""
