"""Drafts nobody confirmed expire (issue 13): after JOB_DRAFT_EXPIRY_HOURS a beat task
cancels them in one conditional UPDATE. A confirm at the same moment wins or loses
cleanly: a confirmed job is never cancelled, a cancelled one never queued.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.db import connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from partnerapp.jobs import services, tasks
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.organizations.models import AuditEvent
from tests.conftest import require_postgresql
from tests.jobs.factories import JobFactory, JobItemFactory
from tests.waiting import wait_for

Job, Item = BatchJob.Status, JobItem.State
EXPIRED_TEXT = (
    "Nobody confirmed this draft in time, so it expired and was cancelled. "
    "Nothing was done; create a new job to do it."
)


def aged(hours: float, **fields) -> BatchJob:
    """A draft (prepared, with one pending item) created `hours` ago."""
    created = timezone.now() - timedelta(hours=hours)
    job = JobFactory(created_at=created, prepared_at=created, **fields)
    JobItemFactory(job=job)
    return job


@pytest.mark.django_db
def test_a_draft_older_than_the_expiry_is_cancelled_with_a_code_said_in_the_readers_language():
    old = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 0.1)
    assert services.jobs_expire_drafts() == 1
    old.refresh_from_db()
    assert old.status == Job.CANCELLED and old.finished_at is not None
    assert old.error == BatchJob.DRAFT_EXPIRED  # a code, not a sentence
    for language in ("en", "de", "fr", "it"):
        with translation.override(language):
            assert old.error_message == gettext(EXPIRED_TEXT)
    assert list(old.items.values_list("state", "outcome_code")) == [(Item.SKIPPED, "cancelled")]
    event = AuditEvent.objects.get(action="job.expire", object_id=str(old.pk))
    assert event.before == {"status": "draft"} and event.after == {"status": "cancelled"}
    assert event.actor is None and event.actor_label == "partnerapp"


@pytest.mark.django_db
def test_younger_drafts_started_jobs_and_drafts_that_start_by_themselves_are_left_alone():
    young = aged(settings.JOB_DRAFT_EXPIRY_HOURS - 0.1)
    auto = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 5, auto_start=True)  # a schedule's, say
    queued = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 5, status=Job.QUEUED)
    done = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 5, status=Job.DONE)
    assert services.jobs_expire_drafts() == 0
    for job, status in ((young, Job.DRAFT), (auto, Job.DRAFT), (queued, Job.QUEUED)):
        job.refresh_from_db()
        assert (job.status, job.error) == (status, "")
        assert job.items.get().state == Item.PENDING
    done.refresh_from_db()
    assert done.status == Job.DONE
    assert young.expires_at == young.created_at + timedelta(hours=settings.JOB_DRAFT_EXPIRY_HOURS)
    assert auto.expires_at is None and queued.expires_at is None


@pytest.mark.django_db
def test_the_expiry_follows_the_setting(settings):
    settings.JOB_DRAFT_EXPIRY_HOURS = 2
    job = aged(3)
    assert job.expires_at < timezone.now()
    assert services.jobs_expire_drafts() == 1


@pytest.mark.django_db
def test_the_beat_task_expires_drafts_and_beat_runs_it():
    job = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 1)
    assert tasks.expire_drafts.apply().get() == 1
    assert BatchJob.objects.get(pk=job.pk).status == Job.CANCELLED
    entry = settings.CELERY_BEAT_SCHEDULE["jobs-expire-drafts"]
    assert entry["task"] == "partnerapp.jobs.tasks.expire_drafts"
    assert tasks.expire_drafts.name == entry["task"]


@pytest.mark.django_db
def test_confirming_an_expired_draft_changes_nothing():
    job = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 1)
    services.jobs_expire_drafts()
    job.refresh_from_db()
    assert services.job_start(job=job) is False
    job.refresh_from_db()
    assert job.status == Job.CANCELLED


# -- a confirm and the expiry at the same moment (PostgreSQL row locks) ----------------------


def _blocked_on_a_lock(pid: int) -> bool:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def _in_thread(work, results: dict, key: str, pids: dict | None = None):
    def run():
        try:
            if pids is not None:
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pids[key] = cursor.fetchone()[0]
            results[key] = work()
        except BaseException as exc:  # reported by the test's assertion on `results`
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_confirm_that_comes_first_wins_and_the_expiry_passes_it_by():
    require_postgresql()
    job = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 1)
    confirmed, release = threading.Event(), threading.Event()
    results: dict = {}
    pids: dict = {}

    def confirm():
        with transaction.atomic():  # the confirm's UPDATE holds the row until commit
            started = services.job_start(job=BatchJob.objects.get(pk=job.pk))
            confirmed.set()
            release.wait(60)
        return started

    first = _in_thread(confirm, results, "confirm")
    assert confirmed.wait(60)
    second = _in_thread(services.jobs_expire_drafts, results, "expire", pids)
    wait_for(
        lambda: "expire" in pids and _blocked_on_a_lock(pids["expire"]), message="expiry waits"
    )
    release.set()
    first.join(60)
    second.join(60)
    assert results == {"confirm": True, "expire": 0}
    job.refresh_from_db()
    assert job.status == Job.QUEUED and job.error == ""
    assert job.items.get().state == Item.PENDING


@pytest.mark.django_db(transaction=True)
def test_an_expiry_that_comes_first_wins_and_the_confirm_changes_nothing():
    require_postgresql()
    job = aged(settings.JOB_DRAFT_EXPIRY_HOURS + 1)
    expired, release = threading.Event(), threading.Event()
    results: dict = {}
    pids: dict = {}

    def expire():
        with transaction.atomic():
            count = services.jobs_expire_drafts()
            expired.set()
            release.wait(60)
        return count

    first = _in_thread(expire, results, "expire")
    assert expired.wait(60)
    loaded = BatchJob.objects.get(pk=job.pk)  # the confirming page still saw a draft
    assert loaded.status == Job.DRAFT
    second = _in_thread(lambda: services.job_start(job=loaded), results, "confirm", pids)
    wait_for(
        lambda: "confirm" in pids and _blocked_on_a_lock(pids["confirm"]), message="confirm waits"
    )
    release.set()
    first.join(60)
    second.join(60)
    assert results == {"expire": 1, "confirm": False}
    job.refresh_from_db()
    assert job.status == Job.CANCELLED and job.error == BatchJob.DRAFT_EXPIRED
    assert job.items.get().state == Item.SKIPPED
    assert not AuditEvent.objects.filter(action="job.confirm", object_id=str(job.pk)).exists()
