"""`match`: pair bank entries with the provider's invoices and say what each payment is.

Rules, in order, for each entry:
1. Its creditor reference equals an invoice's `isr_reference_number` (both normalised):
   matched, whatever the amount; the amount then classifies it (full, partial, over).
2. Else an invoice number appears in its remittance text as a whole word and the amount is
   exactly what is open on that invoice, in its currency: matched as a full payment; two or
   more such invoices: ambiguous, all listed.
3. Else unmatched; invoices whose number the text mentions come along as hints.

Money already taken by an earlier entry of the same run lowers what is open, so paying one
invoice twice in a file shows up as "already paid" instead of being recorded twice.
Invoices are indexed once (by reference, by number), so matching is linear in entries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy

from partnerapp.bankfiles.entries import CENT, BankEntry
from partnerapp.bankfiles.references import normalise_reference

Invoice = Mapping[str, Any]
WORD = re.compile(r"\w+")


class MatchStatus(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


class MatchBasis(StrEnum):
    REFERENCE = "reference"
    NUMBER_AND_AMOUNT = "number_and_amount"
    NUMBER_ONLY = "number_only"  # the text names the invoice, the amount does not fit: a hint
    NOTHING = "nothing"


class Classification(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    OVERPAYMENT = "overpayment"
    FOREIGN_CURRENCY = "foreign_currency"
    ALREADY_PAID = "already_paid"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return CLASSIFICATION_LABELS[self]


CLASSIFICATION_LABELS = {
    Classification.FULL: gettext_lazy("Pays the open amount"),
    Classification.PARTIAL: gettext_lazy("Partial payment: less than the open amount"),
    Classification.OVERPAYMENT: gettext_lazy("Overpayment: more than the open amount"),
    Classification.FOREIGN_CURRENCY: gettext_lazy("Paid in another currency than the invoice's"),
    Classification.ALREADY_PAID: gettext_lazy("The invoice is already paid"),
    Classification.CANCELLED: gettext_lazy("The invoice is cancelled or deleted"),
}
RECORDABLE = frozenset({Classification.FULL, Classification.PARTIAL})
CLOSED_STATUSES = {
    "P": Classification.ALREADY_PAID,
    "C": Classification.CANCELLED,
    "D": Classification.CANCELLED,
}


@dataclass(frozen=True)
class Match:
    """What one entry pays. `invoices` holds the one matched invoice, the ambiguous
    candidates, or (unmatched) the invoices its text mentions. `classification` is set when
    there is a single invoice to judge against. `amount_to_record` is the payment to post
    to the matched invoice: the entry's amount, or only the open amount for an overpayment
    (the rest is `surplus`, for a person); None when nothing may be recorded without one
    (foreign currency, already paid, cancelled, ambiguous, unmatched).
    """

    entry: BankEntry
    status: MatchStatus
    basis: MatchBasis
    invoices: tuple[Invoice, ...] = ()
    classification: Classification | None = None
    open_amount: Decimal | None = None
    amount_to_record: Decimal | None = None

    @property
    def invoice(self) -> Invoice | None:
        return self.invoices[0] if self.status is MatchStatus.MATCHED else None

    @property
    def needs_review(self) -> bool:
        """False only for a matched full or partial payment in the invoice's currency."""
        return self.status is not MatchStatus.MATCHED or self.classification not in RECORDABLE

    @property
    def surplus(self) -> Decimal:
        if self.amount_to_record is None or self.classification is not Classification.OVERPAYMENT:
            return Decimal(0)
        return self.entry.amount - self.amount_to_record


def match(entries: Iterable[BankEntry], invoices: Iterable[Invoice]) -> list[Match]:
    """One `Match` per entry, in order. Pure: `invoices` (provider dicts with id, number,
    status, total, total_paid, currency, isr_reference_number) are read, never changed."""
    book = InvoiceBook(invoices)
    return [book.match(entry) for entry in entries]


def money(value: Any) -> Decimal:
    """A provider amount (a JSON number, a string or None) in cents."""
    if value in (None, ""):
        return Decimal(0)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def number_key(number: Any) -> str:
    """An invoice number as the text search sees it: from its first to its last word
    character, case folded ('RE-2026-0042' -> 're-2026-0042')."""
    words = list(WORD.finditer(str(number or "")))
    return str(number)[words[0].start() : words[-1].end()].casefold() if words else ""


class InvoiceBook:
    """The invoices of one matching run, indexed, with what is still open on each."""

    def __init__(self, invoices: Iterable[Invoice]) -> None:
        self.by_reference: dict[str, list[Invoice]] = defaultdict(list)
        self.by_number: dict[str, list[Invoice]] = defaultdict(list)
        self.open: dict[Any, Decimal] = {}
        self.longest_number = 1  # in words: how many words of text one lookup spans
        for invoice in invoices:
            self.add(invoice)

    def add(self, invoice: Invoice) -> None:
        self.open[invoice["id"]] = money(invoice.get("total")) - money(invoice.get("total_paid"))
        reference = normalise_reference(invoice.get("isr_reference_number"))
        if reference:
            self.by_reference[reference].append(invoice)
        number = number_key(invoice.get("number"))
        if number:
            self.by_number[number].append(invoice)
            self.longest_number = max(self.longest_number, len(WORD.findall(number)))

    def match(self, entry: BankEntry) -> Match:
        return (
            self.match_reference(entry)
            or self.match_number_and_amount(entry)
            or Match(entry, MatchStatus.UNMATCHED, MatchBasis.NOTHING)
        )

    def match_reference(self, entry: BankEntry) -> Match | None:
        candidates = self.by_reference.get(entry.reference, []) if entry.reference else []
        if len(candidates) > 1:  # a deleted copy does not make the live invoice ambiguous
            candidates = [invoice for invoice in candidates if invoice.get("status") != "D"]
        if not candidates:
            return None
        if len(candidates) > 1:
            return Match(entry, MatchStatus.AMBIGUOUS, MatchBasis.REFERENCE, tuple(candidates))
        return self.matched(entry, candidates[0], MatchBasis.REFERENCE)

    def match_number_and_amount(self, entry: BankEntry) -> Match | None:
        mentioned = self.mentioned_in(entry.text)
        if not mentioned:
            return None
        exact = [invoice for invoice in mentioned if self.pays_exactly(entry, invoice)]
        if len(exact) == 1:
            return self.matched(entry, exact[0], MatchBasis.NUMBER_AND_AMOUNT)
        if exact:
            return Match(entry, MatchStatus.AMBIGUOUS, MatchBasis.NUMBER_AND_AMOUNT, tuple(exact))
        hint = self.judge(entry, mentioned[0]) if len(mentioned) == 1 else (None, None, None)
        return Match(
            entry,
            MatchStatus.UNMATCHED,
            MatchBasis.NUMBER_ONLY,
            tuple(mentioned),
            classification=hint[0],
            open_amount=hint[1],
        )

    def mentioned_in(self, text: str) -> list[Invoice]:
        """Invoices whose number stands in `text` as whole words, in order of appearance."""
        words = list(WORD.finditer(text))
        found: dict[Any, Invoice] = {}
        for first, start in enumerate(words):
            for last in words[first : first + self.longest_number]:
                for invoice in self.by_number.get(text[start.start() : last.end()].casefold(), ()):
                    found.setdefault(invoice["id"], invoice)
        return list(found.values())

    def pays_exactly(self, entry: BankEntry, invoice: Invoice) -> bool:
        return self.judge(entry, invoice)[0] is Classification.FULL

    def matched(self, entry: BankEntry, invoice: Invoice, basis: MatchBasis) -> Match:
        classification, open_amount, to_record = self.judge(entry, invoice)
        if to_record is not None:
            self.open[invoice["id"]] -= to_record
        return Match(
            entry,
            MatchStatus.MATCHED,
            basis,
            (invoice,),
            classification=classification,
            open_amount=open_amount,
            amount_to_record=to_record,
        )

    def judge(
        self, entry: BankEntry, invoice: Invoice
    ) -> tuple[Classification, Decimal, Decimal | None]:
        """(classification, open amount, amount to record) of `entry` paying `invoice`."""
        open_amount = self.open[invoice["id"]]
        closed = CLOSED_STATUSES.get(str(invoice.get("status", "")).upper())
        if closed is not None:
            return closed, open_amount, None
        if str(invoice.get("currency", "")).upper() != entry.currency:
            return Classification.FOREIGN_CURRENCY, open_amount, None
        if open_amount <= 0:  # paid in full, possibly by an earlier entry of this run
            return Classification.ALREADY_PAID, open_amount, None
        if entry.amount == open_amount:
            return Classification.FULL, open_amount, entry.amount
        if entry.amount < open_amount:
            return Classification.PARTIAL, open_amount, entry.amount
        return Classification.OVERPAYMENT, open_amount, open_amount
