"""The pages partner users live in. Thin: parse, check access, call a service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from partnerapp.connections import requestlog
from partnerapp.connections.models import Connection
from partnerapp.jobs import services as jobs

ITEMS_PER_PAGE = 50
REQUEST_LOG_PER_PAGE = 50


def overview(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "dashboard/landing.html")
    connections = Connection.objects.filter(user=request.user)
    recent = [(job, jobs.job_counts(job)) for job in jobs.jobs_for(request.user)[:10]]
    context = {"connections": connections, "recent_jobs": recent}
    return render(request, "dashboard/overview.html", context)


@login_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    recent = jobs.jobs_for(request.user).filter(connection=connection)[:10]
    return render(request, "dashboard/connection.html", {"connection": connection, "jobs": recent})


@login_required
def request_log(request: HttpRequest, pk: int) -> HttpResponse:
    """A connection's calls to the provider, filterable by status and X-Request-Id."""
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    status = request.GET.get("status", "")[:8]
    request_id = request.GET.get("request_id", "")[:64]
    entries = requestlog.entries_for(connection, status=status, request_id=request_id)
    page = Paginator(entries, REQUEST_LOG_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "connection": connection,
        "page": page,
        "status": status,
        "request_id": request_id,
        "status_choices": ["2xx", "4xx", "5xx", "429", "none"],
        "query": query_without_page(request),
    }
    return render(request, "dashboard/request_log.html", context)


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
