"""The pages partner users live in. Thin: parse, check access, call a service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from partnerapp.connections import requestlog
from partnerapp.connections.models import Connection
from partnerapp.dashboard import selectors
from partnerapp.jobs import services as jobs

ITEMS_PER_PAGE = 50
REQUEST_LOG_PER_PAGE = 50
CONNECTION_JOBS = 20
STATUS_CHOICES = ["2xx", "4xx", "5xx", "429", "none"]


def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "dashboard/landing.html")
    return render(request, "dashboard/overview.html", selectors.overview_for(request.user))


@login_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    now = timezone.now()
    recent = jobs.jobs_for(request.user).filter(connection=connection).defer(*selectors.JOB_BULK)
    recent = recent[:CONNECTION_JOBS]
    context = {
        "card": selectors.connection_card(connection, now=now),
        "connection": connection,
        "recent_jobs": selectors.jobs_with_counts(recent),
        "rate_chart": selectors.rate_use_charts([connection], now=now)[0],
    }
    return render(request, "dashboard/connection.html", context)


@login_required
def request_log(request: HttpRequest, pk: int) -> HttpResponse:
    """A connection's calls to the provider, filterable by status and X-Request-Id."""
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    status = request.GET.get("status", "").strip()[:8]
    request_id = request.GET.get("request_id", "").strip()[:64]
    entries = requestlog.entries_for(connection, status=status, request_id=request_id)
    page = Paginator(entries, REQUEST_LOG_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "connection": connection,
        "page": page,
        "status": status,
        "request_id": request_id,
        "status_choices": STATUS_CHOICES,
        "filtered": bool(status or request_id),
        "query": query_without_page(request),
    }
    return render(request, "dashboard/request_log.html", context)


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """Charts: sends per day and hour by outcome, and each account's rate-limit use."""
    now = timezone.now()
    connections = list(
        Connection.objects.filter(user=request.user)
        .exclude(status=Connection.Status.DISCONNECTED)
        .select_related("rate_window")
    )
    context = {
        "per_day": selectors.sends_per_day(request.user, now=now),
        "per_hour": selectors.sends_per_hour(request.user, now=now),
        "rate_charts": selectors.rate_use_charts(connections, now=now),
    }
    return render(request, "dashboard/activity.html", context)


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for the pager's links to keep them."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
