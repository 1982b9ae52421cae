"""A job's name through the partner API (issue 13): every job answers its name, a create
may give one (else partnerapp makes it), and PATCH renames — with write keys only."""

from __future__ import annotations

from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.models import AuditEvent

CREATE = {"action": "invoice.change_status", "parameters": {"status": "S"}}


def test_a_created_job_gets_the_name_given_or_a_made_one(api, firm):
    given = api.post_json(
        "/api/v1/jobs",
        {**CREATE, "connection": firm.connection.pk, "selection": {"ids": [7]}, "name": "ERP 42"},
    )
    assert given.status_code == 201, given.content
    assert given.json()["name"] == "ERP 42" == BatchJob.objects.get(pk=given.json()["id"]).name
    made = api.post_json(
        "/api/v1/jobs",
        {**CREATE, "connection": firm.connection.pk, "selection": {"filter": {"status": "DR"}}},
    )
    assert made.json()["name"] == "Status change of invoices — Draft"


def test_a_name_too_long_is_refused_and_nothing_is_created(api, firm):
    answer = api.post_json(
        "/api/v1/jobs",
        {**CREATE, "connection": firm.connection.pk, "selection": {"ids": [7]}, "name": "x" * 201},
    )
    assert answer.status_code == 400
    assert "name" in answer.json()["error"]["fields"]
    assert BatchJob.objects.count() == 1  # only the firm's fixture job


def test_patch_renames_the_job_and_the_audit_log_names_the_key(api, firm):
    answer = api.patch(
        f"/api/v1/jobs/{firm.job.pk}", {"name": "Dezember"}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["name"] == "Dezember"
    assert api.get(f"/api/v1/jobs/{firm.job.pk}").json()["name"] == "Dezember"
    event = AuditEvent.objects.get(action="job.rename", object_id=str(firm.job.pk))
    assert event.after == {"name": "Dezember"} and event.actor_label.startswith("pa_live_")


def test_patch_refuses_a_long_name_a_read_key_and_another_firms_job(
    api, read_api, firm, other_firm
):
    path = f"/api/v1/jobs/{firm.job.pk}"
    long = api.patch(path, {"name": "x" * 201}, content_type="application/json")
    assert long.status_code == 400 and "name" in long.json()["error"]["fields"]
    read = read_api.patch(path, {"name": "Meins"}, content_type="application/json")
    assert read.status_code == 403
    other = api.patch(
        f"/api/v1/jobs/{other_firm.job.pk}", {"name": "Meins"}, content_type="application/json"
    )
    assert other.status_code == 404
    firm.job.refresh_from_db()
    other_firm.job.refresh_from_db()
    assert firm.job.name == other_firm.job.name == ""
