"""The organization's webhook pages: owners and admins only (they hold the secrets).

A secret is shown once, on the page right after it was made (kept in the session only
until that page is shown); afterwards only rotation gives a new one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.webhooks import services
from partnerapp.webhooks.forms import EndpointForm
from partnerapp.webhooks.models import EVENT_TYPES, WebhookEndpoint

# The session key holding {"endpoint": pk, "secret": "whsec_…"} until the page shows it.
SHOWN_SECRET = "webhook_secret_once"  # noqa: S105 (a key's name, no secret)
DELIVERIES_PER_PAGE = 50


@member_required(Perm.SETTINGS)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """GET: the organization's endpoints. POST: a new endpoint (then its page, with the
    secret shown once)."""
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint, secret = services.endpoint_create(
            user=request.user, organization_id=request.organization.pk, **form.cleaned_data
        )
        return _show_secret(request, endpoint, secret)
    endpoints = WebhookEndpoint.objects.filter(organization=request.organization)
    context = {"form": form, "endpoints": endpoints, "event_names": EVENT_TYPES}
    return render(request, "webhooks/list.html", context, status=400 if form.errors else 200)


@member_required(Perm.SETTINGS)
def endpoint_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the endpoint, its secrets' validity and its delivery log. POST: changes."""
    endpoint = current.get_or_404(request, WebhookEndpoint.objects, pk=pk)
    initial = {"url": endpoint.url, "events": endpoint.events, "description": endpoint.description}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.endpoint_update(user=request.user, endpoint=endpoint, **form.cleaned_data)
        messages.success(request, _("The endpoint is saved."))
        return redirect("webhooks:endpoint", pk=endpoint.pk)
    shown = request.session.pop(SHOWN_SECRET, None)
    deliveries = endpoint.deliveries.select_related("event").order_by("-pk")
    context = {
        "endpoint": endpoint,
        "form": form,
        "secret": shown["secret"] if shown and shown.get("endpoint") == endpoint.pk else "",
        "secrets": endpoint.secrets.all(),
        "page": Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page")),
        "event_names": EVENT_TYPES,
    }
    return render(request, "webhooks/endpoint.html", context, status=400 if form.errors else 200)


@member_required(Perm.SETTINGS)
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = current.get_or_404(request, WebhookEndpoint.objects, pk=pk)
    secret = services.endpoint_rotate_secret(user=request.user, endpoint=endpoint)
    return _show_secret(request, endpoint, secret)


@member_required(Perm.SETTINGS)
@require_POST
def endpoint_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = current.get_or_404(request, WebhookEndpoint.objects, pk=pk)
    enabled = request.POST.get("enabled") == "on"
    services.endpoint_set_enabled(user=request.user, endpoint=endpoint, enabled=enabled)
    if enabled:
        messages.success(request, _("The endpoint is switched on."))
    else:
        messages.success(request, _("The endpoint is switched off."))
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@member_required(Perm.SETTINGS)
@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = current.get_or_404(request, WebhookEndpoint.objects, pk=pk)
    services.endpoint_delete(user=request.user, endpoint=endpoint)
    messages.success(request, _("The endpoint %(url)s is deleted.") % {"url": endpoint.url})
    return redirect("webhooks:list")


@member_required(Perm.SETTINGS)
@require_POST
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = current.get_or_404(request, WebhookEndpoint.objects, pk=pk)
    services.endpoint_send_test(user=request.user, endpoint=endpoint)
    messages.success(request, _("A test event is on its way; its delivery appears below."))
    return redirect("webhooks:endpoint", pk=endpoint.pk)


@member_required(Perm.SETTINGS)
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = current.get_or_404(request, WebhookEndpoint.objects, pk=pk)
    delivery = get_object_or_404(endpoint.deliveries.select_related("event"), pk=delivery_pk)
    services.delivery_redeliver(user=request.user, delivery=delivery)
    messages.success(request, _("The event is sent again."))
    return redirect("webhooks:endpoint", pk=endpoint.pk)


def _show_secret(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> HttpResponse:
    request.session[SHOWN_SECRET] = {"endpoint": endpoint.pk, "secret": secret}
    return redirect("webhooks:endpoint", pk=endpoint.pk)
