"""Connect links and schedules over the test client; documents and payment imports over
the live server against the sandbox provider."""

from __future__ import annotations

import pytest
import requests

from partnerapp.api.keys import api_key_create
from partnerapp.jobs.models import BatchJob, Schedule
from partnerapp.organizations.models import AuditEvent, Membership
from partnerapp.receivables import services as receivables
from partnerapp.sandbox.models import Payment
from tests.receivables.test_payments import bank_file, open_invoices

SCHEDULE = {
    "name": "Weekly reminders",
    "action": "invoice.change_status",
    "cron": "0 8 * * 1",
    "time_zone": "Europe/Zurich",
    "selection": {"filter": {"status": "DR"}},
    "parameters": {"status": "S"},
}


@pytest.mark.django_db
def test_a_connect_link_is_created_with_its_url_and_read_back_without_it(api, firm, other_firm):
    created = api.post_json(
        "/api/v1/connect-links",
        {"client_name": "Bäckerei Huber", "scopes": ["profile", "invoice"], "language": "de"},
    )
    assert created.status_code == 201, created.content
    link = created.json()
    assert link["url"].startswith("http://testserver/connect/")
    assert link["state"] == "sent"
    read = api.get(f"/api/v1/connect-links/{link['id']}").json()
    assert "url" not in read
    assert read["client_name"] == "Bäckerei Huber"
    assert AuditEvent.objects.get(action="connect_link.create").actor_label.startswith("pa_live_")
    theirs = other_firm.connection.organization.connect_links.count()
    assert theirs == 0


@pytest.mark.django_db
def test_schedules_are_created_changed_and_deleted(api, firm):
    created = api.post_json("/api/v1/schedules", {**SCHEDULE, "connection": firm.connection.pk})
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    schedule = Schedule.objects.get(pk=pk)
    assert schedule.organization == firm.organization
    assert schedule.user is None
    changed = api.patch(
        f"/api/v1/schedules/{pk}", {"cron": "30 17 * * 5"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["cron"] == "30 17 * * 5"
    assert api.get("/api/v1/schedules").json()["count"] == 1
    assert api.delete(f"/api/v1/schedules/{pk}").status_code == 204
    assert not Schedule.objects.filter(pk=pk).exists()


@pytest.mark.django_db
def test_a_schedule_is_checked_like_on_the_site(api, firm, other_firm):
    bad = {
        **SCHEDULE,
        "connection": other_firm.connection.pk,
        "cron": "every day",
        "parameters": {"status": "nonsense"},
    }
    answer = api.post_json("/api/v1/schedules", bad)
    assert answer.status_code == 400
    assert {"connection", "cron"} <= set(answer.json()["error"]["fields"])
    assert not Schedule.objects.exists()


def test_documents_and_a_payment_import_over_the_live_server(connect, partner, sandbox, tmp_path):
    connection = connect()
    owner = Membership.objects.get(organization=connection.organization, user=partner)
    _key, raw = api_key_create(membership=owner, name="ERP", scope="write")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {raw}"
    base = f"{sandbox.url}/api/v1/connections/{connection.pk}"

    drafts = session.get(f"{base}/documents", params={"status": "DR", "limit": 3}, timeout=30)
    assert drafts.status_code == 200, drafts.text
    assert 0 < len(drafts.json()["results"]) <= 3
    assert {doc["status"] for doc in drafts.json()["results"]} == {"DR"}
    first = drafts.json()["results"][0]["id"]
    one = session.get(f"{base}/documents/{first}", timeout=30).json()
    assert one["id"] == first
    assert session.get(f"{base}/documents/999999999", timeout=30).status_code == 404

    Payment.objects.filter(invoice__owner=sandbox.owner).delete()
    open_invoices(sandbox.owner, 4)
    data = bank_file(tmp_path, sandbox.owner, paid=2)
    uploaded = session.post(
        f"{sandbox.url}/api/v1/payment-imports",
        data={"connection": connection.pk},
        files={"file": ("camt054.xml", data, "application/xml")},
        headers={"Idempotency-Key": "bank-file-1"},
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    upload_id = uploaded.json()["id"]
    receivables.upload_match(upload_id=upload_id)  # the worker's part, run here
    review = session.get(f"{sandbox.url}/api/v1/payment-imports/{upload_id}", timeout=30).json()
    assert review["state"] == "ready"
    picks = {
        str(entry["id"]): entry["candidates"][0]["id"]
        for entry in review["entries"]
        if entry["match_status"] == "matched"
    }
    assert len(picks) == 2
    confirmed = session.post(
        f"{sandbox.url}/api/v1/payment-imports/{upload_id}/confirm",
        json={"picks": picks},
        timeout=30,
    )
    assert confirmed.status_code == 201, confirmed.text
    job = BatchJob.objects.get(pk=confirmed.json()["id"])
    assert job.user is None
    assert job.action == "invoice.record_payments" or job.operation.key == job.action
