from hypothesis import HealthCheck, settings

# Moderate example counts keep `make test` quick; DB and HTTP tests need no deadline.
settings.register_profile(
    "partnerapp",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("partnerapp")
