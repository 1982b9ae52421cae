"""Connect link pages: the members' list and form, and the client's public pages.

The client's pages need no login and speak the link's language (or the one the client
picks with `?lang=`, kept in their session); every POST carries a CSRF token.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from partnerapp.connections import consent, links
from partnerapp.connections.forms import ConnectLinkForm
from partnerapp.connections.models import ConnectLink
from partnerapp.organizations import current, permissions
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.smartbusiness.errors import SmartBusinessError

LANGUAGE_KEY = "connect_link_language"  # the client's choice on the link's pages
BADGES = {  # a link's state → the badge colour of the same meaning elsewhere
    ConnectLink.State.SENT: "pending",
    ConnectLink.State.OPENED: "running",
    ConnectLink.State.CONNECTED: "active",
    ConnectLink.State.DENIED: "needs_reauth",
    ConnectLink.State.EXPIRED: "cancelled",
    ConnectLink.State.REVOKED: "cancelled",
}


def _link_url(request: HttpRequest, link: ConnectLink) -> str:
    return request.build_absolute_uri(reverse("connect:link", args=[link.token]))


# -- members ----------------------------------------------------------------------------------


@member_required(Perm.VIEW, post=Perm.OPERATE)
def link_list(request: HttpRequest) -> HttpResponse:
    """GET: the organization's links with their state. POST: a new link."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    form = ConnectLinkForm(request.POST or None, initial={"language": language[:2]})
    if request.method == "POST" and form.is_valid():
        link, _token = links.link_create(
            user=request.user, organization_id=request.organization.pk, **form.cleaned_data
        )
        messages.success(
            request,
            _("The link for %(client)s is ready: copy it below or send it by e-mail.")
            % {"client": link.client_name},
        )
        return redirect("connections:links")
    operator = permissions.can(request.membership, Perm.OPERATE)
    found = ConnectLink.objects.filter(organization=request.organization).select_related(
        "created_by", "connection"
    )
    rows = [_row(request, link, operator) for link in found[:200]]
    context = {"form": form, "rows": rows, "can_operate": operator}
    return render(request, "connections/links.html", context, status=400 if form.errors else 200)


def _row(request: HttpRequest, link: ConnectLink, operator: bool) -> dict:
    # The secret URL only while the link can be used, and only to those who may send it.
    url = _link_url(request, link) if operator and link.is_pending else ""
    return {"link": link, "state": link.state, "badge": BADGES[link.state], "url": url}


@member_required(Perm.OPERATE)
@require_POST
def link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    link = current.get_or_404(request, ConnectLink.objects, pk=pk)
    if links.link_revoke(user=request.user, link=link):
        messages.success(
            request, _("The link for %(client)s is withdrawn.") % {"client": link.client_name}
        )
    else:
        messages.info(request, _("This link was already used or withdrawn."))
    return redirect("connections:links")


@member_required(Perm.OPERATE)
@require_POST
def link_send(request: HttpRequest, pk: int) -> HttpResponse:
    link = current.get_or_404(request, ConnectLink.objects, pk=pk)
    if not link.is_pending:
        messages.error(request, links.link_problem(link))
        return redirect("connections:links")
    try:
        links.link_send(link=link, url=_link_url(request, link))
    except links.LinkError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Sent the link to %(email)s.") % {"email": link.client_email})
    return redirect("connections:links")


# -- the client (no login) ------------------------------------------------------------------


def _client_language(request: HttpRequest, link: ConnectLink) -> str:
    wanted = request.GET.get("lang", "")
    if wanted in dict(settings.LANGUAGES):
        request.session[LANGUAGE_KEY] = wanted
    return request.session.get(LANGUAGE_KEY) or link.language


def _unknown(request: HttpRequest) -> HttpResponse:
    context = {"link": None, "problem": links.link_problem(None)}
    return render(request, "connections/link.html", context, status=404)


@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, link_token: str) -> HttpResponse:
    """What the firm asks for and why; POST: off to the provider's consent. A used link
    shows the confirmation; a withdrawn or expired one says so."""
    link = links.link_for_token(link_token)
    if link is None:
        return _unknown(request)
    with translation.override(_client_language(request, link)):
        problem = ""
        if request.method == "POST":
            try:
                return redirect(
                    links.link_start(
                        link=link,
                        session=request.session,
                        redirect_uri=consent.redirect_uri(request),
                    )
                )
            except links.LinkError as exc:
                problem = str(exc)
            except SmartBusinessError:
                problem = _("SmartBusiness cannot be reached just now. Please try again later.")
        links.link_open(link=link, viewer=request.user)
        return render(request, "connections/link.html", _client_context(request, link, problem))


def _client_context(request: HttpRequest, link: ConnectLink, problem: str = "") -> dict:
    connected = link.state == ConnectLink.State.CONNECTED
    return {
        "link": link,
        "link_token": request.resolver_match.kwargs.get("link_token", ""),
        "connected": connected,
        "problem": problem or ("" if connected else links.link_problem(link)),
        "scopes": links.scope_words(link.scope_list),
        "languages": settings.LANGUAGES,
    }


@require_safe
def link_granted(request: HttpRequest, link_token: str) -> HttpResponse:
    """What the client granted, to whom and when, and how to revoke it at the provider.
    Keeps working after the link is used (the confirmation links here)."""
    link = links.link_for_token(link_token)
    if link is None:
        return _unknown(request)
    with translation.override(_client_language(request, link)):
        context = _client_context(request, link)
        connection = link.connection
        granted = connection.scope_list if connection else link.scope_list
        context["granted"] = links.scope_words(granted)
        base_url = connection.base_url if connection else settings.SMARTBUSINESS_BASE_URL
        context["provider_apps_url"] = links.provider_apps_url(base_url)
        return render(request, "connections/link_granted.html", context)


def link_callback(request: HttpRequest, link_id: int) -> HttpResponse:
    """The provider's answer to a client's consent (reached through connections:callback)."""
    link = ConnectLink.objects.select_related("organization").filter(pk=link_id).first()
    if link is None:  # the firm deleted it (with its organization) meanwhile
        return _unknown(request)
    with translation.override(_client_language(request, link)):
        try:
            links.link_finish(link=link, session=request.session, params=request.GET.dict())
        except consent.ConsentAlreadyFinished:
            pass  # a reload: the confirmation again
        except consent.ConsentError as exc:
            link.refresh_from_db()
            context = _client_context(request, link)
            retry_url = reverse("connect:link", args=[link.token]) if link.is_pending else ""
            context.update(
                message=str(exc),
                denied=isinstance(exc, consent.ConsentDenied),
                retry_url=retry_url,
                # the switcher leads to the link's page: this callback URL works only once
                language_base=retry_url,
                languages=settings.LANGUAGES if retry_url else (),
            )
            return render(request, "connections/link_error.html", context, status=400)
    return redirect("connect:link", link_token=link.token)
