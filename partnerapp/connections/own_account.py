"""Adding the partner's own SmartBusiness account with client credentials (no consent page).

The owner registered an API client in their own account and gives us its id and
secret once. We keep the secret encrypted, like tokens, because access tokens of
this grant expire without a refresh token: we ask again with the credentials.
"""

from __future__ import annotations

from contextlib import closing

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from partnerapp.connections.consent import ConsentResult, provider_message
from partnerapp.connections.services import (
    ActivationRefused,
    OwnClient,
    api_config,
    connection_activate,
)
from partnerapp.organizations import permissions
from partnerapp.organizations.permissions import Perm
from partnerapp.smartbusiness import oauth
from partnerapp.smartbusiness.client import SmartBusinessClient
from partnerapp.smartbusiness.errors import SmartBusinessError


class OwnAccountError(Exception):
    """The account was not added; the message is for the user."""


@sensitive_variables("client_secret", "tokens")
def own_account_add(
    *, user, organization_id: int, client_id: str, client_secret: str, scopes: list[str]
) -> ConsentResult:
    """Check the credentials with the provider, read the owner, store the connection."""
    permissions.require_member(user, organization_id, Perm.CONNECT)
    base_url = settings.SMARTBUSINESS_BASE_URL
    config = api_config(base_url, client_id=client_id, client_secret=client_secret)
    try:
        tokens = oauth.client_credentials(config, scope=scopes)
        with closing(SmartBusinessClient(config, tokens.access_token)) as client:
            owner = client.owner()
    except SmartBusinessError as exc:
        raise OwnAccountError(provider_message(exc)) from exc
    try:
        connection, created = connection_activate(
            user=user,
            organization_id=organization_id,
            base_url=base_url,
            owner=owner,
            tokens=tokens,
            own_client=OwnClient(client_id=client_id, client_secret=client_secret),
        )
    except ActivationRefused as exc:
        raise OwnAccountError(str(exc)) from exc
    return ConsentResult(connection=connection, created=created)
