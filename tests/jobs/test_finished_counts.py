"""The finished items per organization, quarter hour and state the database keeps for the
activity charts: they equal a count of the items after every path that finishes, moves,
re-opens or deletes items. Run on PostgreSQL and on SQLite (`make demo`).
"""

import importlib
from datetime import UTC, datetime, timedelta

from django.db import connection as database
from django.urls import reverse
from django.utils import timezone

from partnerapp.jobs import counts, states
from partnerapp.jobs.models import FinishedItemCount, JobItem
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

Item = JobItem.State
EVER = datetime(2000, 1, 1, tzinfo=UTC)
migration = importlib.import_module("partnerapp.jobs.migrations.0014_finished_item_counts")


def quarter(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute // 15 * 15, second=0, microsecond=0)


def counted(organization_id: int) -> dict:
    """{(quarter hour, state): items} the slow way: every finished item looked at."""
    found: dict = {}
    items = JobItem.objects.filter(job__organization_id=organization_id, finished_at__isnull=False)
    for state, finished_at in items.values_list("state", "finished_at"):
        key = (quarter(finished_at), state)
        found[key] = found.get(key, 0) + 1
    return found


def kept(organization_id: int) -> dict:
    sums = counts.finished_per_quarter(organization_id, since=EVER)
    return {key: n for key, n in sums.items() if n}


def test_the_counts_follow_every_finish_move_reopen_and_delete(db):
    job = JobFactory(status="running")
    organization_id = job.organization_id
    now = timezone.now()
    JobItem.objects.bulk_create(JobItemFactory.build_batch(8, job=job))
    JobItemFactory.create_batch(2, job=job, state=Item.SENT, finished_at=now - timedelta(hours=3))
    claimed = states.item_claim_due(job_id=job.pk, now=now)
    states.item_move(
        job.items.filter(pk=claimed.pk), source=Item.SENDING, target=Item.SENT, finished_at=now
    )
    claimed = states.item_claim_due(job_id=job.pk, now=now)
    states.item_move(
        job.items.filter(pk=claimed.pk), source=Item.SENDING, target=Item.FAILED, finished_at=now
    )
    states.item_move(job.items.all(), source=Item.PENDING, target=Item.SKIPPED, finished_at=now)
    states.item_move(  # "Retry failed": back to pending, no longer finished
        job.items.filter(pk=claimed.pk), source=Item.FAILED, target=Item.PENDING, finished_at=None
    )
    job.items.filter(state=Item.SKIPPED).order_by("pk").first().delete()
    job.items.filter(state=Item.SKIPPED).update(
        finished_at=now - timedelta(days=2)
    )  # moved in time
    job.items.filter(state=Item.SENT).update(outcome="no change that counts")

    assert kept(organization_id) == counted(organization_id)
    assert sum(kept(organization_id).values()) == 2 + 1 + 5


def test_each_organization_sees_its_own_items_only(db):
    mine, theirs = JobFactory(), JobFactory()
    now = timezone.now()
    JobItemFactory.create_batch(3, job=mine, state=Item.SENT, finished_at=now)
    JobItemFactory.create_batch(4, job=theirs, state=Item.SENT, finished_at=now)
    assert mine.organization_id != theirs.organization_id

    assert kept(mine.organization_id) == {(quarter(now), Item.SENT): 3}
    assert kept(theirs.organization_id) == {(quarter(now), Item.SENT): 4}


def test_a_deleted_jobs_finished_items_come_to_nothing(db):
    job = JobFactory(status="done")
    JobItemFactory.create_batch(3, job=job, state=Item.SENT, finished_at=timezone.now())

    job.delete()

    assert kept(job.organization_id) == {}


def test_a_quarter_hour_of_many_rows_is_folded_into_one_per_state_when_read(db):
    job = JobFactory(status="running")
    at = quarter(timezone.now() - timedelta(hours=1)) + timedelta(minutes=7)
    for n in range(counts.FOLD_QUARTER_AFTER + 3):  # one statement each: a row each
        JobItemFactory(job=job, state=Item.FAILED if n < 2 else Item.SENT, finished_at=at)

    first = kept(job.organization_id)  # reads the sums, then folds the crowded quarter hour

    assert first == counted(job.organization_id) == kept(job.organization_id)
    rows = FinishedItemCount.objects.filter(organization_id=job.organization_id)
    assert sorted((row.state, row.count) for row in rows) == [
        (Item.FAILED, 2),
        (Item.SENT, counts.FOLD_QUARTER_AFTER + 1),
    ]


def test_the_migrations_fill_counts_the_items_finished_before_it(db):
    job = JobFactory(status="done")
    JobItemFactory.create_batch(2, job=job, state=Item.SENT, finished_at=timezone.now())
    JobItemFactory.create_batch(3, job=job, state=Item.UNCERTAIN, finished_at=timezone.now())
    JobItemFactory.create_batch(1, job=job, state=Item.PENDING)
    FinishedItemCount.objects.all().delete()

    with database.cursor() as cursor:
        cursor.execute(migration.FILL[database.vendor])

    assert kept(job.organization_id) == counted(job.organization_id)


def test_the_charts_put_each_quarter_hour_in_its_local_day_and_utc_hour(client, partner, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: a local day starts at a half hour
    job = JobFactory(connection=ConnectionFactory(user=partner))
    today = timezone.localtime(timezone.now()).date()
    midnight = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    JobItemFactory.create_batch(
        2, job=job, state=Item.SENT, finished_at=midnight - timedelta(minutes=1)
    )
    JobItemFactory.create_batch(3, job=job, state=Item.SENT, finished_at=midnight)
    client.force_login(partner)

    html = client.get(reverse("dashboard:activity")).content.decode()

    day = html.split('data-testid="chart-sends-per-day"')[1].split("</figure>")[0]
    rows = day.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")
    assert "<td>2</td>" in rows[-2] and "<td>3</td>" in rows[-1]  # yesterday, today
