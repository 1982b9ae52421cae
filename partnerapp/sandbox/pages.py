"""The owner's pages at the sandbox provider: home (with the account's own API clients),
connected apps, outbox (page and JSON), faults."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from partnerapp.sandbox import faults, owner_session, services
from partnerapp.sandbox.models import SCOPES, FaultProfile, Grant, OutboxEmail, PostalDispatch


def _owner_or_login(request: HttpRequest):
    owner = owner_session.current_owner(request)
    if owner is None:
        return None, owner_session.login_page(request, next_url=request.get_full_path())
    return owner, None


def home(request: HttpRequest) -> HttpResponse:
    owner, login = _owner_or_login(request)
    if login:
        return login
    context = {"owner": owner, "clients": services.owner_clients(owner)}
    return render(request, "sandbox/home.html", context)


@require_POST
def client_create(request: HttpRequest) -> HttpResponse:
    """A client-credentials client for the account; its secret is on this answer only."""
    owner, login = _owner_or_login(request)
    if login:
        return login
    client, secret = services.owner_client_create(owner=owner)
    context = {"owner": owner, "client": client, "secret": secret}
    response = render(request, "sandbox/client_created.html", context)
    response["Cache-Control"] = "no-store"  # a secret: not for the back button or a proxy
    return response


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
    letters = PostalDispatch.objects.filter(owner=owner).order_by("-created", "-pk")[:500]
    context = {"owner": owner, "emails": emails, "letters": letters}
    return render(request, "sandbox/outbox.html", context)


def outbox_json(request: HttpRequest) -> JsonResponse:
    """Every recorded email (optionally of one owner) and the count of sends per document.

    Open without a login on purpose: tests and benchmarks read it to prove exactly-once.
    """
    owner = request.GET.get("owner", "")
    owner_id = (int(owner) if owner.isdigit() else -1) if owner else None
    return JsonResponse(services.outbox_summary(owner_id=owner_id))


class FaultForm(forms.ModelForm):
    class Meta:
        model = FaultProfile
        fields = faults.EDITABLE


def fault_settings(request: HttpRequest) -> HttpResponse:
    """The owner's faults: edit them, fall back to the global ones, or expire tokens now."""
    owner, login = _owner_or_login(request)
    if login:
        return login
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "reset":
        faults.profile_reset(owner=owner)
        return redirect("sandbox:faults")
    if action == "expire_tokens":
        faults.tokens_expire_now(owner=owner)
        return redirect("sandbox:faults")
    profile = faults.profile_for(owner)
    form = FaultForm(request.POST if action == "save" else None, instance=_copy(profile))
    if form.is_bound and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in faults.EDITABLE}
        faults.profile_update(owner=owner, changes=changes)
        return redirect("sandbox:faults")
    context = {"owner": owner, "form": form, "own": profile.owner_id == owner.pk}
    return render(request, "sandbox/faults.html", context)


def _copy(profile: FaultProfile) -> FaultProfile:
    """An unsaved copy: the form must never write to the global row."""
    return FaultProfile(**{name: getattr(profile, name) for name in faults.EDITABLE})
