"""Re-encrypt every stored token, client secret, connect link and webhook signing secret
under the first key of TOKEN_ENCRYPTION_KEYS; each organization's audit log records it
(actor partnerapp).

Rotation: put the new key first and keep the old ones after it, run this command,
then drop the old keys.
"""

from collections import Counter

from django.core.management.base import BaseCommand
from django.db import transaction

from partnerapp.connections import crypto
from partnerapp.connections.models import Connection, ConnectLink
from partnerapp.organizations import audit

# Everything crypto.encrypt wrote: both tokens and an own account's client secret.
CIPHERTEXT_FIELDS = [
    "access_token_ciphertext",
    "refresh_token_ciphertext",
    "own_client_secret_ciphertext",
]


class Command(BaseCommand):
    help = "Re-encrypt all connection tokens under the newest TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        per_organization: Counter[int] = Counter()
        with transaction.atomic():
            rows = Connection.objects.select_for_update().only(
                "pk", "organization_id", *CIPHERTEXT_FIELDS
            )
            for connection in rows:
                for field in CIPHERTEXT_FIELDS:
                    setattr(connection, field, crypto.reencrypt(getattr(connection, field)))
                connection.save(update_fields=CIPHERTEXT_FIELDS)
                per_organization[connection.organization_id] += 1
            for organization_id, count in per_organization.items():
                audit.record(
                    "connection.key_rotation",
                    organization=organization_id,
                    after={"connections": count},
                )
            links = 0
            for link in ConnectLink.objects.select_for_update().only("pk", "token_ciphertext"):
                link.token_ciphertext = crypto.reencrypt(link.token_ciphertext)
                link.save(update_fields=["token_ciphertext"])
                links += 1
            from partnerapp.webhooks.services import secrets_reencrypt  # webhooks imports us

            secrets = secrets_reencrypt()
        total = sum(per_organization.values())
        self.stdout.write(f"re-encrypted the tokens of {total} connections")
        self.stdout.write(f"re-encrypted {links} connect links")
        self.stdout.write(f"re-encrypted {secrets} webhook signing secrets")
