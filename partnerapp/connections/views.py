"""Consent flow views: thin wrappers around consent.py."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from partnerapp.connections import consent, link_views
from partnerapp.connections.forms import ConnectForm, OwnAccountForm
from partnerapp.connections.models import Connection
from partnerapp.connections.own_account import OwnAccountError, own_account_add
from partnerapp.connections.services import connection_disconnect
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.smartbusiness.errors import SmartBusinessError


@member_required(Perm.CONNECT)
def connect(request: HttpRequest) -> HttpResponse:
    """GET: choose scopes. POST: off to the provider's consent page."""
    form = ConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _start(request, scopes=form.cleaned_data["scopes"], reconnect=None)
    return render(request, "connections/connect.html", {"form": form})


@member_required(Perm.CONNECT)
@require_POST
def reconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    return _start(request, scopes=connection.scope_list, reconnect=connection)


def _start(request: HttpRequest, *, scopes: list[str], reconnect) -> HttpResponse:
    try:
        url = consent.consent_start(
            session=request.session,
            organization_id=request.organization.pk,
            redirect_uri=consent.redirect_uri(request),
            scopes=scopes,
            reconnect=reconnect,
        )
    except SmartBusinessError as exc:
        messages.error(request, _("Could not start the connection: %s") % exc.message)
        return redirect("dashboard:overview")
    return redirect(url)


def callback(request: HttpRequest) -> HttpResponse:
    """The provider's one redirect URI. A client's consent through a connect link needs
    no login (link_views); everyone else's is a member's own consent."""
    link_id = consent.consent_link(request.session, request.GET.get("state", ""))
    if link_id is not None:
        return link_views.link_callback(request, link_id)
    return _member_callback(request)


@member_required(Perm.VIEW)  # the organization the consent started in is checked there
def _member_callback(request: HttpRequest) -> HttpResponse:
    try:
        result = consent.consent_finish(
            session=request.session, user=request.user, params=request.GET.dict()
        )
    except consent.ConsentAlreadyFinished as exc:
        connection = Connection.objects.filter(
            pk=exc.connection_id, organization__memberships__user=request.user
        ).first()
        if connection is not None:
            messages.info(request, str(exc))
            return redirect("dashboard:connection", pk=connection.pk)
        return redirect("dashboard:overview")
    except consent.ConsentError as exc:
        denied = isinstance(exc, consent.ConsentDenied)
        context = {"message": str(exc), "denied": denied}
        return render(request, "connections/callback_error.html", context, status=400)
    connection = result.connection
    text = _("Connected %(name)s.") if result.created else _("Reconnected %(name)s.")
    messages.success(request, text % {"name": connection.owner_name})
    return redirect("dashboard:connection", pk=connection.pk)


@member_required(Perm.CONNECT)
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """GET (or a POST without the confirmation): ask first. POST confirm=yes: disconnect."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        active = connection.jobs.filter(status__in=["draft", "queued", "running"]).count()
        context = {"connection": connection, "active_jobs": active}
        return render(request, "connections/disconnect.html", context)
    connection_disconnect(connection)
    messages.success(request, _("Disconnected %(name)s.") % {"name": connection.owner_name})
    return redirect("dashboard:overview")


@member_required(Perm.CONNECT)
def own_account(request: HttpRequest) -> HttpResponse:
    """Add (or renew) the partner's own account with client credentials."""
    form = OwnAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = own_account_add(
                user=request.user,
                organization_id=request.organization.pk,
                client_id=form.cleaned_data["client_id"],
                client_secret=form.cleaned_data["client_secret"],
                scopes=form.cleaned_data["scopes"],
            )
        except OwnAccountError as exc:
            form.add_error(None, str(exc))
        else:
            text = (
                _("Added your own account %(name)s.")
                if result.created
                else _("Updated your own account %(name)s.")
            )
            messages.success(request, text % {"name": result.connection.owner_name})
            return redirect("dashboard:connection", pk=result.connection.pk)
    status = 400 if form.errors else 200
    return render(request, "connections/own_account.html", {"form": form}, status=status)
