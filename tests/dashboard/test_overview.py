"""The overview, the connection page, disconnecting and the request log."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from partnerapp.connections.models import Connection, RateWindow, RequestLogEntry
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.organizations.current import personal_organization
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory


def overview(client) -> str:
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 200
    return response.content.decode()


def alert(html: str, kind: str) -> str:
    match = re.search(rf'data-testid="alert-{kind}">(.*?)</li>', html, re.S)
    assert match, f"no {kind} alert"
    return match.group(1)


def test_a_new_user_is_shown_how_to_start(client, partner):
    client.force_login(partner)
    html = overview(client)
    assert 'data-testid="empty-state"' in html
    assert reverse("connections:connect") in html and "things need you" not in html


def test_each_connection_shows_owner_scopes_token_health_and_gauge(client, partner):
    now = timezone.now()
    ConnectionFactory(
        user=partner,
        owner_name="Keller Treuhand",
        account_id="4711",
        scopes="profile invoice",
        access_token_expires_at=now + timedelta(hours=2),
        last_refreshed_at=now - timedelta(minutes=3),
        window={"limit": 1000, "remaining": 250, "reset_at": now + timedelta(minutes=20)},
    )
    ConnectionFactory(
        user=partner,
        owner_name="Muster AG",
        access_token_expires_at=now + timedelta(minutes=5),
        window={"limit": 1000, "remaining": 3, "reset_at": now + timedelta(minutes=20)},
    )
    ConnectionFactory(user=partner, owner_name="Never Called GmbH")
    client.force_login(partner)
    html = overview(client)
    cards = dict(re.findall(r'<a href="/connections/\d+/">([^<]+)</a>(.*?)</tr>', html, re.S))
    keller = cards["Keller Treuhand"]
    assert "#4711" in keller and ">profile<" in keller and ">invoice<" in keller
    assert 'class="health valid"' in keller and "Valid until" in keller
    assert '<meter min="0" max="1000" value="250"' in keller and "250 / 1000 calls left" in keller
    assert "resets at" in keller
    muster = cards["Muster AG"]
    assert 'class="health expires_soon"' in muster and 'class="gauge low"' in muster
    assert "not known yet" in cards["Never Called GmbH"]
    assert "Last refresh: never" in re.sub(r"\s+", " ", cards["Never Called GmbH"])


def test_a_window_past_its_reset_shows_the_full_budget(client, partner):
    ConnectionFactory(
        user=partner,
        window={
            "limit": 500,
            "remaining": 0,
            "reset_at": timezone.now() - timedelta(minutes=1),
        },
    )
    client.force_login(partner)
    html = overview(client)
    assert 'value="500"' in html and "window reset" in html


def test_each_alert_offers_the_action_that_fixes_it(client, partner):
    lost = ConnectionFactory(
        user=partner,
        owner_name="Lost Grant AG",
        status=Connection.Status.NEEDS_REAUTH,
        last_error="The provider refused the stored refresh token (invalid_grant).",
    )
    own = ConnectionFactory(
        user=partner,
        owner_name="Own Account",
        grant=Connection.Grant.OWN_ACCOUNT,
        status=Connection.Status.NEEDS_REAUTH,
    )
    fine = ConnectionFactory(user=partner, owner_name="Fine AG")
    paused = JobFactory(connection=fine, status="paused", pause_reason="user")
    waiting = JobFactory(connection=lost, status="paused", pause_reason="needs_reauth")
    failed = JobFactory(connection=fine, status="failed", error="Could not read the documents")
    done = JobFactory(connection=fine, status="done")
    JobItemFactory.create_batch(2, job=done, state="failed")
    JobItemFactory.create_batch(3, job=done, state="uncertain")
    JobItemFactory.create_batch(4, job=done, state="sent")
    cancelled = JobFactory(connection=fine, status="cancelled")
    JobItemFactory(job=cancelled, state="failed")  # nothing left to fix there
    client.force_login(partner)
    html = overview(client)

    reauth = [m for m in re.findall(r'data-testid="alert-reauth">(.*?)</li>', html, re.S)]
    lost_alert = next(a for a in reauth if "Lost Grant AG" in a)
    assert f'action="{reverse("connections:reconnect", args=[lost.pk])}"' in lost_alert
    assert "invalid_grant" in lost_alert
    own_alert = next(a for a in reauth if "Own Account" in a)
    assert reverse("connections:own_account") in own_alert
    assert reverse("connections:reconnect", args=[own.pk]) not in own_alert

    paused_alerts = re.findall(r'data-testid="alert-paused">(.*?)</li>', html, re.S)
    by_user = next(a for a in paused_alerts if reverse("dashboard:job", args=[paused.pk]) in a)
    resume = reverse("dashboard:job_control", args=[paused.pk, "resume"])
    assert f'action="{resume}"' in by_user
    by_reauth = next(a for a in paused_alerts if reverse("dashboard:job", args=[waiting.pk]) in a)
    assert f'action="{reverse("connections:reconnect", args=[lost.pk])}"' in by_reauth

    failed_alert = alert(html, "job_failed")
    assert reverse("dashboard:job", args=[failed.pk]) in failed_alert
    assert "Could not read the documents" in failed_alert
    job_url = reverse("dashboard:job", args=[done.pk])
    assert "2 items of" in alert(html, "items_failed")
    assert f"{job_url}?state=failed" in alert(html, "items_failed")
    assert "3 items of" in alert(html, "items_uncertain")
    assert f"{job_url}?state=uncertain" in alert(html, "items_uncertain")
    cancelled_url = f'"{reverse("dashboard:job", args=[cancelled.pk])}'
    assert cancelled_url not in re.sub(r"<table.*</table>", "", html, flags=re.S)
    assert "7 things need you" in html


def test_recent_jobs_show_progress_as_parts_in_their_own_colours(client, partner):
    job = JobFactory(connection=ConnectionFactory(user=partner), status="running")
    JobItemFactory.create_batch(3, job=job, state="sent")
    JobItemFactory(job=job, state="failed")
    JobItemFactory.create_batch(6, job=job, state="pending")
    draft = JobFactory(connection=job.connection, status="draft")
    JobItemFactory.create_batch(5, job=draft, state="pending")
    client.force_login(partner)
    html = overview(client)
    assert 'viewBox="0 0 10 1"' in html and 'aria-label="sent 3, failed 1, to do 6"' in html
    assert '<rect class="part-sent" x="0" y="0" width="3"' in html
    assert '<rect class="part-failed" x="3" y="0" width="1"' in html
    assert '<rect class="part-todo" x="4" y="0" width="6"' in html
    assert "4 / 10 · sent 3" in html
    # a draft nobody confirmed is all "to do", never a full green bar
    assert 'viewBox="0 0 5 1"' in html and '<rect class="part-todo" x="0" y="0" width="5"' in html


def test_an_outsider_sees_nothing_of_the_partners_accounts(client, partner, outsider):
    connection = ConnectionFactory(user=partner, owner_name="Secret AG")
    job = JobFactory(connection=connection, status="failed")
    RequestLogEntry.objects.create(connection=connection, method="GET", path="/x", duration_ms=1)
    client.force_login(outsider)
    for url in [
        reverse("dashboard:connection", args=[connection.pk]),
        reverse("dashboard:request_log", args=[connection.pk]),
        reverse("connections:disconnect", args=[connection.pk]),
    ]:
        assert client.get(url).status_code == 404
    assert (
        client.post(
            reverse("connections:disconnect", args=[connection.pk]), {"confirm": "yes"}
        ).status_code
        == 404
    )
    for url in [reverse("dashboard:overview"), reverse("dashboard:activity")]:
        html = client.get(url).content.decode()
        assert "Secret AG" not in html and reverse("dashboard:job", args=[job.pk]) not in html
    assert Connection.objects.get(pk=connection.pk).status == "active"


def test_disconnect_asks_first_then_forgets_the_tokens_and_pauses_jobs(client, partner):
    connection = ConnectionFactory(user=partner, owner_name="Keller AG")
    connection.store_tokens(access_token="a", refresh_token="r", expires_at=timezone.now())
    connection.save()
    running = JobFactory(connection=connection, status="running")
    done = JobFactory(connection=connection, status="done")
    client.force_login(partner)
    page = client.get(reverse("dashboard:connection", args=[connection.pk])).content.decode()
    url = reverse("connections:disconnect", args=[connection.pk])
    assert f'href="{url}"' in page  # a link to the confirmation, not a one-click form

    confirm = client.get(url).content.decode()
    assert "Disconnect Keller AG?" in confirm and 'name="confirm" value="yes"' in confirm
    assert "1 unfinished job of this account pauses now" in confirm
    unconfirmed = client.post(url)
    assert unconfirmed.status_code == 200 and b"Yes, disconnect" in unconfirmed.content
    assert Connection.objects.get(pk=connection.pk).status == "active"

    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == "disconnected" and not connection.refresh_token_ciphertext
    running.refresh_from_db()
    assert running.status == "paused" and running.pause_reason == "needs_reauth"
    assert BatchJob.objects.get(pk=done.pk).status == "done"
    page = client.get(reverse("dashboard:connection", args=[connection.pk])).content.decode()
    assert "is disconnected" in page and f'href="{url}"' not in page
    assert reverse("connections:reconnect", args=[connection.pk]) in page


def test_posts_without_a_csrf_token_are_refused(partner):
    connection = ConnectionFactory(user=partner)
    job = JobFactory(connection=connection, status="paused", pause_reason="user")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(partner)
    for url in [
        reverse("connections:disconnect", args=[connection.pk]),
        reverse("connections:reconnect", args=[connection.pk]),
        reverse("dashboard:job_control", args=[job.pk, "resume"]),
    ]:
        assert strict.post(url, {"confirm": "yes"}).status_code == 403
    assert Connection.objects.get(pk=connection.pk).status == "active"


def test_the_request_log_keeps_its_filters_through_the_pages(client, partner):
    connection = ConnectionFactory(user=partner)
    now = timezone.now()
    RequestLogEntry.objects.bulk_create(
        RequestLogEntry(
            connection=connection,
            method="POST",
            path="/receivables/invoices/1/email",
            status=429 if n % 2 else 200,
            duration_ms=10,
            request_id=f"req-{n:03d}",
            created_at=now - timedelta(seconds=n),
        )
        for n in range(130)
    )
    client.force_login(partner)
    url = reverse("dashboard:request_log", args=[connection.pk])
    first = client.get(url, {"status": "429"}).content.decode()
    assert "65 calls match" in first and first.count('data-testid="log-row"') == 50
    next_link = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "status=429" in next_link and "page=2" in next_link
    second = client.get(f"{url}?{next_link}").content.decode()
    assert second.count('data-testid="log-row"') == 15 and "Page 2 of 2" in second
    assert '<option value="429" selected>' in second
    assert ">200<" not in second
    found = client.get(url, {"request_id": "REQ-007"}).content.decode()
    assert "1 call matches" in found and "req-007" in found
    assert "Clear filters" in found


@pytest.mark.django_db
def test_the_overview_stays_fast_with_50_accounts_and_1000_jobs(
    client, partner, django_assert_max_num_queries
):
    now = timezone.now()
    organization = personal_organization(partner)
    connections = Connection.objects.bulk_create(
        Connection(
            organization=organization,
            user=partner,
            base_url="http://127.0.0.1:9/sandbox/v2",
            account_id=str(n),
            owner_name=f"Account {n:02d}",
            scopes="profile invoice",
            status="needs_reauth" if n % 10 == 0 else "active",
        )
        for n in range(50)
    )
    RateWindow.objects.bulk_create(
        RateWindow(connection=c, limit=1000, remaining=500, reset_at=now + timedelta(minutes=30))
        for c in connections
    )
    statuses = ["done", "done", "done", "running", "paused", "failed", "cancelled"]
    jobs = BatchJob.objects.bulk_create(
        BatchJob(
            organization=organization,
            user=partner,
            connection=connections[n % 50],
            action="invoice.send_by_email",
            status=statuses[n % len(statuses)],
            created_at=now - timedelta(minutes=n),
        )
        for n in range(1000)
    )
    states = ["sent", "sent", "failed", "uncertain", "pending", "skipped"]
    JobItem.objects.bulk_create(
        JobItem(job=job, document_id=d, state=states[(job.pk + d) % len(states)])
        for job in jobs[:200]
        for d in range(20)
    )
    client.force_login(partner)
    overview(client)  # warm up: templates, URL resolvers
    # session, user, the user's memberships (one read: current organization and switcher),
    # then the page's own: connections (a page, and how many), jobs, counts, refusals,
    # connections in trouble, job alerts
    with django_assert_max_num_queries(13):
        html = overview(client)
    assert html.count('data-testid="connection-row"') == 50
    assert html.count('data-testid="job-row"') == 10
    timings = []
    for _n in range(10):
        started = time.perf_counter()
        overview(client)
        timings.append(time.perf_counter() - started)
    timings.sort()
    assert timings[len(timings) // 2] < 0.2, timings  # p50; the benchmark script measures p95


def test_the_connection_page_shows_details_jobs_and_a_failed_refresh(client, partner):
    connection = ConnectionFactory(
        user=partner,
        owner_name="Keller AG",
        account_id="815",
        base_url="https://api.example.com/v2",
        last_error="Refresh failed: SmartBusiness answered 503.",
        window={
            "limit": 1000,
            "remaining": 0,
            "reset_at": timezone.now() + timedelta(minutes=12),
        },
    )
    job = JobFactory(connection=connection, status="running")
    JobItemFactory.create_batch(2, job=job, state="sent")
    JobItemFactory(job=job, state="pending")
    other = JobFactory(connection=ConnectionFactory(user=partner, owner_name="Other AG"))
    client.force_login(partner)
    html = client.get(reverse("dashboard:connection", args=[connection.pk])).content.decode()
    assert "#815" in html and "https://api.example.com/v2" in html
    assert "the owner&#x27;s consent" in html or "the owner's consent" in html
    assert 'class="health refresh_failed"' in html and "answered 503" in html
    assert 'class="gauge empty"' in html and "0 / 1000 calls left" in html
    assert '<rect class="part-sent" x="0" y="0" width="2"' in html
    assert reverse("dashboard:job", args=[job.pk]) in html
    assert reverse("dashboard:job", args=[other.pk]) not in html
    assert reverse("dashboard:request_log", args=[connection.pk]) in html
    assert f'action="{reverse("connections:reconnect", args=[connection.pk])}"' in html
    refresh_alert = alert(overview(client), "refresh_failed")
    assert "Keller AG" in refresh_alert and "answered 503" in refresh_alert


def test_the_activity_page_is_in_the_navigation(client, partner):
    client.force_login(partner)
    html = overview(client)
    nav = re.search(r"<nav aria-label=\"Main\">(.*?)</nav>", html, re.S).group(1)
    assert f'href="{reverse("dashboard:activity")}"' in nav
    assert client.get(reverse("dashboard:activity")).status_code == 200


def test_many_paused_jobs_do_not_hide_a_failed_one(client, partner):
    connection = ConnectionFactory(user=partner)
    failed = JobFactory(connection=connection, status="failed", created_at=timezone.now())
    JobFactory.create_batch(16, connection=connection, status="paused", pause_reason="user")
    client.force_login(partner)
    html = overview(client)
    assert html.count('data-testid="alert-paused"') == 5
    assert reverse("dashboard:job", args=[failed.pk]) in alert(html, "job_failed")
