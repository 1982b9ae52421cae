"""Recurring jobs. celery beat calls `schedules_tick` often; each due cron slot becomes
one normal job, exactly once: a slot is a row with a unique (schedule, slot) key, so a
repeated tick (two beats, a retried task) finds it taken. After downtime only the most
recent missed slot runs — a backlog of stale sends helps nobody.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerapp.connections.models import Connection
from partnerapp.jobs import services
from partnerapp.jobs.models import Schedule, ScheduleRun
from partnerapp.jobs.operations import JobInputError, operation_for
from partnerapp.organizations import audit, permissions
from partnerapp.organizations.permissions import Perm
from partnerapp.smartbusiness.describe import missing_scope_message

logger = logging.getLogger(__name__)
LOOKBACK = timedelta(days=2)  # slots older than this are not caught up
# The one-click reminder run: every Monday at 07:00, Swiss time.
WEEKLY_REMINDERS = {
    "action": "invoice.send_reminders",
    "cron": "0 7 * * 1",
    "time_zone": "Europe/Zurich",
}


# cronsim's reasons (English, fixed texts) in the reader's language.
CRON_PROBLEMS = {
    "Wrong number of fields": gettext_lazy(
        "it needs five fields: minute, hour, day of the month, month, day of the week"
    ),
    "Bad second": gettext_lazy("the seconds are not valid"),
    "Bad minute": gettext_lazy("the minute is not valid"),
    "Bad hour": gettext_lazy("the hour is not valid"),
    "Bad day-of-month": gettext_lazy("the day of the month is not valid"),
    "Bad month": gettext_lazy("the month is not valid"),
    "Bad day-of-week": gettext_lazy("the day of the week is not valid"),
}


def cron_check(expression: str) -> str:
    """The expression if valid; ValueError with a readable message otherwise."""
    try:
        CronSim(expression, datetime.now(ZoneInfo("UTC")))
    except CronSimError as exc:
        problem = CRON_PROBLEMS.get(str(exc), str(exc))
        raise ValueError(_("Not a valid cron expression: %(e)s") % {"e": problem}) from exc
    return expression


def latest_due_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The most recent slot at or before `now` that this schedule has not run yet."""
    zone = ZoneInfo(schedule.time_zone)
    since = max(filter(None, [schedule.last_slot_at, schedule.created_at, now - LOOKBACK]))
    latest = None
    for slot in CronSim(schedule.cron, since.astimezone(zone)):
        if slot > now:
            break
        latest = slot
    return latest


def schedules_tick(*, now: datetime | None = None) -> list[int]:
    """Create the jobs of every due slot; returns the new job ids."""
    now = now or timezone.now()
    created = []
    for schedule in Schedule.objects.filter(enabled=True).select_related("connection", "user"):
        slot = latest_due_slot(schedule, now)
        if slot is not None:
            job_id = _run(schedule, slot)
            if job_id:
                created.append(job_id)
    return created


def _run(schedule: Schedule, slot: datetime) -> int | None:
    try:
        with transaction.atomic():
            run = ScheduleRun.objects.create(schedule=schedule, slot_at=slot)
            Schedule.objects.filter(pk=schedule.pk).update(last_slot_at=slot)
            job = services.job_create(
                user=schedule.user,
                connection=schedule.connection,
                action=schedule.action,
                selection_spec=_for_slot(schedule.selection, slot),
                parameters=schedule.parameters,
                auto_start=True,
                schedule_run=run,
            )
    except IntegrityError:
        return None  # another tick ran this slot
    except services.JobInputError as exc:
        logger.warning("schedule %s slot %s not run: %s", schedule.pk, slot, exc)
        Schedule.objects.filter(pk=schedule.pk).update(last_slot_at=slot)
        return None
    return job.pk


def _for_slot(selection: dict, slot: datetime) -> dict:
    """Resolve "today" to the slot's own date, so a late run still means that day."""
    spec = dict(selection.get("filter") or {})
    for key in ("date_from", "date_to"):
        if spec.get(key) == "today":
            spec[key] = slot.date().isoformat()
    return {**selection, "filter": spec} if "filter" in selection else selection


def weekly_reminders_create(*, user, connection: Connection) -> tuple[Schedule, bool]:
    """The Monday 07:00 reminder run of `connection`, with the shipped texts and days.

    Returns (schedule, True) when it was created, or (the existing one, False) when
    the organization already has a reminder run at that time for that account: a second
    one would only race the first. The parameters are the operation's defaults, checked by
    its own form; the selection is every invoice the operation takes up (its
    `default_statuses`, which its own filter applies at each run). PermissionDenied
    when the user may not run jobs there; JobInputError when the connection lacks the
    operation's scope.
    """
    operation = operation_for(WEEKLY_REMINDERS["action"])
    permissions.require_member(user, connection.organization_id, Perm.OPERATE)
    if operation.required_scope not in connection.scope_list:
        raise JobInputError(missing_scope_message(operation.required_scope))
    parameters = operation.check({})
    with transaction.atomic():
        # two clicks at once: the second waits here and then finds the first's schedule
        Connection.objects.select_for_update().filter(pk=connection.pk).first()
        existing = Schedule.objects.filter(connection=connection, **WEEKLY_REMINDERS)
        if schedule := existing.order_by("pk").first():
            return schedule, False
        schedule = Schedule.objects.create(
            user=user,
            connection=connection,
            name=_("Weekly reminder run (Mondays 07:00)"),
            selection={"filter": {}},
            parameters=parameters,
            **WEEKLY_REMINDERS,
        )
        audit.record(
            "schedule.create",
            organization=schedule.organization_id,
            obj=schedule,
            after=audit.snapshot(schedule, ["action", "cron", "time_zone", "enabled"]),
            actor=user,
        )
    return schedule, True


# -- a person's changes ------------------------------------------------------------------------

AUDITED_FIELDS = ["name", "connection", "action", "cron", "time_zone", "selection", "parameters"]


def schedule_save(*, schedule: Schedule, fields: dict, action: str = "") -> Schedule:
    """Create (an unsaved `schedule`) or change a schedule and record what changed.

    A changed or re-enabled timing starts from now: no catch-up run of a slot that
    passed under the old timing or while the schedule was off. `action` names the
    audit event ("schedule.toggle"); by default create or update.
    """
    adding = schedule._state.adding
    audited = [*AUDITED_FIELDS, "enabled"]
    before = {} if adding else audit.snapshot(schedule, audited)
    timing = (schedule.cron, schedule.time_zone, schedule.enabled)
    for name, value in fields.items():
        setattr(schedule, name, value)
    retimed = (schedule.cron, schedule.time_zone, schedule.enabled) != timing
    if not adding and retimed and schedule.enabled:
        schedule.last_slot_at = timezone.now()
    schedule.save()
    before, after = audit.changes(before, audit.snapshot(schedule, audited))
    action = action or ("schedule.create" if adding else "schedule.update")
    audit.record(
        action, organization=schedule.organization_id, obj=schedule, before=before, after=after
    )
    return schedule


def schedule_toggle(*, schedule: Schedule) -> Schedule:
    """Enable a disabled schedule or disable an enabled one."""
    return schedule_save(
        schedule=schedule, fields={"enabled": not schedule.enabled}, action="schedule.toggle"
    )


def schedule_delete(*, schedule: Schedule) -> None:
    """Delete the schedule; the jobs it made stay."""
    before = audit.snapshot(schedule, ["action", "cron", "time_zone", "enabled"])
    with transaction.atomic():
        audit.record(
            "schedule.delete", organization=schedule.organization_id, obj=schedule, before=before
        )
        schedule.delete()
