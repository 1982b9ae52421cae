"""Recurring jobs: one normal job per cron slot, whatever the ticks do."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections as db_connections

from partnerapp.jobs import schedules
from partnerapp.jobs.models import BatchJob, Schedule, ScheduleRun
from tests.jobs.factories import ConnectionFactory

ZURICH = ZoneInfo("Europe/Zurich")
MONDAY_0805 = datetime(2026, 11, 23, 8, 5, tzinfo=ZURICH)


def weekday_mornings(partner, **fields) -> Schedule:
    values = {
        "user": partner,
        "connection": ConnectionFactory(user=partner),
        "name": "Drafts of today",
        "action": "invoice.send_by_email",
        "cron": "0 8 * * 1-5",
        "time_zone": "Europe/Zurich",
        "selection": {"filter": {"status": "DR", "date_from": "today", "date_to": "today"}},
        "parameters": {"subject": "Invoice {INVOICENO}", "body": "Hello"},
        "created_at": MONDAY_0805 - timedelta(days=3),
    }
    return Schedule.objects.create(**{**values, **fields})


def test_a_due_slot_creates_one_normal_job(partner):
    schedule = weekday_mornings(partner)
    job_ids = schedules.schedules_tick(now=MONDAY_0805)
    job = BatchJob.objects.get(pk__in=job_ids)
    assert job.schedule_run.slot_at == MONDAY_0805.replace(minute=0)
    assert job.auto_start and job.status == BatchJob.Status.DRAFT
    assert job.selection["filter"]["date_from"] == "2026-11-23"  # "today" is the slot's day
    assert schedule.runs.count() == 1


def test_a_repeated_tick_creates_nothing(partner):
    weekday_mornings(partner)
    schedules.schedules_tick(now=MONDAY_0805)
    assert schedules.schedules_tick(now=MONDAY_0805 + timedelta(seconds=30)) == []
    assert BatchJob.objects.count() == 1


def test_missed_ticks_run_only_the_latest_missed_slot(partner):
    schedule = weekday_mornings(partner, created_at=MONDAY_0805 - timedelta(days=1))
    thursday = MONDAY_0805 + timedelta(days=3, hours=2)  # beat was down Monday to Thursday
    schedules.schedules_tick(now=thursday)
    assert list(schedule.runs.values_list("slot_at", flat=True)) == [
        thursday.replace(hour=8, minute=0)
    ]


def test_no_slot_before_the_schedule_existed(partner):
    weekday_mornings(partner, created_at=MONDAY_0805)
    assert schedules.schedules_tick(now=MONDAY_0805 + timedelta(minutes=30)) == []


def test_disabled_schedules_do_not_run(partner):
    weekday_mornings(partner, enabled=False)
    assert schedules.schedules_tick(now=MONDAY_0805) == []


def test_concurrent_ticks_create_one_job(transactional_db, partner):
    from tests.conftest import require_postgresql

    require_postgresql()  # SQLite serialises writers anyway; the race needs real concurrency
    weekday_mornings(partner)
    barrier = threading.Barrier(4)

    def tick() -> None:
        barrier.wait()
        try:
            schedules.schedules_tick(now=MONDAY_0805)
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ScheduleRun.objects.count() == 1 and BatchJob.objects.count() == 1


def test_a_bad_cron_expression_is_explained():
    with pytest.raises(ValueError, match="Not a valid cron expression"):
        schedules.cron_check("61 8 * * *")
