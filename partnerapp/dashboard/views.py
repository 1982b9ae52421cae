"""The pages partner users live in. Thin: parse, check access, call a service, render."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from partnerapp.connections import requestlog
from partnerapp.connections.models import Connection
from partnerapp.dashboard import selectors
from partnerapp.jobs import services as jobs
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required

ITEMS_PER_PAGE = 50
REQUEST_LOG_PER_PAGE = 50
RATE_CHARTS_PER_PAGE = 20  # the activity page's charts of accounts
CONNECTION_JOBS = 20
STATUS_CHOICES = ["2xx", "4xx", "5xx", "429", "none"]


def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "dashboard/landing.html")
    return _overview(request)


@member_required(Perm.VIEW)
def _overview(request: HttpRequest) -> HttpResponse:
    context = selectors.overview_for(request.organization, page=request.GET.get("page"))
    return render(request, "dashboard/overview.html", context)


@member_required(Perm.VIEW)
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    now = timezone.now()
    recent = (
        jobs.jobs_for(request.organization).filter(connection=connection).defer(*selectors.JOB_BULK)
    )
    recent = recent[:CONNECTION_JOBS]
    context = {
        "card": selectors.connection_card(connection, now=now),
        "connection": connection,
        "recent_jobs": selectors.jobs_with_counts(recent),
        "rate_chart": selectors.rate_use_charts([connection], now=now)[0],
    }
    return render(request, "dashboard/connection.html", context)


@member_required(Perm.VIEW)
def request_log(request: HttpRequest, pk: int) -> HttpResponse:
    """A connection's calls to the provider, filterable by status and X-Request-Id."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
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


@member_required(Perm.VIEW)
def activity(request: HttpRequest) -> HttpResponse:
    """Charts: sends per day and hour by outcome, and each account's rate-limit use, a
    page of accounts at a time, busiest first (a firm may have a thousand)."""
    now = timezone.now()
    connections = (
        Connection.objects.filter(organization=request.organization)
        .exclude(status=Connection.Status.DISCONNECTED)
        .select_related("rate_window")
    )
    busiest = selectors.connections_busiest_first(connections, now=now)
    page = Paginator(busiest, RATE_CHARTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "per_day": selectors.sends_per_day(request.organization, now=now),
        "per_hour": selectors.sends_per_hour(request.organization, now=now),
        "rate_charts": selectors.rate_use_charts(list(page), now=now),
        "charts_page": page,
        "query": query_without_page(request),
    }
    return render(request, "dashboard/activity.html", context)


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for the pager's links to keep them."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
