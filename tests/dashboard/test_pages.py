"""Dashboard pages: access rules, the invoice browser and job creation, bad input."""

import re

import pytest
from django.urls import reverse

from partnerapp.connections.services import connection_call
from partnerapp.jobs.models import BatchJob
from partnerapp.sandbox.models import Grant
from partnerapp.sandbox.services import grant_revoke
from partnerapp.smartbusiness.errors import NotFound
from tests.jobs.factories import ConnectionFactory, JobFactory


def still_selected(html: str, invoice_id) -> bool:
    """Carried by the wizard in a hidden field."""
    return bool(re.search(rf'type="hidden" name="ids" value="{invoice_id}"', html))


def test_anonymous_visitors_see_the_landing_page(client, db):
    response = client.get("/")
    assert response.status_code == 200 and b"Sign up" in response.content


@pytest.mark.parametrize("name", ["dashboard:jobs", "connections:connect"])
def test_pages_need_a_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_outsider_sees_none_of_the_partners_objects(client, partner, outsider):
    connection = ConnectionFactory(user=partner)
    job = JobFactory(connection=connection)
    client.force_login(outsider)
    gets = [
        reverse("dashboard:connection", args=[connection.pk]),
        reverse("dashboard:invoices", args=[connection.pk]),
        reverse("dashboard:job", args=[job.pk]),
        reverse("dashboard:job_progress", args=[job.pk]),
    ]
    posts = [
        reverse("connections:reconnect", args=[connection.pk]),
        reverse("connections:disconnect", args=[connection.pk]),
    ]
    assert [client.get(url).status_code for url in gets] == [404] * 4
    assert [client.post(url).status_code for url in posts] == [404] * 2


def test_the_overview_lists_only_my_connections(client, partner, outsider):
    ConnectionFactory(user=partner, owner_name="Mine AG")
    ConnectionFactory(user=outsider, owner_name="Theirs GmbH")
    client.force_login(partner)
    page = client.get("/").content.decode()
    assert "Mine AG" in page and "Theirs GmbH" not in page


def test_the_invoice_browser_pages_through_the_api(client, connect, partner, sandbox):
    connection = connect()
    client.force_login(partner)
    url = reverse("dashboard:invoices", args=[connection.pk])
    page = client.get(url, {"status": "DR"})
    drafts = sandbox.owner.invoices.filter(status="DR")
    assert page.status_code == 200
    assert page.content.decode().count('name="ids" value=') == min(25, drafts.count())
    assert f"{drafts.count()} invoices" in page.content.decode()


def test_an_empty_subject_is_refused_and_the_selection_kept(client, connect, partner, sandbox):
    connection = connect()
    client.force_login(partner)
    chosen = sandbox.drafts_with_email(2)
    url = reverse("dashboard:job_new", args=[connection.pk])
    data = {"action": "invoice.send_by_email", "selection": "ids", "recipients": "contact"}
    page = client.post(url, {**data, "ids": chosen, "subject": "", "body": "Hello"})
    html = page.content.decode()
    assert page.status_code == 400 and "This field is required" in html
    assert all(still_selected(html, i) for i in chosen)
    assert not BatchJob.objects.exists()


def test_no_selection_is_refused(client, connect, partner):
    connection = connect()
    client.force_login(partner)
    url = reverse("dashboard:job_new", args=[connection.pk])
    data = {"action": "invoice.send_by_email", "selection": "ids", "recipients": "contact"}
    page = client.post(url, {**data, "subject": "S", "body": "B"})
    assert page.status_code == 400 and "No documents are ticked" in page.content.decode()


def test_a_revoked_grant_is_explained_on_the_invoice_page(client, connect, partner, sandbox):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    client.force_login(partner)
    page = client.get(reverse("dashboard:invoices", args=[connection.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "must connect the account again" in html
    assert "Reconnect" in html


def test_a_refused_form_keeps_the_ticked_boxes(client, connect, partner):
    connection = connect()
    client.force_login(partner)
    url = reverse("dashboard:invoices", args=[connection.pk]) + "?status=DR"
    shown = re.findall(r'name="ids" value="(\d+)"', client.get(url).content.decode())[:2]
    wizard = reverse("dashboard:job_new", args=[connection.pk])
    data = {"action": "invoice.send_by_email", "selection": "ids", "recipients": "contact"}
    html = client.post(wizard, {**data, "ids": shown, "subject": "", "body": "B"}).content.decode()
    assert all(still_selected(html, i) for i in shown)
    assert re.search(r'value="ids"[^>]*checked', html)


def test_the_request_log_lists_every_call_with_filters(client, connect, partner):
    connection = connect()
    client.force_login(partner)
    client.get(reverse("dashboard:invoices", args=[connection.pk]))
    with pytest.raises(NotFound):
        connection_call(connection, lambda api: api.invoice(999999))
    ok, missing = connection.calls.get(status=200), connection.calls.get(status=404)
    url = reverse("dashboard:request_log", args=[connection.pk])

    def rows(**params) -> str:
        html = client.get(url, params).content.decode()
        return html, html.count('data-testid="log-row"')

    everything, count = rows()
    assert count == 2 and "GET /receivables/invoices" in everything
    assert ok.request_id in everything and missing.request_id in everything
    assert rows(request_id=missing.request_id[:8])[1] == 1
    assert rows(status="4xx")[1] == 1 and rows(status="2xx")[1] == 1
    assert rows(status="5xx")[1] == 0


def test_an_outsider_cannot_read_the_request_log(client, connect, outsider):
    connection = connect()
    client.force_login(outsider)
    assert client.get(reverse("dashboard:request_log", args=[connection.pk])).status_code == 404
