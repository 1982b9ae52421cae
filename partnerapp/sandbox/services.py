"""Sandbox operations used by its pages and management commands."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from partnerapp.sandbox.models import SCOPES, AccessToken, Client, Grant, OutboxEmail, RefreshToken


@transaction.atomic
def grant_revoke(grant: Grant) -> None:
    """The owner withdraws consent: the refresh token and every access token die at once."""
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    AccessToken.objects.filter(grant=grant).delete()
    RefreshToken.objects.filter(grant=grant).delete()


def client_register(
    *, client_id: str, secret: str, name: str, redirect_uris: list[str], scopes: list[str] | None
) -> Client:
    """Create or update a registered OAuth client (idempotent)."""
    client, _ = Client.objects.get_or_create(client_id=client_id, defaults={"name": name})
    client.name = name
    client.set_secret(secret)
    client.redirect_uris = "\n".join(redirect_uris)
    client.allowed_scopes = " ".join(scopes or SCOPES)
    client.save()
    return client


def outbox_json(email: OutboxEmail) -> dict[str, Any]:
    return {
        "id": email.pk,
        "owner_id": email.owner_id,
        "client_id": email.client.client_id if email.client else None,
        "document_type": email.document_type,
        "document_id": email.document_id,
        "document_number": email.document_number,
        "recipients": email.recipients,
        "subject": email.subject,
        "body": email.body,
        "from": email.sender,
        "receipt": email.receipt,
        "request_id": email.request_id,
        "created": email.created.isoformat(),
    }
