"""The invoice page (issue 13): the invoice as the sandbox serves it over HTTP, its preview
image passed through, the history of the viewer's own jobs, the actions, and the
provider's refusals as sentences."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partnerapp.jobs.models import JobItem
from partnerapp.sandbox.models import Invoice
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_reminders import overdue, reminder_job, run

pytestmark = pytest.mark.django_db(transaction=True)


def page_url(connection, invoice_id: int) -> str:
    return reverse("dashboard:invoice", args=[connection.pk, invoice_id])


def preview_url(connection, invoice_id: int) -> str:
    return reverse("dashboard:invoice_preview", args=[connection.pk, invoice_id])


def section(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"')[1]


def test_the_page_shows_the_invoice_header_and_positions(client, connect, partner, sandbox):
    invoice = sandbox.owner.invoices.filter(contact__email__contains="@").order_by("pk").first()
    Invoice.objects.filter(pk=invoice.pk).update(
        status="R1", total=4347.80, total_paid=1000, language="fr"
    )
    invoice.refresh_from_db()
    connection = connect()
    client.force_login(partner)

    response = client.get(page_url(connection, invoice.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert invoice.number in section(html, "invoice-number").split("</span>")[0]
    assert "1st reminder" in section(html, "invoice-status").split("</span>")[0]
    assert invoice.contact.name in section(html, "invoice-contact").split("</dd>")[0]
    assert invoice.date.strftime("%d.%m.%Y") in section(html, "invoice-date").split("</dd>")[0]
    assert invoice.due.strftime("%d.%m.%Y") in section(html, "invoice-due").split("</dd>")[0]
    assert "4&#x27;347.80" in section(html, "invoice-total").split("</dd>")[0]
    assert "1&#x27;000.00" in section(html, "invoice-paid").split("</dd>")[0]
    assert "3&#x27;347.80" in section(html, "invoice-open").split("</dd>")[0]
    assert "fr" in section(html, "invoice-language").split("</dd>")[0]
    positions = section(html, "invoice-positions").split("</table>")[0]
    assert positions.count('data-testid="position-row"') == len(invoice.positions) > 0
    for position in invoice.positions:
        assert position["name"] in positions
    assert 'class="num"' in positions
    assert f'src="{preview_url(connection, invoice.pk)}"' in html
    assert 'alt="First page of invoice' in html


def test_the_actions_open_the_wizard_with_this_invoice_ticked(client, connect, partner, sandbox):
    invoice_id = sandbox.owner.invoices.order_by("pk").first().pk
    connection = connect()
    client.force_login(partner)
    html = client.get(page_url(connection, invoice_id)).content.decode()
    actions = section(html, "invoice-actions").split("</form>")[0]
    for key in ("invoice.send_by_email", "invoice.send_reminders", "invoice.archive_pdfs"):
        assert f'value="{key}"' in actions
    assert f'name="ids" value="{invoice_id}"' in actions

    wizard = client.post(
        reverse("dashboard:job_new", args=[connection.pk]),
        {"from_browser": "1", "ids": str(invoice_id), "action": "invoice.send_reminders"},
    )

    assert wizard.status_code == 200
    assert f'value="{invoice_id}"' in wizard.content.decode()


def test_the_invoices_browser_links_each_number_to_its_page(client, connect, partner, sandbox):
    connection = connect()
    client.force_login(partner)
    html = client.get(reverse("dashboard:invoices", args=[connection.pk])).content.decode()
    first = sandbox.owner.invoices.order_by("-number").first()
    assert f'href="{page_url(connection, first.pk)}"' in html


def test_the_history_lists_my_jobs_on_this_account_only(
    client, connect, partner, outsider, sandbox
):
    [invoice_id] = overdue(sandbox.owner, 1)
    mine = connect()
    job = run(reminder_job(partner, mine, [invoice_id]))
    item = job.items.get(document_id=invoice_id)
    assert item.state == JobItem.State.SENT and item.request_id
    theirs = connect(user=outsider)  # the same provider account, another partnerapp user
    JobItemFactory(job=JobFactory(connection=theirs), document_id=invoice_id, request_id="theirs")
    elsewhere = ConnectionFactory(user=partner)  # my job on another provider account
    JobItemFactory(
        job=JobFactory(connection=elsewhere), document_id=invoice_id, request_id="elsewhere"
    )
    client.force_login(partner)

    html = client.get(page_url(mine, invoice_id)).content.decode()

    history = section(html, "invoice-history")
    assert history.count('data-testid="history-row"') == 1
    assert f'href="{reverse("dashboard:job", args=[job.pk])}"' in history
    assert job.operation.label in history
    assert item.get_state_display() in history and item.request_id in history
    assert item.finished_at.astimezone().strftime("%d.%m.%Y") in history
    assert "theirs" not in history and "elsewhere" not in history


def test_the_history_is_one_query(client, connect, partner, sandbox, django_assert_num_queries):
    from partnerapp.dashboard.selectors import invoice_history

    connection = connect()
    for _ in range(3):
        JobItemFactory(job=JobFactory(connection=connection), document_id=42)
    with django_assert_num_queries(1):
        items = invoice_history(connection, 42, organization=connection.organization_id)
        labels = [item.job.operation.label for item in items]
    assert len(labels) == 3


def test_another_user_gets_404_for_my_invoice_page_and_preview(client, connect, outsider, sandbox):
    invoice_id = sandbox.owner.invoices.order_by("pk").first().pk
    connection = connect()
    client.force_login(outsider)
    assert client.get(page_url(connection, invoice_id)).status_code == 404
    assert client.get(preview_url(connection, invoice_id)).status_code == 404


def test_a_missing_invoice_says_it_no_longer_exists(client, connect, partner, sandbox):
    invoice = sandbox.owner.invoices.order_by("pk").first()
    connection = connect()
    invoice_id = invoice.pk
    invoice.delete()
    client.force_login(partner)

    response = client.get(page_url(connection, invoice_id))

    assert response.status_code == 404
    assert "This invoice no longer exists." in section(response.content.decode(), "invoice-problem")
    assert client.get(preview_url(connection, invoice_id)).status_code == 404


def test_a_revoked_grant_shows_the_reconnect_prompt(client, connect, partner, sandbox):
    connection = connect()
    connection.status = connection.Status.NEEDS_REAUTH
    connection.save(update_fields=["status"])
    client.force_login(partner)

    response = client.get(page_url(connection, 1))

    assert response.status_code == 200
    problem = section(response.content.decode(), "invoice-problem")
    assert reverse("connections:reconnect", args=[connection.pk]) in problem


def test_the_preview_passes_the_providers_image_through(client, connect, partner, sandbox):
    invoice_id = sandbox.owner.invoices.order_by("pk").first().pk
    connection = connect()
    client.force_login(partner)

    response = client.get(preview_url(connection, invoice_id))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert connection.access_token not in response.content.decode("latin-1")


def test_the_pdf_passes_the_providers_document_through(client, connect, partner, sandbox):
    invoice_id = sandbox.owner.invoices.order_by("pk").first().pk
    connection = connect()
    client.force_login(partner)
    pdf_url = reverse("dashboard:invoice_pdf", args=[connection.pk, invoice_id])
    assert f'href="{pdf_url}"' in client.get(page_url(connection, invoice_id)).content.decode()

    response = client.get(pdf_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="invoice-{invoice_id}.pdf"'
    assert response.content.startswith(b"%PDF")


def test_another_user_gets_404_for_my_invoices_pdf(client, connect, outsider, sandbox):
    invoice = sandbox.owner.invoices.order_by("pk").first()
    connection = connect()
    client.force_login(outsider)
    pdf_url = reverse("dashboard:invoice_pdf", args=[connection.pk, invoice.pk])
    assert client.get(pdf_url).status_code == 404
