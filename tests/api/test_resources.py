"""Connections and jobs through the API, over Django's test client."""

from __future__ import annotations

import pytest

from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.models import AuditEvent
from tests.jobs.factories import JobItemFactory

pytestmark = pytest.mark.django_db


def test_connections_list_only_the_keys_organization(api, firm, other_firm):
    answer = api.get("/api/v1/connections")
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [firm.connection.pk]
    assert "access_token" not in answer.content.decode()


def test_a_connections_health_says_whether_it_is_usable(api, firm):
    health = api.get(f"/api/v1/connections/{firm.connection.pk}/health").json()
    assert health["usable"] is True
    assert health["rate_limit"] == {"limit": None, "remaining": None, "reset_at": None}


def test_creating_a_job_validates_the_operations_parameters(api, firm):
    answer = api.post_json(
        "/api/v1/jobs",
        {
            "connection": firm.connection.pk,
            "action": "invoice.send_by_email",
            "selection": {"ids": [1, 2]},
            "parameters": {},
        },
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "unprocessable"
    assert BatchJob.objects.count() == 1  # only the firm's fixture job


def test_creating_a_job_makes_a_draft_without_a_user_and_names_the_key(api, firm):
    answer = api.post_json(
        "/api/v1/jobs",
        {
            "connection": firm.connection.pk,
            "action": "invoice.change_status",
            "selection": {"ids": [7]},
            "parameters": {"status": "S"},
        },
    )
    assert answer.status_code == 201, answer.content
    job = BatchJob.objects.get(pk=answer.json()["id"])
    assert job.user is None
    assert job.organization == firm.organization
    assert answer.json()["status"] == "draft"
    created = AuditEvent.objects.get(action="job.create", object_id=str(job.pk))
    assert created.actor is None
    assert created.actor_label.startswith("pa_live_")


def test_a_job_names_its_counts_and_its_items_page_by_id(api, firm):
    items = [JobItemFactory(job=firm.job, state=state) for state in ("sent", "failed", "sent")]
    job = api.get(f"/api/v1/jobs/{firm.job.pk}").json()
    assert job["counts"]["sent"] == 2
    assert job["counts"]["failed"] == 1
    first = api.get(f"/api/v1/jobs/{firm.job.pk}/items?limit=2").json()
    assert [row["id"] for row in first["results"]] == [items[0].pk, items[1].pk]
    assert first["has_next"] is True
    rest = api.get(f"/api/v1/jobs/{firm.job.pk}/items?after={first['next_after']}").json()
    assert [row["id"] for row in rest["results"]] == [items[2].pk]
    failed = api.get(f"/api/v1/jobs/{firm.job.pk}/items?state=failed").json()
    assert [row["id"] for row in failed["results"]] == [items[1].pk]


def test_jobs_list_filters_by_status(api, firm):
    assert api.get("/api/v1/jobs?status=draft").json()["count"] == 1
    assert api.get("/api/v1/jobs?status=done").json()["count"] == 0


def test_a_control_needs_confirm_true(api, firm):
    answer = api.post_json(f"/api/v1/jobs/{firm.job.pk}/cancel", {"confirm": False})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "confirm_required"
    firm.job.refresh_from_db()
    assert firm.job.status == "draft"


def test_cancelling_a_job_and_then_pausing_it_says_nothing_changed(api, firm):
    cancelled = api.post_json(f"/api/v1/jobs/{firm.job.pk}/cancel", {"confirm": True})
    assert cancelled.status_code == 200
    assert cancelled.json()["job"]["status"] == "cancelled"
    paused = api.post_json(f"/api/v1/jobs/{firm.job.pk}/pause", {"confirm": True})
    assert paused.status_code == 409
    assert paused.json()["error"]["code"] == "job_state"


def test_the_csv_lists_the_items(api, firm):
    JobItemFactory(job=firm.job, document_number="RE-77", state="sent")
    answer = api.get(f"/api/v1/jobs/{firm.job.pk}/csv", HTTP_ACCEPT="text/csv")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert "RE-77" in b"".join(answer.streaming_content).decode()


def test_every_error_has_one_shape_with_the_request_id(api, client):
    answers = [
        client.get("/api/v1/jobs"),  # 401
        api.get("/api/v1/jobs/999999"),  # 404
        api.get("/api/v1/nothing/here"),  # 404 outside any view
        api.delete("/api/v1/jobs"),  # 405
        api.post("/api/v1/jobs", "{not json", content_type="application/json"),  # 400
        api.post_json("/api/v1/jobs", {"action": "nothing"}),  # 400 with fields
    ]
    assert [answer.status_code for answer in answers] == [401, 404, 404, 405, 400, 400]
    for answer in answers:
        error = answer.json()["error"]
        assert set(error) == {"code", "message", "fields", "request_id"}
        assert error["request_id"] == answer["X-Request-Id"]
    assert set(answers[-1].json()["error"]["fields"]) == {"connection", "action"}


def test_the_openapi_document_and_its_docs_need_no_key(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/jobs" in document.json()["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()


def test_a_path_with_a_newline_still_gets_the_json_404(api):
    answer = api.get("/api/v1/jobs/%0A/csv")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
