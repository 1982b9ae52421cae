"""A client library for the SmartBusiness REST API v2. Knows nothing of partnerapp's models."""
