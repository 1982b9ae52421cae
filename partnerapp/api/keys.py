"""API keys: create (shown once), find by the presented key, revoke, note their use.

A key reads `pa_live_<prefix>_<secret>`: the prefix (8 hex digits) finds the row and
is shown on pages and in the audit log; the secret is 32 random bytes. Only the SHA-256
of the whole key is stored. A salted slow hash would add nothing: with 256 random bits
there is no dictionary to try, and every API call checks a key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from partnerapp.api.models import ApiKey
from partnerapp.organizations import audit, permissions
from partnerapp.organizations.models import Membership
from partnerapp.organizations.permissions import Perm

KEY_START = "pa_live_"


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(
    *, membership: Membership, name: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key of `membership`'s organization and the key itself (show it once: only
    its hash is kept). Admins and owners only (PermissionDenied otherwise)."""
    permissions.require(membership, Perm.SETTINGS)
    prefix = secrets.token_hex(4)
    raw = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization_id=membership.organization_id,
            name=name.strip()[:100],
            prefix=prefix,
            secret_hash=key_hash(raw),
            scope=scope,
            expires_at=expires_at,
            created_by=membership.user,
        )
        summary = {"name": key.name, "scope": scope, "expires_at": expires_at}
        audit.record("api_key.create", organization=key.organization_id, obj=key, after=summary)
    return key, raw


def api_key_revoke(*, membership: Membership, key: ApiKey) -> bool:
    """Revoke `key` (it answers 401 from now on); False if it was revoked already."""
    permissions.require(membership, Perm.SETTINGS)
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now())
    if revoked:
        audit.record(
            "api_key.revoke", organization=key.organization_id, obj=key, after={"revoked": True}
        )
    return bool(revoked)


def api_key_for(raw: str) -> ApiKey | None:
    """The active key `raw` presents; None for an unknown, revoked or expired one."""
    if not raw.startswith(KEY_START):
        return None
    prefix, _sep, secret = raw[len(KEY_START) :].partition("_")
    if not secret:
        return None
    key = ApiKey.objects.select_related("organization").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash, key_hash(raw)):
        return None
    return key if key.is_active() else None


def api_key_used(key: ApiKey, *, ip: str | None) -> None:
    """Note the time and address of the key's latest call (shown on the keys page)."""
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now(), last_used_ip=ip)


def keys_for(organization) -> list[ApiKey]:
    return list(ApiKey.objects.filter(organization=organization))
