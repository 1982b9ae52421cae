"""What a Swiss bank would report for an owner's open invoices: credit entries that pay
some in full, some in part, and some that match nothing. The bank's view only: nothing
in the sandbox changes (the partner app records the payments it finds).

`bank_entries` decides the entries (deterministic for a seed and a day); camt.py and
`write_csv` write them as camt.054, camt.053 or CSV.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from partnerapp.sandbox.models import Invoice, Owner
from partnerapp.sandbox.references import qr_reference
from partnerapp.sandbox.seeding import FIRST_NAMES, LAST_NAMES

OPEN_STATUSES = ("S", "PP", "R1", "R2", "R3")
CSV_COLUMNS = ("date", "amount", "currency", "reference", "payer", "text")
FIVE_RAPPEN = Decimal("0.05")


@dataclass(frozen=True)
class BankEntry:
    """One credit booked on the account: the QR reference is the creditor reference."""

    booked: date
    amount: Decimal
    currency: str
    reference: str
    payer: str
    text: str
    servicer_reference: str  # the bank's own id of the booking (AcctSvcrRef)
    end_to_end_id: str


def open_invoices(owner: Owner, currency: str) -> list[Invoice]:
    rows = owner.invoices.filter(status__in=OPEN_STATUSES, currency=currency)
    rows = rows.select_related("contact").order_by("pk")
    return [invoice for invoice in rows if invoice.open_amount > 0]


def bank_entries(
    *, owner: Owner, paid: int, partial: int, unknown: int, seed: int, day: date, currency: str
) -> list[BankEntry]:
    """The entries, shuffled as a bank lists them; ValueError when there are fewer open
    invoices than `paid + partial`."""
    candidates = open_invoices(owner, currency)
    if paid + partial > len(candidates):
        raise ValueError(
            f"{owner.email} has {len(candidates)} open {currency} invoices; "
            f"{paid + partial} were asked to be paid"
        )
    rng = random.Random(f"{seed}:{owner.pk}:{day.isoformat()}")
    chosen = rng.sample(candidates, paid + partial)
    amounts = [invoice.open_amount for invoice in chosen[:paid]]
    amounts += [_part(rng, invoice.open_amount) for invoice in chosen[paid:]]
    entries = [
        _entry(rng, day, amount, currency, invoice.isr_reference_number, invoice.contact.name)
        for invoice, amount in zip(chosen, amounts, strict=True)
    ]
    entries += [_unknown(rng, day, currency) for _ in range(unknown)]
    rng.shuffle(entries)
    return [_numbered(entry, day, index) for index, entry in enumerate(entries, start=1)]


def _part(rng: random.Random, open_amount: Decimal) -> Decimal:
    """Between a fifth and four fifths of what is open, in 5 Rappen, never all of it."""
    share = Decimal(str(rng.uniform(0.2, 0.8)))
    part = (open_amount * share / FIVE_RAPPEN).quantize(Decimal(1), ROUND_DOWN) * FIVE_RAPPEN
    return min(max(part, FIVE_RAPPEN), open_amount - Decimal("0.01"))


def _entry(rng, day, amount, currency, reference, payer) -> BankEntry:
    return BankEntry(
        booked=day - timedelta(days=rng.randint(0, 2)),
        amount=amount.quantize(Decimal("0.01")),
        currency=currency,
        reference=reference,
        payer=payer,
        text=f"QR-bill credit {payer}",
        servicer_reference="",
        end_to_end_id=rng.choice(["NOTPROVIDED", f"E2E{rng.getrandbits(48):012X}"]),
    )


def _unknown(rng: random.Random, day: date, currency: str) -> BankEntry:
    """A credit whose reference no invoice carries (another creditor's, mistyped...)."""
    language = rng.choice(list(FIRST_NAMES))
    payer = f"{rng.choice(FIRST_NAMES[language])} {rng.choice(LAST_NAMES[language])}"
    reference = qr_reference("99" + "".join(rng.choice("0123456789") for _ in range(24)))
    amount = Decimal(rng.randint(20, 4000)) * FIVE_RAPPEN
    return _entry(rng, day, amount, currency, reference, payer)


def _numbered(entry: BankEntry, day: date, index: int) -> BankEntry:
    reference = f"{day:%Y%m%d}{index:06d}"
    return BankEntry(**{**entry.__dict__, "servicer_reference": reference})


def write_csv(entries: list[BankEntry]) -> str:
    """Semicolon separated (the Swiss habit), a header row, amounts with a decimal point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = (entry.booked.isoformat(), f"{entry.amount:.2f}", entry.currency, entry.reference)
        writer.writerow((*row, entry.payer, entry.text))
    return buffer.getvalue()
