"""Server-side SVG charts: the builder's geometry and escaping, and the charts' numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from partnerapp.connections.models import RequestLogEntry
from partnerapp.connections.services import connection_call
from partnerapp.dashboard.charts import Chart, Reference, Series, nice_ceiling
from tests.factories import PASSWORD
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own markup


def bars(root: ET.Element) -> list[dict]:
    return [
        {**rect.attrib, "tip": rect.find(f"{SVG}title").text}
        for rect in root.iter(f"{SVG}rect")
        if rect.get("data-series")
    ]


def two_series_chart(**changes) -> Chart:
    values = {
        "slug": "test",
        "title": "Sends",
        "description": "Items per day",
        "labels": ["Mon", "Tue", "Wed"],
        "series": [
            Series(name="sent", key="sent", values=[10, 0, 5]),
            Series(name="failed", key="failed", values=[10, 0, 0]),
        ],
    }
    return Chart(**(values | changes))


def test_bar_heights_are_proportional_to_the_values():
    chart_bars = bars(parse(two_series_chart()))
    heights = {(b["data-series"], b["tip"]): float(b["height"]) for b in chart_bars}
    assert len(chart_bars) == 3  # zero values draw nothing
    assert heights[("sent", "Mon: sent 10")] == heights[("failed", "Mon: failed 10")]
    assert heights[("sent", "Mon: sent 10")] == 2 * heights[("sent", "Wed: sent 5")]


def test_stacked_layers_sit_on_each_other():
    sent, failed = bars(parse(two_series_chart()))[:2]
    assert float(failed["y"]) + float(failed["height"]) == float(sent["y"])
    assert sent["fill"] == "#1d7a3a" and failed["fill"] == "#b3261e"


def test_the_axis_reaches_a_round_number_above_the_tallest_bar():
    root = parse(two_series_chart())
    axis_labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert axis_labels == ["0", "10", "20"]
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 20, 21, 240, 999)] == [
        1,
        1,
        5,
        10,
        20,
        25,
        250,
        1000,
    ]


def test_a_reference_line_is_drawn_at_its_value():
    chart = two_series_chart(reference=Reference(value=40, label="budget 40/h"))
    root = parse(chart)
    line = root.find(f"{SVG}g[@class='reference']/{SVG}line")
    bar = bars(root)[0]  # sent on Monday: 10, standing on the baseline
    baseline = float(bar["y"]) + float(bar["height"])
    assert abs((baseline - float(line.get("y1"))) / float(bar["height"]) - 4) < 0.01
    assert "budget 40/h" in str(chart.svg)


def test_it_has_a_text_alternative():
    root = parse(two_series_chart())
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "test-title test-desc"
    assert root.find(f"{SVG}title").text == "Sends"
    assert root.find(f"{SVG}desc").text == "Items per day"
    assert two_series_chart().rows == [
        ("Mon", [10, 10], 20),
        ("Tue", [0, 0], 0),
        ("Wed", [5, 0], 5),
    ]


def test_labels_and_names_are_escaped():
    evil = '<script>alert("x")</script>'
    chart = two_series_chart(
        title=evil,
        description="a & b",
        labels=[evil, "Tue", "Wed"],
        series=[Series(name=evil, key='"><x', values=[1, 2, 3])],
    )
    svg = str(chart.svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    parse(chart)  # still well-formed XML


def test_an_empty_series_draws_no_bars_but_says_so():
    chart = two_series_chart(
        series=[Series(name="sent", key="sent", values=[0, 0, 0])], empty_text="Nothing sent."
    )
    root = parse(chart)
    assert bars(root) == [] and "Nothing sent." in str(chart.svg)
    assert not bars(parse(two_series_chart(labels=[], series=[])))


def test_no_inline_style_in_the_markup():
    assert "style=" not in str(two_series_chart(reference=Reference(5, "b")).svg)


# -- the charts' numbers, from real rows ----------------------------------------------------------


def test_the_activity_page_counts_finished_items_by_day_and_outcome(client, partner, outsider):
    now = timezone.now()
    job = JobFactory(connection=ConnectionFactory(user=partner))
    for state, n, when in [
        ("sent", 4, now - timedelta(minutes=5)),
        ("failed", 2, now - timedelta(minutes=5)),
        ("uncertain", 1, now - timedelta(days=1)),
        ("sent", 3, now - timedelta(days=30)),  # outside the 14 days
        ("pending", 5, None),  # not finished
    ]:
        JobItemFactory.create_batch(n, job=job, state=state, finished_at=when)
    theirs = JobFactory(connection=ConnectionFactory(user=outsider))
    JobItemFactory.create_batch(9, job=theirs, state="sent", finished_at=now)
    client.force_login(partner)
    html = client.get(reverse("dashboard:activity")).content.decode()
    day = section(html, "sends-per-day")
    assert total_of(day) == 7
    assert series_totals(day) == [4, 2, 1, 0]  # sent, failed, uncertain, skipped
    assert "<svg" in day and "Sends per day" in day
    hour = section(html, "sends-per-hour")
    assert total_of(hour) == 7  # the day-old one is within 48 hours


def test_the_rate_limit_chart_counts_calls_and_429s_per_hour(client, partner, outsider):
    connection = ConnectionFactory(user=partner, window={"limit": 1000, "remaining": 990})
    now = timezone.now()
    for status, n, when in [
        (200, 6, now - timedelta(minutes=1)),
        (429, 2, now - timedelta(minutes=1)),
        (201, 3, now - timedelta(hours=3)),
        (200, 4, now - timedelta(hours=30)),  # older than 24 hours
    ]:
        for _n in range(n):
            RequestLogEntry.objects.create(
                connection=connection,
                method="GET",
                path="/invoices",
                status=status,
                duration_ms=5,
                created_at=when,
            )
    other = ConnectionFactory(user=outsider)
    RequestLogEntry.objects.create(connection=other, method="GET", path="/x", duration_ms=1)
    client.force_login(partner)
    page = client.get(reverse("dashboard:connection", args=[connection.pk])).content.decode()
    chart = section(page, f"rate-use-{connection.pk}")
    assert total_of(chart) == 11 and series_totals(chart) == [9, 2]
    assert "budget 1000/h" in chart and "2 calls refused with 429" in page
    activity = client.get(reverse("dashboard:activity")).content.decode()
    assert f"rate-use-{connection.pk}" in activity and f"rate-use-{other.pk}" not in activity


def test_the_activity_page_shows_a_page_of_accounts_busiest_first(client, partner):
    from partnerapp.dashboard.views import RATE_CHARTS_PER_PAGE

    quiet = [
        ConnectionFactory(user=partner, owner_name=f"A{n:02d}") for n in range(RATE_CHARTS_PER_PAGE)
    ]
    busy, busier = (
        ConnectionFactory(user=partner, owner_name="Z busy"),
        ConnectionFactory(user=partner, owner_name="Z busier"),
    )
    now = timezone.now()
    for connection, n in [(busy, 2), (busier, 3), (quiet[5], 1)]:
        for _n in range(n):
            RequestLogEntry.objects.create(
                connection=connection,
                method="GET",
                path="/x",
                status=200,
                duration_ms=1,
                created_at=now,
            )
    RequestLogEntry.objects.create(  # busy long ago: not in the last 24 hours
        connection=quiet[0],
        method="GET",
        path="/x",
        status=200,
        duration_ms=1,
        created_at=now - timedelta(days=2),
    )
    client.force_login(partner)

    first = client.get(reverse("dashboard:activity")).content.decode()
    shown = re.findall(r'data-testid="chart-rate-use-(\d+)"', first)
    assert len(shown) == RATE_CHARTS_PER_PAGE
    assert [int(pk) for pk in shown[:4]] == [busier.pk, busy.pk, quiet[5].pk, quiet[0].pk]
    assert "22 accounts, the busiest first" in first and "page=2#rate-use" in first
    second = client.get(reverse("dashboard:activity"), {"page": 2}).content.decode()
    assert len(re.findall(r'data-testid="chart-rate-use-(\d+)"', second)) == 2
    assert "sends-per-day" in second  # the sends charts stay on every page


def section(html: str, slug: str) -> str:
    match = re.search(rf'data-testid="chart-{slug}">(.*?)</figure>', html, re.S)
    assert match, f"no chart {slug}"
    return match.group(1)


def total_of(chart_html: str) -> int:
    return int(re.search(r'data-testid="chart-total">(\d+)<', chart_html).group(1))


def series_totals(chart_html: str) -> list[int]:
    footer = re.search(r"<tfoot>(.*?)</tfoot>", chart_html, re.S).group(1)
    return [int(n) for n in re.findall(r"<td>(\d+)</td>", footer)]


@pytest.mark.browser
def test_the_dashboard_pages_render_in_a_browser_within_the_csp(
    page, sandbox, connect, partner, screenshot
):
    from tests.production.test_csp_browser import CspWatch

    connection = connect()
    for _n in range(3):
        connection_call(connection, lambda api: api.invoices())
    job = JobFactory(connection=connection, status="done")
    now = timezone.now()
    for state, n in [("sent", 5), ("failed", 1), ("uncertain", 1)]:
        JobItemFactory.create_batch(n, job=job, state=state, finished_at=now)
    watch = CspWatch(page)
    watch.visit(sandbox.url + "/accounts/login/")
    page.get_by_label("Email").fill(partner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_test_id("rate-gauge").locator("meter")).to_be_visible()
    expect(page.get_by_test_id("alert-items_failed")).to_be_visible()
    screenshot(page, "overview")

    page.get_by_role("link", name="Activity", exact=True).click()
    expect(page.get_by_role("img", name="Sends per day")).to_be_visible()
    page.get_by_text("Show the numbers").first.click()
    expect(page.get_by_test_id("chart-total").first).to_have_text("7")
    screenshot(page, "activity")

    watch.visit(f"{sandbox.url}/connections/{connection.pk}/")
    expect(page.get_by_role("img", name=f"Rate-limit use: {connection.owner_name}")).to_be_visible()
    screenshot(page, "connection")
    page.get_by_role("link", name="Request log").click()
    page.get_by_label("Status").select_option("2xx")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("log-row").first).to_be_visible()
    watch.visit(f"{sandbox.url}/connections/{connection.pk}/")
    page.get_by_role("link", name="Disconnect…").click()
    screenshot(page, "disconnect-confirm")
    page.get_by_role("button", name="Yes, disconnect").click()
    expect(page.get_by_text(f"Disconnected {connection.owner_name}.")).to_be_visible()
    assert watch.problems() == []
