"""The job page: live part with an adaptive interval, the items table, item detail, controls."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from partnerapp.jobs.models import BatchJob, JobItem
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

Item = JobItem.State
Job = BatchJob.Status


@pytest.fixture
def job(partner):
    return JobFactory(
        connection=ConnectionFactory(user=partner),
        status=Job.RUNNING,
        prepared_at=timezone.now(),
        started_at=timezone.now() - timedelta(seconds=30),
    )


def items(job, state, n, **fields):
    return [JobItemFactory(job=job, state=state, **fields) for _ in range(n)]


def live(client, job, **params):
    response = client.get(reverse("dashboard:job_progress", args=[job.pk]), params)
    assert response.status_code == 200
    return response, response.content.decode()


def interval(html: str) -> int | None:
    found = re.search(r'hx-trigger="load delay:(\d+)s"', html)
    return int(found.group(1)) if found else None


def shown(html: str, name: str) -> list[str]:
    return re.findall(rf'data-testid="{name}">([^<]*)<', html)


def rows(html: str) -> list[str]:
    return re.findall(r'data-testid="item-row">\s*<td class="mono"><a [^>]*>([^<]+)</a>', html)


def test_the_live_part_has_counts_throughput_eta_and_the_next_interval(client, partner, job):
    now = timezone.now()
    items(job, Item.SENT, 3, finished_at=now - timedelta(seconds=10))
    items(job, Item.PENDING, 4)
    items(job, Item.FAILED, 1, finished_at=now)
    client.force_login(partner)
    _response, html = live(client, job)
    assert shown(html, "count-total") == ["8"] and shown(html, "count-sent") == ["3"]
    assert shown(html, "count-todo") == ["4"] and shown(html, "count-failed") == ["1"]
    assert "4 of 8 finished" in html
    assert "8 items per minute" in html  # 4 finished in the 30 s since the start
    assert 'data-testid="eta"' in html and "less than a minute left" in html
    assert interval(html) == 1  # first poll: fast
    assert "seen=4" in html and "status=running" in html


def test_the_interval_backs_off_while_nothing_moves_and_speeds_up_again(client, partner, job):
    items(job, Item.PENDING, 2)
    client.force_login(partner)
    seen = {"seen": 0, "status": "running"}
    assert interval(live(client, job, **seen, idle=0)[1]) == 2
    assert interval(live(client, job, **seen, idle=1)[1]) == 4
    assert interval(live(client, job, **seen, idle=2)[1]) == 5
    assert interval(live(client, job, **seen, idle=9)[1]) == 5
    JobItem.objects.filter(job=job).update(state=Item.SENT, finished_at=timezone.now())
    _response, html = live(client, job, **seen, idle=9)
    assert interval(html) == 1 and "idle=0" in html  # items moved: fast again


def test_paused_polls_slowly_finished_not_at_all_and_a_status_change_reloads_the_table(
    client, partner, job
):
    items(job, Item.PENDING, 2)
    client.force_login(partner)
    job.status = Job.PAUSED
    job.save()
    assert interval(live(client, job)[1]) == 5
    job.status = Job.DONE
    job.save()
    response, html = live(client, job, seen=0, status="paused")
    assert interval(html) is None and "hx-get" not in html.split("job-progress")[1][:200]
    assert response["HX-Trigger"] == "job-changed"
    assert "HX-Trigger" not in live(client, job, seen=0, status="done")[0]


def test_polling_leaves_the_filter_box_alone(client, partner, job):
    items(job, Item.PENDING, 2)
    client.force_login(partner)
    page = client.get(reverse("dashboard:job", args=[job.pk]), {"q": "RE-", "state": "pending"})
    html = page.content.decode()
    live_part = html.split('id="job-progress"')[1].split("</section>")[0]
    assert 'hx-trigger="load delay:1s"' in live_part
    assert 'id="item-q"' not in live_part and 'id="item-q"' in html  # the poll swaps no input
    assert 'value="RE-"' in html and '<option value="pending" selected>' in html


def test_items_filter_by_state_search_and_page_by_keyset(client, partner, job):
    sent = items(job, Item.SENT, 60)
    failed = items(job, Item.FAILED, 3, recipient_email="billing@acme.example")
    client.force_login(partner)
    url = reverse("dashboard:job_items", args=[job.pk])

    html = client.get(url, {"state": "failed"}).content.decode()
    assert rows(html) == [i.document_number for i in failed] and "Items in state" in html

    html = client.get(url, {"q": "ACME"}).content.decode()
    assert rows(html) == [i.document_number for i in failed]
    JobItem.objects.filter(pk=sent[3].pk).update(recipient_name="Gärtnerei Keller")
    html = client.get(url, {"q": "keller"}).content.decode()
    assert rows(html) == [sent[3].document_number]
    html = client.get(url, {"q": sent[7].document_number}).content.decode()
    assert rows(html) == [sent[7].document_number]

    first = client.get(url).content.decode()
    assert rows(first) == [i.document_number for i in sent[:50]]
    after = re.search(r"after=(\d+)", first).group(1)
    assert "before=" not in first and "last=1" in first
    second = client.get(url, {"after": after}).content.decode()
    assert rows(second) == [i.document_number for i in sent[50:] + failed]
    assert "after=" not in second and f"before={sent[50].pk}" in second
    back = client.get(url, {"before": sent[50].pk}).content.decode()
    assert rows(back) == rows(first)
    last = client.get(url, {"last": "1", "state": "sent"}).content.decode()
    assert rows(last) == [i.document_number for i in sent[10:]]
    assert "state=sent&amp;before=" in last  # the pager keeps the filter


def test_the_items_fragment_keeps_the_filter_in_the_address(client, partner, job):
    client.force_login(partner)
    response = client.get(reverse("dashboard:job_items", args=[job.pk]), {"state": "failed"})
    assert response["HX-Push-Url"] == reverse("dashboard:job", args=[job.pk]) + "?state=failed"


def test_item_detail_shows_field_errors_request_id_and_the_email(client, partner, job):
    item = JobItemFactory(
        job=job,
        state=Item.FAILED,
        attempts=2,
        request_id="req-7f3a9c",
        error_status=422,
        outcome="SmartBusiness refused it.",
        error_detail={
            "code": "validation_failed",
            "message": "The invoice is not valid.",
            "meta": {"errors": [{"key": "recipients.0.email", "message": "Invalid address"}]},
        },
        snapshot={"number": "RE-42"},
        finished_at=timezone.now(),
    )
    client.force_login(partner)
    html = client.get(reverse("dashboard:job_item", args=[job.pk, item.pk])).content.decode()
    assert "<code>recipients.0.email</code>: Invalid address" in html
    assert "req-7f3a9c" in html and "validation_failed" in html and "422" in html
    assert "The invoice is not valid." in html and shown(html, "item-attempts") == ["2"]
    assert "Invoice RE-42" in html  # the subject "Invoice {INVOICENO}", rendered
    job_page = client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert reverse("dashboard:job_item", args=[job.pk, item.pk]) in job_page


def control(client, job, command, **data):
    return client.post(reverse("dashboard:job_control", args=[job.pk, command]), data)


def test_controls_are_shown_only_when_they_apply(client, partner, job):
    items(job, Item.SENT, 1)
    client.force_login(partner)

    def buttons() -> set[str]:
        html = live(client, job)[1].split('data-testid="job-controls"')[1]
        return set(re.findall(r"/jobs/\d+/([a-z-]+)/", html))

    assert buttons() == {"pause", "cancel"}
    job.status = Job.PAUSED
    job.save()
    assert buttons() == {"resume", "cancel"}
    job.pause_reason = "needs_reauth"  # only reconnecting resumes it: no Resume button
    job.save()
    assert buttons() == {"cancel"}
    assert "/connections/" in live(client, job)[1] and "Reconnect" in live(client, job)[1]
    job.status, job.pause_reason = Job.DONE, ""
    job.save()
    assert buttons() == set()
    items(job, Item.FAILED, 1)
    items(job, Item.UNCERTAIN, 2)
    assert buttons() == {"retry-failed", "resend-uncertain"}
    job.status = Job.CANCELLED
    job.save()
    assert buttons() == set()


def test_pause_resume_cancel_and_retry_change_the_state(client, partner, job):
    items(job, Item.PENDING, 2)
    items(job, Item.FAILED, 1)
    client.force_login(partner)
    assert control(client, job, "pause").status_code == 302
    job.refresh_from_db()
    assert job.status == Job.PAUSED
    page = client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert "The job is paused." in page
    control(client, job, "retry-failed")
    assert job.items.filter(state=Item.FAILED).count() == 0
    control(client, job, "resume")
    job.refresh_from_db()
    assert job.status == Job.QUEUED
    control(client, job, "cancel")
    job.refresh_from_db()
    assert job.status == Job.CANCELLED and not job.items.filter(state=Item.PENDING).exists()


def test_resend_uncertain_needs_the_confirmation_step(client, partner, job):
    job.status = Job.DONE
    job.save()
    uncertain = items(job, Item.UNCERTAIN, 2, request_id="req-unclear")
    client.force_login(partner)
    url = reverse("dashboard:job_control", args=[job.pk, "resend-uncertain"])
    confirm_page = client.get(url).content.decode()
    assert confirm_page.count('data-testid="uncertain-row"') == 2
    assert 'name="confirm" value="yes" required' in confirm_page and "req-unclear" in confirm_page

    refused = client.post(url)
    assert refused.status_code == 400 and "Confirm that you checked" in refused.content.decode()
    assert job.items.filter(state=Item.UNCERTAIN).count() == 2

    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert set(
        JobItem.objects.filter(pk__in=[i.pk for i in uncertain]).values_list("state", flat=True)
    ) == {Item.PENDING}
    job.refresh_from_db()
    assert job.status == Job.QUEUED
    assert client.get(reverse("dashboard:job_control", args=[job.pk, "pause"])).status_code == 405


def test_an_outsider_gets_404_everywhere_and_posts_need_csrf(partner, outsider, job, client):
    item = JobItemFactory(job=job)
    client.force_login(outsider)
    urls = [
        reverse("dashboard:job_items", args=[job.pk]),
        reverse("dashboard:job_item", args=[job.pk, item.pk]),
        reverse("dashboard:job_control", args=[job.pk, "resend-uncertain"]),
        reverse("dashboard:job_export", args=[job.pk]),
    ]
    assert [client.get(url).status_code for url in urls] == [404] * 4
    assert control(client, job, "pause").status_code == 404

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(partner)
    assert strict.post(reverse("dashboard:job_control", args=[job.pk, "pause"])).status_code == 403
    job.refresh_from_db()
    assert job.status == Job.RUNNING


def test_the_jobs_list_filters_by_status_and_account_and_shows_progress(client, partner):
    mine, other = (
        ConnectionFactory(user=partner, owner_name="Mine AG"),
        ConnectionFactory(user=partner, owner_name="Other AG"),
    )
    done = JobFactory(connection=mine, status=Job.DONE)
    items(done, Item.SENT, 3)
    items(done, Item.FAILED, 1)
    JobFactory(connection=other, status=Job.RUNNING)
    JobFactory(connection=ConnectionFactory(owner_name="Theirs GmbH"))  # someone else's
    client.force_login(partner)
    url = reverse("dashboard:jobs")

    def listed(**params) -> str:
        html = client.get(url, params).content.decode()
        return html, html.count('data-testid="job-row"')

    html, count = listed()
    assert count == 2 and "Theirs GmbH" not in html
    html, count = listed(status="done")
    assert count == 1 and "4 / 4" in html and "failed 1" in html
    assert listed(connection=other.pk)[1] == 1
    assert listed(connection=other.pk, status="done")[1] == 0
    assert listed(status="nonsense")[1] == 2


def test_with_many_accounts_the_account_filter_searches_instead_of_listing(client, partner):
    from partnerapp.dashboard.selectors import ACCOUNT_OPTIONS

    accounts = [
        ConnectionFactory(user=partner, owner_name=f"Kunde {n} AG", account_id=f"77{n}")
        for n in range(ACCOUNT_OPTIONS + 1)
    ]
    for connection in accounts[:3]:
        JobFactory(connection=connection, status=Job.DONE)
    JobFactory(connection=ConnectionFactory(owner_name="Kunde 1 AG"))  # someone else's
    client.force_login(partner)
    url = reverse("dashboard:jobs")

    def listed(**params) -> tuple[str, int]:
        html = client.get(url, params).content.decode()
        return html, html.count('data-testid="job-row"')

    html, count = listed()
    assert count == 3 and "<option" not in html.split('id="job-status"')[1].split("</form>")[1]
    assert 'type="search" id="job-account" name="account"' in html
    assert 'for="job-account"' in html and 'id="job-account-help"' in html
    assert listed(account="kunde 1 ag")[1] == 1  # part of the name, any case
    assert listed(account="771")[1] == 1  # the account number
    assert listed(account="Kunde")[1] == 3
    html, count = listed(connection=accounts[2].pk)  # as links give it: still works
    assert count == 1 and 'data-testid="chosen-account"' in html and "Only Kunde 2 AG" in html
    assert f'name="connection" value="{accounts[2].pk}"' in html  # kept when filtering again
    assert listed(connection=accounts[2].pk, account="Kunde 1")[1] == 0


def test_the_jobs_list_pages_keep_the_account_search(client, partner):
    from partnerapp.dashboard.selectors import ACCOUNT_OPTIONS

    for n in range(ACCOUNT_OPTIONS + 1):
        ConnectionFactory(user=partner, owner_name=f"Kunde {n} AG")
    connection = ConnectionFactory(user=partner, owner_name="Müller & Co")
    for _ in range(26):
        JobFactory(connection=connection, status=Job.DONE)
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs"), {"account": "Müller & Co"}).content.decode()
    assert "status=&amp;connection=&amp;account=M%C3%BCller+%26+Co&amp;page=2" in html


def test_drafts_nobody_confirmed_are_listed_apart_from_the_jobs_that_ran(client, partner):
    connection = ConnectionFactory(user=partner)
    ran = JobFactory(connection=connection, status=Job.DONE)
    items(ran, Item.SENT, 2)
    waiting = JobFactory(connection=connection, status=Job.DRAFT)
    items(waiting, Item.PENDING, 5)
    preparing = JobFactory(connection=connection, status=Job.DRAFT, auto_start=True)
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs")).content.decode()
    apart, main = html.split('data-testid="unconfirmed-drafts"')[1].split("</details>", 1)
    assert f"/jobs/{waiting.pk}/" in apart and "1 draft waits" in apart
    assert f"/jobs/{ran.pk}/" in main and f"/jobs/{preparing.pk}/" in main  # starts by itself
    assert f"/jobs/{waiting.pk}/" not in main
    drafts = client.get(reverse("dashboard:jobs"), {"status": "draft"}).content.decode()
    assert "unconfirmed-drafts" not in drafts and f"/jobs/{waiting.pk}/" in drafts


def test_the_jobs_list_pages_and_keeps_the_filter(client, partner):
    connection = ConnectionFactory(user=partner)
    for _ in range(30):
        JobFactory(connection=connection, status=Job.DONE)
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs"), {"status": "done"}).content.decode()
    assert html.count('data-testid="job-row"') == 25
    assert "status=done&amp;connection=&amp;page=2" in html
    page2 = client.get(reverse("dashboard:jobs"), {"status": "done", "page": 2}).content.decode()
    assert page2.count('data-testid="job-row"') == 5


@pytest.mark.browser
def test_in_a_browser_the_counts_move_without_reload_and_the_typed_filter_stays(
    page, live_server, transactional_db, partner, screenshot
):
    from playwright.sync_api import expect

    job = JobFactory(
        connection=ConnectionFactory(user=partner),
        status=Job.RUNNING,
        prepared_at=timezone.now(),
        started_at=timezone.now(),
    )
    pending = items(job, Item.PENDING, 3)
    session = Client()
    session.force_login(partner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(live_server.url + reverse("dashboard:job", args=[job.pk]))
    expect(page.get_by_test_id("count-todo")).to_have_text("3")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Number or recipient").fill("customer@exa")  # typed, not submitted

    JobItem.objects.filter(pk__in=[i.pk for i in pending[:2]]).update(
        state=Item.SENT, finished_at=timezone.now(), request_id="req-browser"
    )
    expect(page.get_by_test_id("count-sent")).to_have_text("2", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_label("Number or recipient")).to_have_value("customer@exa")
    screenshot(page, "job-running")

    JobItem.objects.filter(pk=pending[2].pk).update(state=Item.SENT, finished_at=timezone.now())
    BatchJob.objects.filter(pk=job.pk).update(status=Job.DONE, finished_at=timezone.now())
    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=15_000)
    expect(page.locator("#job-progress")).not_to_have_attribute("hx-get", re.compile(".*"))
    # the status change reloaded the table once; the typed filter is still there
    expect(page.get_by_text("req-browser").first).to_be_visible()
    expect(page.get_by_label("Number or recipient")).to_have_value("customer@exa")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "job-done")
    page.get_by_role("link", name=pending[0].document_number).click()
    expect(page.get_by_test_id("item-request-id")).to_have_text("req-browser")
    screenshot(page, "item-detail")


def test_the_end_of_preparation_reloads_the_items_table_once(client, partner, job):
    """A draft's items appear when its preparation ends, which changes no status: the
    poll that brings the preview tells the items table to reload."""
    job.status, job.prepared_at = Job.DRAFT, None
    job.save()
    client.force_login(partner)
    first, html = live(client, job)
    assert "status=draft" in html and "HX-Trigger" not in first
    items(job, Item.PENDING, 2)
    job.prepared_at = timezone.now()
    job.save()
    response, html = live(client, job, seen=0, status="draft")
    assert response["HX-Trigger"] == "job-changed"
    assert 'data-testid="preview"' in html
    assert "HX-Trigger" not in live(client, job, seen=0, status="prepared")[0]


def test_the_table_reloading_itself_adds_no_history_entry(client, partner, job):
    """Back from a job page must lead where the person came from (the wizard), not to the
    same page again: only a person's filter or paging pushes an address."""
    client.force_login(partner)
    url = reverse("dashboard:job_items", args=[job.pk])
    reload = client.get(url, {"state": "failed"}, headers={"HX-Trigger": "job-items"})
    assert reload.status_code == 200 and "HX-Push-Url" not in reload
    filtered = client.get(url, {"state": "failed"}, headers={"HX-Trigger": "item-filter"})
    assert filtered["HX-Push-Url"].endswith("?state=failed")
