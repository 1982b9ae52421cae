"""The account owner's login at the sandbox provider (separate from partnerapp's users)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from partnerapp.sandbox.models import Owner

SESSION_KEY = "sandbox_owner_id"


class OwnerLoginForm(forms.Form):
    email = forms.EmailField(label="Email")
    password = forms.CharField(label="Password", widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        owner = Owner.objects.filter(email__iexact=data.get("email", "")).first()
        if owner is None or not owner.check_password(data.get("password", "")):
            raise forms.ValidationError("Email or password is not correct.")
        data["owner"] = owner
        return data


def current_owner(request: HttpRequest) -> Owner | None:
    owner_id = request.session.get(SESSION_KEY)
    return Owner.objects.filter(pk=owner_id).first() if owner_id else None


def login_page(request: HttpRequest, *, next_url: str) -> HttpResponse:
    """The provider's login form; on success, back to `next_url` (the consent page)."""
    form = OwnerLoginForm(request.POST if request.POST.get("form") == "login" else None)
    if form.is_bound and form.is_valid():
        request.session.cycle_key()
        request.session[SESSION_KEY] = form.cleaned_data["owner"].pk
        return HttpResponseRedirect(_safe(request, next_url))
    page = render(request, "sandbox/login.html", {"form": form, "next": next_url})
    page.sandbox_page = True
    return page


def login(request: HttpRequest) -> HttpResponse:
    return login_page(request, next_url=request.GET.get("next") or "/sandbox/")


def logout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.session.pop(SESSION_KEY, None)
    return HttpResponseRedirect("/sandbox/")


def _safe(request: HttpRequest, url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(url, {request.get_host()}, request.is_secure())
    return url if allowed else "/sandbox/"
