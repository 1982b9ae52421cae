from django.core.management.base import BaseCommand, CommandError

from partnerapp.sandbox.services import client_register, owner_client_create, owner_find


class Command(BaseCommand):
    help = (
        "Register (or update) an OAuth client at the sandbox provider; with --owner, a "
        "client-credentials client for that owner's own account (id and secret printed once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", help="an owner's email or id: a client for its own account")
        parser.add_argument("--client-id", help="required without --owner; generated with it")
        # Not `required=True`: call_command would then pass the value through argparse,
        # which reads a generated secret starting with "-" as an unknown option.
        parser.add_argument("--secret", default=None, help="required without --owner")
        parser.add_argument("--name", default="", help="default: partnerapp")
        parser.add_argument("--redirect-uri", nargs="+", default=[], dest="redirect_uris")
        parser.add_argument("--scopes", default="", help="space separated; default: all")

    def handle(self, *args, owner=None, **options):
        if owner:
            self._for_owner(owner, options)
        else:
            self._partner_app(**options)

    def _partner_app(self, *, client_id, secret, name, redirect_uris, scopes, **options):
        for value, flag in ((client_id, "--client-id"), (secret, "--secret")):
            if not value:
                raise CommandError(f"{flag} is required (or --owner for an own-account client)")
        if not redirect_uris:
            raise CommandError("--redirect-uri is required (or --owner for an own-account client)")
        client_register(
            client_id=client_id,
            secret=secret,
            name=name or "partnerapp",
            redirect_uris=redirect_uris,
            scopes=scopes.split() or None,
        )
        self.stdout.write(f"sandbox client {client_id} registered for {', '.join(redirect_uris)}")

    def _for_owner(self, value: str, options: dict) -> None:
        owner = owner_find(value)
        if owner is None:
            raise CommandError(f"no sandbox owner {value!r}")
        client, secret = owner_client_create(
            owner=owner,
            client_id=options["client_id"],
            secret=options["secret"],
            name=options["name"],
            redirect_uris=options["redirect_uris"],
            scopes=options["scopes"].split() or None,
        )
        self.stdout.write(f"sandbox client for the own account of {owner.email}")
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("grant_type: client_credentials (the secret is not shown again)")
