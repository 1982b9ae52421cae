from django.core.management.base import BaseCommand
from django.utils import timezone

from partnerapp.sandbox.seeding import seed_owner

DEMO_OWNER = {
    "email": "owner@sandbox.example",
    "name": "Anna",
    "surname": "Keller",
    "company": "Keller Treuhand AG",
}


def owner_fields(index: int) -> dict[str, str]:
    """The demo owner first, then owner2@…, owner3@… ."""
    if index == 0:
        return DEMO_OWNER
    return {
        "email": f"owner{index + 1}@sandbox.example",
        "name": "Owner",
        "surname": str(index + 1),
        "company": f"Sandbox Company {index + 1} AG",
    }


class Command(BaseCommand):
    help = (
        "Seed sandbox owners with realistic Swiss contacts, invoices, offers, delivery notes, "
        "order confirmations and letters (keeps existing owners as they are)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=60, help="invoices per owner")
        parser.add_argument("--owners", type=int, default=1, help="owners, the demo owner first")
        parser.add_argument("--password", default="sandbox-owner", help="password of every owner")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--other-documents",
            type=int,
            default=None,
            help="of each other kind per owner (default: a tenth of --invoices, at least 2)",
        )

    def handle(self, *args, invoices, owners, password, seed, other_documents, **options):
        today = timezone.localdate()
        for index in range(owners):
            owner, created = seed_owner(
                **owner_fields(index),
                password=password,
                invoices=invoices,
                seed=seed,
                today=today,
                other_documents=other_documents,
            )
            verb = "created with" if created else "already has"
            count = owner.invoices.count()
            self.stdout.write(f"sandbox owner {owner.email} {verb} {count} invoices")
