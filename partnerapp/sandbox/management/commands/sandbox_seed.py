from django.core.management.base import BaseCommand
from django.utils import timezone

from partnerapp.sandbox.seeding import seed_owner

DEMO_OWNER = {
    "email": "owner@sandbox.example",
    "name": "Anna",
    "surname": "Keller",
    "company": "Keller Treuhand AG",
}


class Command(BaseCommand):
    help = "Seed sandbox owners with realistic Swiss contacts and invoices (keeps existing ones)."

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=60, help="invoices per owner")
        parser.add_argument("--owners", type=int, default=1, help="owners, the demo owner first")
        parser.add_argument("--password", default="sandbox-owner", help="password of every owner")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, invoices, owners, password, seed, **options):
        today = timezone.localdate()
        for index in range(owners):
            fields = (
                DEMO_OWNER
                if index == 0
                else {
                    "email": f"owner{index + 1}@sandbox.example",
                    "name": "Owner",
                    "surname": str(index + 1),
                    "company": f"Sandbox Company {index + 1} AG",
                }
            )
            owner, created = seed_owner(
                **fields, password=password, invoices=invoices, seed=seed, today=today
            )
            verb = "created with" if created else "already has"
            count = owner.invoices.count()
            self.stdout.write(f"sandbox owner {owner.email} {verb} {count} invoices")
