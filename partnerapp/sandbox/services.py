"""Sandbox operations used by its pages and management commands."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from partnerapp.sandbox.models import (
    SCOPES,
    AccessToken,
    Client,
    Grant,
    OutboxEmail,
    Owner,
    PostalDispatch,
)


@transaction.atomic
def grant_revoke(grant: Grant) -> None:
    """The owner withdraws consent: the refresh token and every access token die at once.

    The rows stay, marked, as at the provider: a later use is told "revoked", not
    "unknown" (league could still decrypt the token, then finds it revoked)."""
    now = timezone.now()
    grant.revoked_at = now
    grant.save(update_fields=["revoked_at"])
    AccessToken.objects.filter(grant=grant, revoked_at=None).update(revoked_at=now)


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


def owner_client_create(
    *,
    owner: Owner,
    client_id: str | None = None,
    secret: str | None = None,
    name: str = "",
    redirect_uris: list[str] | None = None,
    scopes: list[str] | None = None,
) -> tuple[Client, str]:
    """A client-credentials client acting for the owner's own account (default: every scope).

    Returns the client and its secret: only a digest is stored, so this is the one
    time anybody sees it. Without an id or secret, fresh ones in the provider's style."""
    secret = secret or secrets.token_urlsafe(60)
    client = client_register(
        client_id=client_id or _new_client_id(),
        secret=secret,
        name=name or f"{owner.company_name or owner.email} (own account)",
        redirect_uris=redirect_uris or [],  # client credentials need none
        scopes=scopes,
    )
    client.owner = owner
    client.save(update_fields=["owner"])
    return client, secret


def _new_client_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))  # like T1ZNOB7EO20G3OIB5JR4


def owner_clients(owner: Owner) -> QuerySet:
    return Client.objects.filter(owner=owner).order_by("created", "pk")


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


def postal_json(dispatch: PostalDispatch) -> dict[str, Any]:
    return {
        "id": dispatch.pk,
        "owner_id": dispatch.owner_id,
        "client_id": dispatch.client.client_id if dispatch.client else None,
        "document_type": dispatch.document_type,
        "document_id": dispatch.document_id,
        "document_number": dispatch.document_number,
        "palette": dispatch.palette,
        "print": dispatch.print_mode,
        "speed": dispatch.speed,
        "request_id": dispatch.request_id,
        "created": dispatch.created.isoformat(),
    }


def _sends_per_document(rows: QuerySet) -> dict[str, int]:
    # order_by(): an ordering by pk would join the GROUP BY and count every row as 1.
    grouped = rows.order_by().values("document_type", "document_id")
    per_document = grouped.annotate(sends=Count("pk"))
    return {f"{row['document_type']}:{row['document_id']}": row["sends"] for row in per_document}


def outbox_summary(*, owner_id: int | None = None) -> dict[str, Any]:
    """Every recorded email (of one owner, or all) with the count of sends per document,
    and the same for documents sent by post under `post`: the proof of "exactly once"."""
    emails = OutboxEmail.objects.select_related("client").order_by("pk")
    letters = PostalDispatch.objects.select_related("client").order_by("pk")
    if owner_id is not None:
        emails, letters = emails.filter(owner_id=owner_id), letters.filter(owner_id=owner_id)
    return {
        "count": emails.count(),
        "sends_per_document": _sends_per_document(emails),
        "items": [outbox_json(email) for email in emails],
        "post": {
            "count": letters.count(),
            "sends_per_document": _sends_per_document(letters),
            "items": [postal_json(dispatch) for dispatch in letters],
        },
    }


def owner_find(value: str) -> Owner | None:
    """An owner by id or by email (what commands accept for --owner)."""
    if value.isdigit():
        return Owner.objects.filter(pk=int(value)).first()
    return Owner.objects.filter(email__iexact=value).first()
