"""The organization's API keys page (/organization/api-keys/): create, show once, revoke.

Owners and admins only (Perm.SETTINGS): a key acts for the whole organization.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from partnerapp.api import keys
from partnerapp.api.models import ApiKey
from partnerapp.organizations.permissions import Perm, member_required


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Where the key is used, e.g. “ERP”."),
    )
    scope = forms.ChoiceField(label=gettext_lazy("Access"), choices=ApiKey.Scope.choices)
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Empty: until revoked."),
    )

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return day

    def expires_at(self):
        day = self.cleaned_data["expires_on"]
        if day is None:
            return None
        return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time()))


@member_required(Perm.SETTINGS)
def api_keys(request: HttpRequest) -> HttpResponse:
    """The keys, and a form for a new one; the new key is shown on this answer only."""
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        key, raw = keys.api_key_create(
            membership=request.membership,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=form.expires_at(),
        )
        created, form = {"key": key, "raw": raw}, ApiKeyForm()
    context = {
        "form": form,
        "created": created,
        "keys": keys.keys_for(request.organization),
        "now": timezone.now(),
    }
    return render(request, "organizations/api_keys.html", context, status=201 if created else 200)


@member_required(Perm.SETTINGS)
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, organization=request.organization, pk=pk)
    if keys.api_key_revoke(membership=request.membership, key=key):
        messages.success(request, _("The key %(label)s is revoked.") % {"label": key.label})
    return redirect("api_keys:list")
