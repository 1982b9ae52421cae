"""Fuzzing the sandbox over real HTTP with schemathesis: no input makes it answer 5xx.

Every operation of the sandbox's own OpenAPI schema gets generated requests —
valid ones and, in schemathesis' negative mode, invalid ones — with a token that
holds every scope. The only check is the one that matters for a provider stand-in:
bad input gets a 4xx with the provider's error body, never a server error.
"""

from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from partnerapp.sandbox.models import SCOPES, Client

SCHEMA = Path(__file__).resolve().parents[2] / "partnerapp" / "sandbox" / "openapi.yaml"
schema = schemathesis.openapi.from_path(str(SCHEMA))


@pytest.fixture
def fuzz_session(sandbox):
    """A session with a client-credentials token of the seeded owner, every scope granted."""
    Client.objects.filter(client_id="fuzzer").delete()
    from partnerapp.sandbox.services import client_register

    client = client_register(
        client_id="fuzzer", secret="fuzz-secret", name="fuzzer", redirect_uris=[], scopes=None
    )
    client.owner = sandbox.owner
    client.save(update_fields=["owner"])
    token = requests.post(
        f"{sandbox.api}/auth/access-tokens",
        timeout=30,
        json={
            "grant_type": "client_credentials",
            "client_id": "fuzzer",
            "client_secret": "fuzz-secret",
            "scope": " ".join(SCOPES),
        },
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_sandbox_fail(case, sandbox, fuzz_session):
    response = case.call(base_url=sandbox.url + "/sandbox/v2", session=fuzz_session, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
    )
