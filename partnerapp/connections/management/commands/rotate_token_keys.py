"""Re-encrypt every stored token under the first key of TOKEN_ENCRYPTION_KEYS.

Rotation: put the new key first and keep the old ones after it, run this command,
then drop the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from partnerapp.connections import crypto
from partnerapp.connections.models import Connection

CIPHERTEXT_FIELDS = ["access_token_ciphertext", "refresh_token_ciphertext"]


class Command(BaseCommand):
    help = "Re-encrypt all connection tokens under the newest TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for connection in Connection.objects.select_for_update().only("pk", *CIPHERTEXT_FIELDS):
                connection.access_token_ciphertext = crypto.reencrypt(
                    connection.access_token_ciphertext
                )
                connection.refresh_token_ciphertext = crypto.reencrypt(
                    connection.refresh_token_ciphertext
                )
                connection.save(
                    update_fields=["access_token_ciphertext", "refresh_token_ciphertext"]
                )
                count += 1
        self.stdout.write(f"re-encrypted the tokens of {count} connections")
