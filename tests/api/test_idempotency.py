"""Idempotency keys (Stripe's semantics) and the per-key rate limit."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from partnerapp.api.idempotency import idempotency_purge
from partnerapp.api.models import IdempotencyRecord
from partnerapp.jobs.models import BatchJob
from tests.api.conftest import make_firm


def job_body(connection) -> dict:
    return {
        "connection": connection.pk,
        "action": "invoice.change_status",
        "selection": {"ids": [7, 8]},
        "parameters": {"status": "S"},
    }


@pytest.mark.django_db
def test_a_retry_with_the_same_key_and_body_gets_the_first_answer(api, firm):
    headers = {"Idempotency-Key": "erp-order-1"}
    first = api.post_json("/api/v1/jobs", job_body(firm.connection), headers=headers)
    again = api.post_json("/api/v1/jobs", job_body(firm.connection), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert BatchJob.objects.filter(pk=first.json()["id"]).count() == 1
    assert BatchJob.objects.count() == 2  # the fixture's job and this one


@pytest.mark.django_db
def test_the_same_key_with_another_body_answers_422(api, firm):
    headers = {"Idempotency-Key": "erp-order-2"}
    api.post_json("/api/v1/jobs", job_body(firm.connection), headers=headers)
    other = {**job_body(firm.connection), "selection": {"ids": [9]}}
    answer = api.post_json("/api/v1/jobs", other, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "idempotency_mismatch"


@pytest.mark.django_db
def test_a_key_still_in_flight_answers_409(api, firm):
    body = json.dumps(job_body(firm.connection)).encode()
    from partnerapp.api.idempotency import fingerprint, idempotency_claim

    class Posted:  # what the fingerprint reads of a request
        method, path = "POST", "/api/v1/jobs"

    Posted.body = body
    claim = idempotency_claim(
        organization_id=firm.organization.pk, key="erp-order-3", fingerprint=fingerprint(Posted)
    )
    assert claim.won
    answer = api.post(
        "/api/v1/jobs",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "erp-order-3"},
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "idempotency_in_flight"


@pytest.mark.django_db
def test_a_key_abandoned_in_flight_is_taken_over_after_the_lock(api, firm, settings):
    settings.API_IDEMPOTENCY_LOCK_SECONDS = 60
    body = job_body(firm.connection)
    headers = {"Idempotency-Key": "erp-order-4"}
    api.post_json("/api/v1/jobs", body, headers=headers)
    record = IdempotencyRecord.objects.get(key="erp-order-4")
    # as if the process had died mid-request two minutes ago
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=None, created_at=timezone.now() - timedelta(minutes=2)
    )
    answer = api.post_json("/api/v1/jobs", body, headers=headers)
    assert answer.status_code == 201
    assert "Idempotent-Replayed" not in answer


@pytest.mark.django_db
def test_keys_belong_to_one_organization(api, firm):
    other = make_firm("Konkurrenz GmbH", "owner@konkurrenz.example")
    headers = {"Idempotency-Key": "shared-name"}
    from tests.api.conftest import ApiClient

    mine = api.post_json("/api/v1/jobs", job_body(firm.connection), headers=headers)
    theirs = ApiClient(other.write_key).post_json(
        "/api/v1/jobs", job_body(other.connection), headers=headers
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.django_db
def test_expired_records_are_purged(api, firm):
    api.post_json("/api/v1/jobs", job_body(firm.connection), headers={"Idempotency-Key": "old"})
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_purge() == 1
    assert not IdempotencyRecord.objects.exists()


def test_sixteen_concurrent_posts_with_one_key_make_exactly_one_job(live_server, transactional_db):
    firm = make_firm("Treuhand Muster AG", "owner@muster.example")
    url = f"{live_server.url}/api/v1/jobs"
    headers = {"Authorization": f"Bearer {firm.write_key}", "Idempotency-Key": "erp-42"}
    body = job_body(firm.connection)

    def post(_n):
        return requests.post(url, json=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, range(16)))
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    assert len(created) == 1
    assert BatchJob.objects.exclude(pk=firm.job.pk).count() == 1
    replay = requests.post(url, json=body, headers=headers, timeout=30)
    assert replay.status_code == 201
    assert replay.json()["id"] in created


@pytest.mark.django_db
def test_the_rate_limit_answers_429_with_its_headers(api, firm, settings):
    settings.API_RATE_LIMIT = "3/minute"
    answers = [api.get("/api/v1/connections") for _n in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert all(answer["RateLimit-Limit"] == "3" for answer in answers)
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert 0 < int(refused["RateLimit-Reset"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"


@pytest.mark.django_db
def test_each_key_has_its_own_rate_limit(api, read_api, settings):
    settings.API_RATE_LIMIT = "1/minute"
    assert api.get("/api/v1/connections").status_code == 200
    assert api.get("/api/v1/connections").status_code == 429
    assert read_api.get("/api/v1/connections").status_code == 200
