"""The invoices browser's paging: plain links that htmx follows in place (issue 13). An htmx
request gets the results alone; a page load, or htmx restoring the history, the whole page."""

import re

import pytest
from django.urls import reverse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def invoices_url(client, connect, partner):
    connection = connect()
    client.force_login(partner)
    return reverse("dashboard:invoices", args=[connection.pk])


def pager_links(html: str) -> dict[str, str]:
    return {
        rel: href.replace("&amp;", "&")
        for href, rel in re.findall(
            r'<a class="button secondary" href="([^"]+)"[^>]*rel="(\w+)"', html
        )
    }


def test_the_pager_links_keep_the_filter_the_sort_and_the_page_size(client, invoices_url):
    query = "date_from=2000-01-01&sort=number&per_page=25"
    html = client.get(f"{invoices_url}?{query}").content.decode()
    assert pager_links(html) == {"next": f"{invoices_url}?{query}&page=2"}
    html = client.get(f"{invoices_url}?{query}&page=2").content.decode()
    assert pager_links(html) == {"prev": f"{invoices_url}?{query}&page=1"}
    assert "page 2 of 2" in html
    assert f'hx-get="{invoices_url}?{query.replace("&", "&amp;")}&amp;page=1"' in html


def test_an_htmx_request_gets_the_results_alone(client, invoices_url):
    response = client.get(invoices_url, {"page": "2"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert html.lstrip().startswith('<div id="invoice-results"') and "<html" not in html
    assert "page 2 of 2" in html and 'id="selection-form"' in html


def test_a_page_load_and_a_history_restore_get_the_whole_page(client, invoices_url):
    for headers in ({}, {**HTMX, "HX-History-Restore-Request": "true"}):
        response = client.get(invoices_url, {"page": "2"}, headers=headers)
        html = response.content.decode()
        assert "<html" in html and '<div id="invoice-results"' in html
        assert "HX-Request" in response["Vary"]


def test_the_selection_is_kept_per_connection_and_filter(client, invoices_url):
    html = client.get(invoices_url, {"status": "DR", "sort": "number", "page": "1"}).content
    pk = invoices_url.split("/")[2]
    assert f'data-selection-key="{pk}?status=DR"' in html.decode(), "sort and page do not count"
