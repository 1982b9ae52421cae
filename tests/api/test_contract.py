"""The contract test: schemathesis reads the OpenAPI document the live server serves
and sends generated requests (valid and invalid) to every operation with a write key.
No answer may be a server error, and every answer must be one the document declares,
with that status, content type, headers and body schema."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import make_firm
from tests.jobs.factories import JobItemFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def served_document() -> dict:
    """The document as /api/v1/openapi.json serves it (read through the test client at
    collection, when no live server runs yet; generating it touches no database)."""
    answer = Client(HTTP_HOST="localhost").get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.json()


schema = schemathesis.openapi.from_dict(served_document())


@pytest.fixture
def key_session(live_server, transactional_db, settings):
    """A session with a write key of a firm that has a connection, a job and its items."""
    firm = make_firm("Treuhand Muster AG", "owner@muster.example")
    JobItemFactory(job=firm.job, state="failed")
    settings.API_RATE_LIMIT = "100000/minute"  # the fuzzer is no abuse to limit
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {firm.write_key}"
    return session


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_conforms_to_the_served_document(case, key_session, live_server):
    case.call_and_validate(base_url=live_server.url, session=key_session, timeout=30, checks=CHECKS)
