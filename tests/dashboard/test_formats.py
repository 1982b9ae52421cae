"""Swiss formats, status badges, the favicon and a lost connection's pages (issue 13).

Against the sandbox over real HTTP: the invoices shown are the provider's own answer.
"""

import html as html_text
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from partnerapp.connections.services import connection_call, connection_disconnect
from partnerapp.sandbox.models import Grant
from partnerapp.sandbox.services import grant_revoke
from partnerapp.smartbusiness.placeholders import swiss_amount
from partnerapp.smartbusiness.vocabulary import status_label

AMOUNT_CELL = re.compile(r'data-testid="invoice-total-amount">([^<]*)</td>')
BADGE = re.compile(r'<span class="badge" title="(\w+)" data-status="(\w+)">([^<]*)</span>')
GAUGE = re.compile(r'data-testid="rate-gauge">\s*<meter')
RECONNECT_FORM = 'action="/connections/{pk}/reconnect/"'


def invoices_page(client, connection, **params) -> str:
    response = client.get(reverse("dashboard:invoices", args=[connection.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_amounts_read_as_swiss_francs_right_aligned(client, connect, partner):
    connection = connect()
    client.force_login(partner)
    html = invoices_page(client, connection, per_page=100)
    listed = connection_call(connection, lambda api: api.invoices(limit=100, sort="-number"))
    expected = [
        f"{invoice['currency']} {swiss_amount(invoice['total'])}" for invoice in listed.items
    ]
    assert [html_text.unescape(cell) for cell in AMOUNT_CELL.findall(html)] == expected
    assert any("'" in amount for amount in expected), "the sandbox seeds an amount ≥ 1'000"
    assert all(re.fullmatch(r"[A-Z]{3} \d{1,3}('\d{3})*\.\d{2}", amount) for amount in expected)
    assert '<td class="small num" data-testid="invoice-total-amount">' in html
    assert '<th class="num">Total</th>' in html


def test_invoice_dates_read_as_swiss_days_on_one_line(client, connect, partner):
    """The provider's "2026-12-03" is 03.12.2026 in the table, in a cell that never wraps."""
    connection = connect()
    client.force_login(partner)
    html = invoices_page(client, connection, per_page=100)
    listed = connection_call(connection, lambda api: api.invoices(limit=100, sort="-number"))
    first = listed.items[0]
    year, month, day = str(first["date"])[:10].split("-")
    assert f'<td class="small wide-only day">{day}.{month}.{year}</td>' in html
    assert not re.search(r"<td[^>]*>\d{4}-\d{2}-\d{2}</td>", html)


def test_statuses_show_as_words_in_coloured_badges(client, connect, partner, sandbox):
    connection = connect()
    client.force_login(partner)
    badges = BADGE.findall(invoices_page(client, connection, per_page=100))
    codes = set(sandbox.owner.invoices.values_list("status", flat=True))
    assert {code for _title, code, _word in badges} == codes - {"D"}
    assert len(codes - {"D"}) > 1, "the sandbox seeds invoices in several statuses"
    for title, code, word in badges:
        assert title == code and word == status_label(code) and word != code
    stylesheet = finders.find("css/app.css")
    with open(stylesheet, encoding="utf-8") as file:
        css = file.read()
    for code in ("DR", "S", "P", "PP", "R1", "R2", "R3", "DC", "C"):
        assert f':is(.badge, .chip)[data-status="{code}"]' in css  # table badge and phone chip


def test_the_favicon_is_linked_and_served(client, db):
    landing = client.get("/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', landing)
    assert icon and icon.group(1).endswith(".svg")
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 302 and redirect["Location"] == icon.group(1)
    with open(finders.find("favicon.svg"), encoding="utf-8") as file:
        svg = file.read()
    assert svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_a_disconnected_accounts_pages_say_so_and_offer_reconnect(client, connect, partner):
    connection = connect()
    connection_disconnect(connection)
    client.force_login(partner)
    pages = {
        "invoices": invoices_page(client, connection),
        "bank files": client.get(reverse("dashboard:bank_files", args=[connection.pk])),
        "request log": client.get(reverse("dashboard:request_log", args=[connection.pk])),
        "connection": client.get(reverse("dashboard:connection", args=[connection.pk])),
    }
    for name, page in pages.items():
        html = page if isinstance(page, str) else page.content.decode()
        assert 'data-testid="alert-disconnected"' in html, name
        assert "partnerapp holds no tokens for it" in html, name
        assert RECONNECT_FORM.format(pk=connection.pk) in html, name
    assert 'data-testid="bank-upload"' not in pages["bank files"].content.decode()
    assert 'data-testid="invoice-row"' not in pages["invoices"]


def test_a_disconnected_account_shows_no_rate_gauge(client, connect, partner):
    connection = connect()
    connection_call(connection, lambda api: api.invoices(limit=1))  # the budget is now known
    client.force_login(partner)
    page_url = reverse("dashboard:connection", args=[connection.pk])
    assert GAUGE.search(client.get("/").content.decode())
    assert GAUGE.search(client.get(page_url).content.decode())
    connection_disconnect(connection)
    overview = client.get("/").content.decode()
    page = client.get(page_url).content.decode()
    assert connection.owner_name in overview
    assert 'data-testid="rate-gauge"' not in overview
    assert 'data-testid="rate-gauge"' not in page and "Rate limit</dt>" not in page


def test_a_revoked_grant_says_why_and_offers_reconnect_on_every_page(
    client, connect, partner, sandbox
):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    client.force_login(partner)
    invoices = invoices_page(client, connection)  # the call finds the grant revoked
    connection.refresh_from_db()
    assert connection.status == "needs_reauth"
    bank_files = client.get(reverse("dashboard:bank_files", args=[connection.pk]))
    for html in (invoices, bank_files.content.decode()):
        assert 'data-testid="alert-reauth"' in html and "needs re-authorization" in html
        assert connection.last_error and connection.last_error in html
        assert RECONNECT_FORM.format(pk=connection.pk) in html


def test_job_times_read_as_relative_with_the_exact_swiss_time_on_hover(client, partner, db):
    from datetime import timedelta

    from django.utils import timezone, translation

    from tests.jobs.factories import ConnectionFactory, JobFactory

    created = timezone.now() - timedelta(minutes=3)
    JobFactory(connection=ConnectionFactory(user=partner), created_at=created)
    client.force_login(partner)
    exact = timezone.localtime(created).strftime("%d.%m.%Y %H:%M")
    pages = {}
    for language in ("de", "fr", "en"):
        with translation.override(language):
            client.cookies["django_language"] = language
            pages[language] = client.get(reverse("dashboard:jobs")).content.decode()
    for page in pages.values():
        assert f'<time datetime="{created.isoformat()}" title="{exact}">' in page
    assert "vor 3 Minuten</time>" in pages["de"]
    assert "il y a 3\xa0minutes</time>" in pages["fr"]  # Django keeps number and unit together
    assert "3\xa0minutes ago</time>" in pages["en"]


@pytest.mark.parametrize("language", ["en", "de", "fr", "it"])
def test_a_moment_reads_the_swiss_way_in_every_language(language):
    """A plain {{ moment }} and the named formats: 05.12.2026 14:03, never "Dec. 5, 2026"."""
    from datetime import datetime

    from django.template import Context, Template
    from django.utils import translation

    moment = datetime(2026, 12, 5, 14, 3)
    with translation.override(language):
        shown = Template(
            '{{ m }}|{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date }}|{{ m|time }}'
        ).render(Context({"m": moment}))
    assert shown == "05.12.2026 14:03|05.12.2026 14:03|05.12.2026|14:03"
