"""Write the bank's view of an owner's open invoices as camt.054, camt.053 or CSV."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from partnerapp.sandbox import bankfiles, camt
from partnerapp.sandbox.configuration import configuration_for_owner
from partnerapp.sandbox.models import Owner

FORMATS = ("camt054", "camt053", "csv")


class Command(BaseCommand):
    help = (
        "Write a Swiss bank file for an owner's open invoices (status S, PP, R1, R2, R3): "
        "--paid credits that pay an invoice in full, --partial ones that pay part of it, "
        "--unknown ones whose QR reference matches nothing. camt054 and camt053 follow the "
        "Swiss Payment Standards (ISO 20022 .04, QR reference in "
        "NtryDtls/TxDtls/RmtInf/Strd/CdtrRefInf/Ref); csv is semicolon separated with the "
        "columns date;amount;currency;reference;payer;text (ISO dates, amounts with a "
        "decimal point). Nothing in the sandbox changes. The same --seed and --date give "
        "the same file."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--owner", required=True, help="the owner's email")
        parser.add_argument("--paid", type=int, default=0)
        parser.add_argument("--partial", type=int, default=0)
        parser.add_argument("--unknown", type=int, default=0)
        parser.add_argument("--format", choices=FORMATS, default="camt054")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--date", type=date.fromisoformat, help="booking day (default today)")
        parser.add_argument("--currency", default="CHF", help="the account's currency")

    def handle(self, *args, **options) -> None:
        owner = Owner.objects.filter(email=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no sandbox owner {options['owner']}")
        if min(options["paid"], options["partial"], options["unknown"]) < 0:
            raise CommandError("--paid, --partial and --unknown count entries: 0 or more")
        day = options["date"] or timezone.localdate()
        try:
            entries = bankfiles.bank_entries(
                owner=owner,
                paid=options["paid"],
                partial=options["partial"],
                unknown=options["unknown"],
                seed=options["seed"],
                day=day,
                currency=options["currency"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        content = self._render(options["format"], entries, owner, day, options["currency"])
        self._write(content, options["output"])

    def _render(self, kind, entries, owner: Owner, day: date, currency: str) -> bytes:
        if kind == "csv":
            return bankfiles.write_csv(entries).encode("utf-8")
        _, isr = configuration_for_owner(owner)
        name = owner.company_name or f"{owner.name} {owner.surname}"
        account = camt.Account(
            iban=isr.iban, owner_name=name, currency=currency, opening_balance=Decimal("10000.00")
        )
        created = timezone.make_aware(datetime.combine(day, time(18, 0)))
        return camt.write(kind, entries, account, created)

    def _write(self, content: bytes, output: str | None) -> None:
        if output:
            with open(output, "wb") as handle:
                handle.write(content)
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
