"""The owner's pages at the sandbox provider: home, connected apps, outbox (page and JSON)."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from partnerapp.sandbox import owner_session, services
from partnerapp.sandbox.models import SCOPES, Grant, OutboxEmail


def _owner_or_login(request: HttpRequest):
    owner = owner_session.current_owner(request)
    if owner is None:
        return None, owner_session.login_page(request, next_url=request.get_full_path())
    return owner, None


def home(request: HttpRequest) -> HttpResponse:
    owner, login = _owner_or_login(request)
    if login:
        return login
    return render(request, "sandbox/home.html", {"owner": owner})


def connected_apps(request: HttpRequest) -> HttpResponse:
    owner, login = _owner_or_login(request)
    if login:
        return login
    grants = Grant.objects.filter(owner=owner, revoked_at=None).select_related("client")
    rows = [(grant, [SCOPES.get(s, s) for s in grant.scope_list]) for grant in grants]
    return render(request, "sandbox/connected_apps.html", {"owner": owner, "rows": rows})


@require_POST
def revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    owner, login = _owner_or_login(request)
    if login:
        return login
    services.grant_revoke(get_object_or_404(Grant, pk=grant_id, owner=owner, revoked_at=None))
    return redirect("sandbox:connected_apps")


def outbox(request: HttpRequest) -> HttpResponse:
    owner, login = _owner_or_login(request)
    if login:
        return login
    emails = OutboxEmail.objects.filter(owner=owner).order_by("-created", "-pk")[:500]
    return render(request, "sandbox/outbox.html", {"owner": owner, "emails": emails})


def outbox_json(request: HttpRequest) -> JsonResponse:
    """Every recorded email (optionally of one owner) and the count of sends per document."""
    emails = OutboxEmail.objects.select_related("client").order_by("pk")
    if owner_id := request.GET.get("owner"):
        emails = emails.filter(owner_id=owner_id if owner_id.isdigit() else -1)
    per_document = (  # order_by(): an ordering column would split the groups
        emails.order_by().values("document_type", "document_id").annotate(sends=Count("pk"))
    )
    return JsonResponse(
        {
            "count": emails.count(),
            "sends_per_document": {
                f"{row['document_type']}:{row['document_id']}": row["sends"] for row in per_document
            },
            "items": [services.outbox_json(email) for email in emails],
        }
    )
