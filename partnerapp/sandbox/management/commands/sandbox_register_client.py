from django.core.management.base import BaseCommand, CommandError

from partnerapp.sandbox.services import client_register


class Command(BaseCommand):
    help = "Register (or update) an OAuth client at the sandbox provider."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True)
        # Not `required=True`: call_command would then pass the value through argparse,
        # which reads a generated secret starting with "-" as an unknown option.
        parser.add_argument("--secret", default=None, help="required")
        parser.add_argument("--name", default="partnerapp")
        parser.add_argument("--redirect-uri", nargs="+", required=True, dest="redirect_uris")
        parser.add_argument("--scopes", default="", help="space separated; default: all")

    def handle(self, *args, client_id, secret, name, redirect_uris, scopes, **options):
        if not secret:
            raise CommandError("--secret is required")
        client_register(
            client_id=client_id,
            secret=secret,
            name=name,
            redirect_uris=redirect_uris,
            scopes=scopes.split() or None,
        )
        self.stdout.write(f"sandbox client {client_id} registered for {', '.join(redirect_uris)}")
