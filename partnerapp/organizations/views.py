"""Organization pages: switch, create, settings, members, invitations, notifications.
Thin: parse, ask `permissions` (through `member_required`), call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST

from partnerapp.organizations import current, mfa, permissions, services
from partnerapp.organizations.forms import (
    DeleteForm,
    InviteForm,
    NotifyForm,
    OrganizationCreateForm,
    OrganizationForm,
    RoleForm,
)
from partnerapp.organizations.models import Invitation, Membership
from partnerapp.organizations.notifications import remember_language
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.organizations.services import OrganizationError


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    wanted = _int(request.POST.get("organization"))
    if not wanted:
        messages.error(request, _("Choose an organization."))
        return redirect("dashboard:overview")
    membership = current.switch(request, wanted)
    messages.info(
        request, _("You are now working in %(name)s.") % {"name": membership.organization}
    )
    return redirect(_next(request) or reverse("dashboard:overview"))


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    # object pages of the previous organization would answer 404: stay on list pages only
    return wanted if allowed and wanted.rstrip("/").count("/") <= 1 else ""


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
def create(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(
            user=request.user, name=form.cleaned_data["name"]
        )
        current.switch(request, organization.pk)
        messages.success(request, _("Created %(name)s.") % {"name": organization})
        return redirect("organizations:members")
    return render(request, "organizations/create.html", {"form": form})


@member_required(Perm.SETTINGS)
def settings_page(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, instance=request.organization, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.organization_update(actor=request.membership, values=form.cleaned_data)
        messages.success(request, _("Settings saved."))
        return redirect("organizations:settings")
    return render(request, "organizations/settings.html", {"form": form})


@member_required(Perm.VIEW, post=Perm.MEMBERS)
def members(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    form = InviteForm(request.POST or None, roles=permissions.roles_assignable(actor))
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = services.invitation_create(actor=actor, **form.cleaned_data)
        except OrganizationError as exc:
            form.add_error("email", str(exc))
        else:
            link = request.build_absolute_uri(reverse("organizations:invitation", args=[token]))
            services.invitation_send(invitation=invitation, link=link)
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works once, for %(days)d days.")
                % {"email": invitation.email, "days": _days(invitation)},
            )
            return redirect("organizations:members")
    organization = request.organization
    context = {
        "form": form,
        "members": _member_rows(actor),
        "invitations": organization.invitations.select_related("invited_by")[:50],
        "can_manage": permissions.can(actor, Perm.MEMBERS),
    }
    return render(
        request, "organizations/members.html", context, status=400 if form.errors else 200
    )


def _days(invitation: Invitation) -> int:
    return max(1, round((invitation.expires_at - invitation.created_at).total_seconds() / 86400))


def _member_rows(actor: Membership) -> list[dict]:
    rows = []
    for member in actor.organization.memberships.select_related("user").order_by("user__email"):
        roles = [
            (value, label)
            for value, label in Membership.Role.choices
            if permissions.can_assign(actor, value, target=member)
        ]
        rows.append({"member": member, "roles": roles, "is_me": member.pk == actor.pk})
    return rows


def _member(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"),
        pk=pk,
        organization=request.organization,
    )


@member_required(Perm.MEMBERS)
@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("organizations:members")
    try:
        services.member_role_change(
            actor=request.membership, member=member, role=form.cleaned_data["role"]
        )
    except OrganizationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(email)s is now %(role)s.")
            % {
                "email": member.user.email,
                "role": Membership.Role(form.cleaned_data["role"]).label,
            },
        )
    return redirect("organizations:members")


@member_required(Perm.MEMBERS)
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    try:
        services.member_remove(actor=request.membership, member=member)
    except OrganizationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Removed %(email)s.") % {"email": member.user.email})
    return redirect("organizations:members")


@member_required(Perm.VIEW, mfa_exempt=True)  # offered on the two-factor page too
@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    actor = request.membership
    try:
        services.member_remove(actor=actor, member=actor)
    except OrganizationError as exc:
        messages.error(request, str(exc))
        return redirect("organizations:members")
    request.session.pop(current.SESSION_KEY, None)
    messages.success(request, _("You left %(name)s.") % {"name": actor.organization})
    return redirect("dashboard:overview")


@member_required(Perm.MEMBERS)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=pk, organization=request.organization)
    if services.invitation_revoke(actor=request.membership, invitation=invitation):
        messages.success(
            request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email}
        )
    return redirect("organizations:members")


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail. Anyone may read what it offers; accepting needs an
    account (sign up or log in, then back here)."""
    found = services.invitation_for(token)
    problem = services.invitation_problem(found)
    if request.method == "POST" and not problem:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        try:
            membership = services.invitation_accept(user=request.user, invitation=found)
        except OrganizationError as exc:
            problem = str(exc)
        else:
            current.switch(request, membership.organization_id)
            messages.success(request, _("Welcome to %(name)s.") % {"name": membership.organization})
            return redirect("dashboard:overview")
    context = {"invitation": found, "problem": problem, "next": request.path}
    return render(
        request,
        "organizations/invitation.html",
        context,
        status=404 if problem and found is None else 200,
    )


@member_required(Perm.VIEW)  # a member's own e-mail choices, not the organization's data
def notifications(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    form = NotifyForm(request.POST or None, initial={"events": membership.notify})
    if request.method == "POST" and form.is_valid():
        services.notify_set(membership=membership, events=form.cleaned_data["events"])
        messages.success(request, _("Your e-mail choices are saved."))
        return redirect("organizations:notifications")
    return render(request, "organizations/notifications.html", {"form": form})


@member_required(Perm.OWN)
def delete(request: HttpRequest) -> HttpResponse:
    form = DeleteForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        name = request.organization.name
        try:
            services.organization_delete(actor=request.membership)
        except OrganizationError as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop(current.SESSION_KEY, None)
            messages.success(request, _("Deleted %(name)s.") % {"name": name})
            return redirect("dashboard:overview")
    return render(request, "organizations/delete.html", {"form": form})


@login_required
def mfa_required(request: HttpRequest) -> HttpResponse:
    """Where `member_required` sends members of an organization that asks for two-factor
    sign-in while they have none. Once they have one (or switched away), nothing is in
    the way: on to the overview."""
    if not mfa.blocks(request, current.membership(request)):
        return redirect("dashboard:overview")
    return render(request, "organizations/mfa_required.html")


def language_set(request: HttpRequest) -> HttpResponse:
    """Django's set_language (a POST; the next page in the chosen language), which also
    keeps the choice on the user's memberships: their e-mails are written in it."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        remember_language(request.user, request.POST.get("language", ""))
    return response
