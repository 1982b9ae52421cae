"""Adding the partner's own SmartBusiness account with client credentials (no consent page).

The owner registered an API client in their own account and gives us its id and
secret once. We keep the secret encrypted, like tokens, because access tokens of
this grant expire without a refresh token: we ask again with the credentials.
"""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from partnerapp.connections import crypto
from partnerapp.connections.consent import ConsentResult, provider_message
from partnerapp.connections.models import Connection
from partnerapp.connections.services import api_config
from partnerapp.connections.signals import connection_reauthorized
from partnerapp.smartbusiness import oauth
from partnerapp.smartbusiness.client import SmartBusinessClient
from partnerapp.smartbusiness.errors import SmartBusinessError


class OwnAccountError(Exception):
    """The account was not added; the message is for the user."""


@sensitive_variables("client_secret", "tokens")
def own_account_add(
    *, user, client_id: str, client_secret: str, scopes: list[str]
) -> ConsentResult:
    """Check the credentials with the provider, read the owner, store the connection."""
    base_url = settings.SMARTBUSINESS_BASE_URL
    config = api_config(base_url, client_id=client_id, client_secret=client_secret)
    try:
        tokens = oauth.client_credentials(config, scope=scopes)
        with closing(SmartBusinessClient(config, tokens.access_token)) as client:
            owner = client.owner()
    except SmartBusinessError as exc:
        raise OwnAccountError(provider_message(exc)) from exc
    name = " ".join(part for part in (owner.get("name"), owner.get("surname")) if part)
    with transaction.atomic():
        connection, created = Connection.objects.get_or_create(
            user=user,
            base_url=base_url,
            account_id=str(owner.get("id", "")),
            defaults={"owner_name": name},
        )
        if not created and not connection.is_own_account:
            raise OwnAccountError(
                _("This account is already connected through the owner's consent.")
            )
        was_paused = connection.status == Connection.Status.NEEDS_REAUTH
        connection.grant = Connection.Grant.OWN_ACCOUNT
        connection.own_client_id = client_id
        connection.own_client_secret_ciphertext = crypto.encrypt(client_secret)
        connection.owner_name = name or connection.owner_name
        connection.scopes = " ".join(tokens.scope)
        connection.status = Connection.Status.ACTIVE
        connection.last_error = ""
        connection.store_tokens(
            access_token=tokens.access_token,
            refresh_token="",
            expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
        )
        connection.save()
    if was_paused:
        connection_reauthorized.send(sender=Connection, connection=connection)
    return ConsentResult(connection=connection, created=created)
