"""Re-encrypt every stored token under the first key of TOKEN_ENCRYPTION_KEYS.

Rotation: put the new key first and keep the old ones after it, run this command,
then drop the old keys.
"""

from collections import Counter

from django.core.management.base import BaseCommand
from django.db import transaction

from partnerapp.connections import crypto
from partnerapp.connections.models import Connection
from partnerapp.organizations import audit

CIPHERTEXT_FIELDS = ["access_token_ciphertext", "refresh_token_ciphertext"]


class Command(BaseCommand):
    help = "Re-encrypt all connection tokens under the newest TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        per_organization: Counter[int] = Counter()
        with transaction.atomic():
            rows = Connection.objects.select_for_update().only(
                "pk", "organization_id", *CIPHERTEXT_FIELDS
            )
            for connection in rows:
                connection.access_token_ciphertext = crypto.reencrypt(
                    connection.access_token_ciphertext
                )
                connection.refresh_token_ciphertext = crypto.reencrypt(
                    connection.refresh_token_ciphertext
                )
                connection.save(
                    update_fields=["access_token_ciphertext", "refresh_token_ciphertext"]
                )
                per_organization[connection.organization_id] += 1
            for organization_id, count in per_organization.items():
                audit.record(
                    "connection.key_rotation",
                    organization=organization_id,
                    after={"connections": count},
                )
        total = sum(per_organization.values())
        self.stdout.write(f"re-encrypted the tokens of {total} connections")
