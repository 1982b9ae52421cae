"""Read-only queries for the overview, the connection page and the activity charts.

Each function answers in a fixed number of queries, whatever the number of
connections or jobs: counts come from one aggregate over the rows shown, never
one query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from partnerapp.connections import requestlog
from partnerapp.connections.models import ClientRefusal, Connection
from partnerapp.connections.services import client_refusals
from partnerapp.dashboard.charts import Chart, Reference, Series
from partnerapp.jobs.counts import counts_for, finished_per_quarter
from partnerapp.jobs.models import BatchJob, JobItem, JobItemCount
from partnerapp.jobs.operations import OPERATIONS

Item = JobItem.State
Job = BatchJob.Status

RECENT_JOBS = 10
CONNECTIONS_PER_PAGE = 50  # the overview's table of accounts; a firm may have a thousand
# What lists of jobs never show and may be large (a payment job carries every payment).
JOB_BULK = ("parameters", "selection")
ALERT_DAYS = 30  # failed jobs and problem items older than this no longer raise alerts
ALERTS_PER_KIND = 5
TOKEN_WARNING_SECONDS = 15 * 60
GAUGE_LOW = 0.1  # under 10 % of the window left: the gauge turns amber


# -- connections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenHealth:
    """How the connection's tokens stand. `state` doubles as a CSS class."""

    state: str  # valid | expires_soon | expired | refresh_failed | needs_reauth | disconnected
    valid_until: datetime | None
    last_refresh: datetime | None

    @property
    def is_problem(self) -> bool:
        return self.state in {"refresh_failed", "needs_reauth", "disconnected"}


def token_health(connection: Connection, *, now: datetime) -> TokenHealth:
    """An expired access token alone is no problem: the next call refreshes it. A refused
    refresh token is (needs re-authorization), and so is a failing refresh (last_error)."""
    expires = connection.access_token_expires_at
    if connection.status == Connection.Status.DISCONNECTED:
        state = "disconnected"
    elif connection.status == Connection.Status.NEEDS_REAUTH:
        state = "needs_reauth"
    elif connection.last_error:
        state = "refresh_failed"
    elif expires is None or expires <= now:
        state = "expired"
    elif expires <= now + timedelta(seconds=TOKEN_WARNING_SECONDS):
        state = "expires_soon"
    else:
        state = "valid"
    return TokenHealth(state=state, valid_until=expires, last_refresh=connection.last_refreshed_at)


@dataclass(frozen=True)
class RateGauge:
    """The provider's rate-limit window as last seen. `limit` None: never seen yet."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None

    @property
    def known(self) -> bool:
        return self.limit is not None and self.remaining is not None

    @property
    def used(self) -> int:
        return (self.limit or 0) - (self.remaining or 0)

    @property
    def level(self) -> str:
        if not self.known:
            return "unknown"
        if self.remaining == 0:
            return "empty"
        return "low" if self.remaining < self.limit * GAUGE_LOW else "ok"

    @property
    def low_mark(self) -> int:
        """`<meter low=…>`: below this many calls left the browser shows it as low."""
        return max(1, round((self.limit or 0) * GAUGE_LOW))


def rate_gauge(connection: Connection, *, now: datetime) -> RateGauge:
    """After the window's reset time the full budget is back, whatever we saw before."""
    window = connection.rate
    limit, remaining, reset_at = window.limit, window.remaining, window.reset_at
    if limit is not None and reset_at is not None and reset_at <= now:
        return RateGauge(limit=limit, remaining=limit, reset_at=None)
    if limit is not None and remaining is not None:
        remaining = min(remaining, limit)
    return RateGauge(limit=limit, remaining=remaining, reset_at=reset_at)


@dataclass(frozen=True)
class ConnectionCard:
    connection: Connection
    health: TokenHealth
    gauge: RateGauge


def connection_card(connection: Connection, *, now: datetime) -> ConnectionCard:
    return ConnectionCard(
        connection=connection,
        health=token_health(connection, now=now),
        gauge=rate_gauge(connection, now=now),
    )


# -- picking an account ---------------------------------------------------------------------------

ACCOUNT_OPTIONS = 50  # up to this many accounts a form lists them all; beyond, it searches


@dataclass(frozen=True)
class AccountChoices:
    """The accounts a form offers. A firm may have a thousand: past ACCOUNT_OPTIONS a
    search field (part of the name or the account number) narrows them first."""

    options: list[Connection]  # every account when few; else the search's first matches
    many: bool  # more than ACCOUNT_OPTIONS accounts: the form shows the search field
    search: str
    more: bool = False  # the search matched more accounts than `options` holds


def account_matching(search: str, *, via: str = "") -> Q:
    """Accounts (or, with via="connection__", their rows) whose name holds `search` in
    any case, or whose account number is `search`."""
    return Q(**{f"{via}owner_name__icontains": search}) | Q(**{f"{via}account_id": search})


def account_choices(organization, *, search: str = "") -> AccountChoices:
    """At most two short queries, however many accounts the organization has."""
    accounts = Connection.objects.filter(organization=organization).order_by("owner_name", "pk")
    accounts = accounts.only("organization", "owner_name", "account_id", "status")
    first = list(accounts[: ACCOUNT_OPTIONS + 1])
    if len(first) <= ACCOUNT_OPTIONS:
        return AccountChoices(options=first, many=False, search=search)
    if not search:
        return AccountChoices(options=[], many=True, search=search)
    found = list(accounts.filter(account_matching(search))[: ACCOUNT_OPTIONS + 1])
    return AccountChoices(
        options=found[:ACCOUNT_OPTIONS], many=True, search=search, more=len(found) > ACCOUNT_OPTIONS
    )


# -- jobs ----------------------------------------------------------------------------------------


def counts_for_jobs(job_ids: list[int]) -> dict[int, dict[str, int]]:
    """Items per state for each job, in one query (the shape of job_counts)."""
    return counts_for(job_ids)


def jobs_with_counts(jobs) -> list[tuple[BatchJob, dict[str, int]]]:
    jobs = list(jobs)
    counts = counts_for_jobs([job.pk for job in jobs])
    return [(job, counts[job.pk]) for job in jobs]


# -- alerts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """Something that needs a person, and what fixes it. The template words each kind."""

    kind: str  # client_refused | reauth | refresh_failed | paused | job_failed | items_…
    level: str  # bad | warn: the CSS class of the alert
    connection: Connection | None = None
    job: BatchJob | None = None
    count: int = 0
    refusal: ClientRefusal | None = None


def alerts_for(organization, *, now: datetime) -> list[Alert]:
    """Connections that need re-authorization or fail to refresh, paused jobs, failed jobs
    and jobs with failed or uncertain items — most urgent first. The provider refusing
    partnerapp's own credentials comes first: nothing moves until the operator acts.
    Asks for the connections in trouble only: an organization may have a thousand."""
    mine = Connection.objects.filter(organization=organization)
    active = mine.filter(status=Connection.Status.ACTIVE)
    alerts = []
    if refusals := client_refusals():
        used = set(
            active.filter(base_url__in=[r.base_url for r in refusals]).values_list(
                "base_url", flat=True
            )
        )
        alerts += [
            Alert(kind="client_refused", level="bad", refusal=refusal)
            for refusal in refusals
            if refusal.base_url in used
        ]
    troubled = list(
        mine.filter(
            Q(status=Connection.Status.NEEDS_REAUTH) | Q(status=Connection.Status.ACTIVE)
        ).exclude(status=Connection.Status.ACTIVE, last_error="")
    )
    alerts += [
        Alert(kind="reauth", level="bad", connection=c)
        for c in troubled
        if c.status == Connection.Status.NEEDS_REAUTH
    ]
    alerts += [
        Alert(kind="refresh_failed", level="warn", connection=c)
        for c in troubled
        if c.status == Connection.Status.ACTIVE
    ]
    return alerts + _job_alerts(organization, now=now)


def _job_alerts(organization, *, now: datetime) -> list[Alert]:
    """Newest first, at most ALERTS_PER_KIND of each kind, so one kind cannot crowd out
    another. Five queries, whatever the number of jobs."""
    since = now - timedelta(days=ALERT_DAYS)
    jobs = (
        BatchJob.objects.filter(organization=organization)
        .select_related("connection")
        .defer(*JOB_BULK)
    )
    newest = ("-created_at", "-pk")
    paused = jobs.filter(status=Job.PAUSED).order_by(*newest)[:ALERTS_PER_KIND]
    failed = jobs.filter(status=Job.FAILED, created_at__gte=since).order_by(*newest)
    troubled = list(_troubled(jobs, since=since).order_by(*newest)[:ALERTS_PER_KIND])
    problems = counts_for([job.pk for job in troubled])
    alerts = [Alert(kind="paused", level="warn", job=j, connection=j.connection) for j in paused]
    alerts += [Alert(kind="job_failed", level="bad", job=j) for j in failed[:ALERTS_PER_KIND]]
    for job in troubled:
        for state, kind in ((Item.FAILED, "items_failed"), (Item.UNCERTAIN, "items_uncertain")):
            if count := problems[job.pk][state]:
                alerts.append(Alert(kind=kind, level="warn", job=job, count=count))
    return alerts


def _troubled(jobs, *, since: datetime):
    """Recent jobs with failed or uncertain items that can still act on them (from the
    kept counts: a job of a million items is not counted again)."""
    problems = (
        JobItemCount.objects.filter(job_id=OuterRef("pk"), state__in=[Item.FAILED, Item.UNCERTAIN])
        .order_by()
        .values("job_id")
        .annotate(n=Sum("count"))
        .values("n")
    )
    recent = jobs.filter(created_at__gte=since).exclude(status__in=[Job.CANCELLED, Job.FAILED])
    return recent.annotate(problems=Subquery(problems)).filter(problems__gt=0)


# -- the overview --------------------------------------------------------------------------------


def overview_for(organization, *, page: str | None = None) -> dict:
    """Everything the overview shows, in a fixed handful of queries: a page of the
    connections (by name), the recent jobs and the alerts."""
    now = timezone.now()
    connections = Connection.objects.filter(organization=organization).select_related("rate_window")
    connections_page = Paginator(connections, CONNECTIONS_PER_PAGE).get_page(page)
    recent = (
        BatchJob.objects.filter(organization=organization)
        .select_related("connection")
        .defer(*JOB_BULK)
    )
    recent = recent[:RECENT_JOBS]
    return {
        "cards": [connection_card(c, now=now) for c in connections_page],
        "connections_page": connections_page,
        "recent_jobs": jobs_with_counts(recent),
        "alerts": alerts_for(organization, now=now),
        "now": now,
    }


# -- charts ----------------------------------------------------------------------------------------

OUTCOMES = (Item.SENT, Item.FAILED, Item.UNCERTAIN, Item.SKIPPED)
RATE_HOURS = 24  # the rate-use charts' period


def _outcome_series(buckets: list[datetime], counts: dict) -> list[Series]:
    names = dict(Item.choices)
    return [
        Series(
            name=str(names[state]).split(" —")[0],
            key=state,
            values=[counts.get((bucket, state), 0) for bucket in buckets],
        )
        for state in OUTCOMES
    ]


def _hours_back(now: datetime, hours: int) -> list[datetime]:
    """The starts of the last `hours` whole hours, oldest first (UTC: no DST gaps)."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=back) for back in range(hours - 1, -1, -1)]


def _hour_labels(buckets: list[datetime]) -> list[str]:
    return [timezone.localtime(bucket).strftime("%H") for bucket in buckets]


def _outcome_counts(organization, *, since: datetime, bucket_of) -> dict:
    """(bucket, state) → how many of the organization's items finished in each bucket
    since `since` (a whole quarter hour), from the counts the database keeps per quarter
    hour: `bucket_of` maps a quarter hour's start to its bucket."""
    counts: dict = {}
    for (quarter, state), n in finished_per_quarter(organization.pk, since=since).items():
        if state in OUTCOMES:
            key = (bucket_of(quarter), state)
            counts[key] = counts.get(key, 0) + n
    return counts


def sends_per_day(organization, *, now: datetime, days: int = 14) -> Chart:
    """Finished items of the organization's jobs per local calendar day and outcome."""
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now, zone).date()
    buckets = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    start = timezone.make_aware(datetime.combine(buckets[0], datetime.min.time()), zone)
    counts = _outcome_counts(
        organization,
        since=start,
        bucket_of=lambda quarter: timezone.localtime(quarter, zone).date(),
    )
    return Chart(
        slug="sends-per-day",
        title=_("Sends per day"),
        description=_("Items finished per day over the last %(days)d days, by outcome.")
        % {"days": days},
        labels=[date_format(day, "j M") for day in buckets],
        series=_outcome_series(buckets, counts),
        label_every=2,
        empty_text=_("Nothing was sent in this period."),
    )


def sends_per_hour(organization, *, now: datetime, hours: int = 48) -> Chart:
    """Finished items of the organization's jobs per hour and outcome."""
    buckets = _hours_back(now, hours)
    counts = _outcome_counts(
        organization,
        since=buckets[0],
        bucket_of=lambda quarter: quarter.astimezone(UTC).replace(minute=0),
    )
    return Chart(
        slug="sends-per-hour",
        title=_("Sends per hour"),
        description=_("Items finished per hour over the last %(hours)d hours, by outcome.")
        % {"hours": hours},
        labels=_hour_labels(buckets),
        series=_outcome_series(buckets, counts),
        label_every=6,
        empty_text=_("Nothing was sent in this period."),
    )


def hourly_budget(connection: Connection) -> float | None:
    """The provider's budget per hour, from its window size as last seen."""
    limit = connection.rate.limit
    if limit is None:
        return None
    period = settings.SMARTBUSINESS_RATE_LIMIT_PERIOD
    return limit * 3600 / max(1, period)


def connections_busiest_first(connections, *, now: datetime, hours: int = RATE_HOURS):
    """`connections` (a queryset) ordered by their calls in the last `hours`, most first,
    then by name: the accounts near their limit come first, however many there are."""
    return requestlog.connections_busiest_first(connections, since=_hours_back(now, hours)[0])


def rate_use_charts(
    connections: list[Connection], *, now: datetime, hours: int = RATE_HOURS
) -> list:
    """Per connection: calls per hour over the last `hours` against its hourly budget,
    and how many the provider refused with 429. One query for all connections, over the
    hourly counts the database keeps (a row or a few per bar, not every call)."""
    buckets = _hours_back(now, hours)
    seen = requestlog.calls_per_hour([c.pk for c in connections], since=buckets[0])
    return [_rate_chart(c, buckets, seen, hours) for c in connections]


def _rate_chart(connection: Connection, buckets: list[datetime], seen: dict, hours: int) -> Chart:
    def column(name: str) -> list[int]:
        return [seen.get((connection.pk, b), {}).get(name, 0) for b in buckets]

    throttled, calls = column("throttled"), column("calls")
    answered = [total - refused for total, refused in zip(calls, throttled, strict=True)]
    budget = hourly_budget(connection)
    reference = None
    if budget is not None:
        reference = Reference(value=budget, label=_("budget %(n)s/h") % {"n": round(budget)})
    return Chart(
        slug=f"rate-use-{connection.pk}",
        title=_("Rate-limit use: %(name)s") % {"name": connection.owner_name},
        description=_(
            "Calls per hour over the last %(hours)d hours: %(calls)d calls, %(throttled)d "
            "refused with 429 (too many requests)."
        )
        % {"hours": hours, "calls": sum(calls), "throttled": sum(throttled)},
        labels=_hour_labels(buckets),
        series=[
            Series(name=_("calls"), key="calls", values=answered),
            Series(name=_("429 refused"), key="throttled", values=throttled),
        ],
        reference=reference,
        label_every=3,
        height=200,
        empty_text=_("No calls in this period."),
        extra={
            "connection": connection,
            "calls": sum(calls),
            "throttled": sum(throttled),
            "budget": budget,
        },
    )


# -- one document ------------------------------------------------------------------------------


def invoice_history(connection: Connection, invoice_id: int, *, organization) -> list[JobItem]:
    """Every item of `organization`'s invoice jobs on the connection's provider account
    (whichever of its connections to it ran them) that touched invoice `invoice_id`, newest
    first, each with its job — one query."""
    invoice_actions = [key for key, op in OPERATIONS.items() if op.document == "invoice"]
    items = JobItem.objects.filter(
        job__organization=organization,
        job__connection__base_url=connection.base_url,
        job__connection__account_id=connection.account_id,
        job__action__in=invoice_actions,
        document_id=invoice_id,
    )
    bulk = [f"job__{field}" for field in JOB_BULK]
    return list(items.select_related("job").defer(*bulk).order_by("-pk"))
