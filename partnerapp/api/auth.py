"""`Authorization: Bearer pa_live_…`: the key is the caller, its organization the scope.

`request.user` is an `ApiClient` (never a person): services get `user=None` and the
audit log names the key (`request.api_key`, read by `audit.record`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from partnerapp.api.keys import api_key_for
from partnerapp.api.models import ApiKey


class ApiClient:
    """The caller of an API request: an API key, standing where DRF expects a user."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.organization = key.organization

    def __str__(self) -> str:
        return self.key.label


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _sep, raw = header.partition(" ")
        if scheme != self.keyword or not raw.strip():
            return None  # no key: NotAuthenticated (401) through the permission check
        key = api_key_for(raw.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(_("The API key is unknown, revoked or expired."))
        # The audit log reads the Django request: the key acts, not a signed-in person.
        request._request.api_key = key
        return ApiClient(key), key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class HasApiKey(permissions.BasePermission):
    """Any active key reads; writing (every method but GET/HEAD/OPTIONS) needs `write`."""

    message = _("This API key may only read; create a key with write access.")

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, ApiClient):
            raise exceptions.NotAuthenticated(_("Send an API key: Authorization: Bearer <key>."))
        return request.method in permissions.SAFE_METHODS or request.user.key.can_write
