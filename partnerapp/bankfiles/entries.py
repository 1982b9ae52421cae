"""What a bank file says, as plain values: `BankFile`, `BankEntry`, `IgnoredEntry`, and the
entry keys that let a re-upload of the same money record nothing twice."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy

CENT = Decimal("0.01")
# What a payer's bank writes when the payer gave no end-to-end id: never an identity.
NOT_PROVIDED = "NOTPROVIDED"


@dataclass(frozen=True)
class BankEntry:
    """One booked transaction: a camt TxDtls (or an Ntry without details), or a CSV row.

    `amount` is never negative; `is_credit` says the direction. `reference` is the
    creditor reference in `normalise_reference` form ('' when none) and `reference_type`
    is what the bank called it ('QRR', 'SCOR', another proprietary code, or '').
    `key` is stable across re-deliveries of the same transaction (see `EntryKeys`).
    """

    key: str
    booking_date: date | None
    value_date: date | None
    amount: Decimal
    currency: str
    reference: str = ""
    reference_type: str = ""
    text: str = ""
    payer: str = ""
    account: str = ""
    transaction_reference: str = ""  # AcctSvcrRef of the TxDtls: the bank's id of the payment
    entry_reference: str = ""  # AcctSvcrRef of the Ntry: the booking (a batch has one)
    end_to_end_id: str = ""
    is_credit: bool = True
    is_booked: bool = True  # camt Sts BOOK (or absent); PDNG and INFO are not money yet
    is_reversal: bool = False  # camt RvslInd: undoes an earlier booking
    position_in_file: int = 0  # the camt Ntry's number (from 1) or the CSV line
    transaction_in_entry: int = 0  # the TxDtls's number within its Ntry (from 1); 0: none


class IgnoreReason(StrEnum):
    DEBIT = "debit"
    REVERSAL = "reversal"
    NOT_BOOKED = "not_booked"
    ZERO_AMOUNT = "zero_amount"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return IGNORE_REASON_LABELS[self]


IGNORE_REASON_LABELS = {
    IgnoreReason.DEBIT: gettext_lazy("Money going out (a debit), not a payment received"),
    IgnoreReason.REVERSAL: gettext_lazy("A reversal of an earlier booking"),
    IgnoreReason.NOT_BOOKED: gettext_lazy("Not booked yet (pending or for information only)"),
    IgnoreReason.ZERO_AMOUNT: gettext_lazy("The amount is zero"),
    IgnoreReason.DUPLICATE: gettext_lazy("The same transaction appears earlier in this file"),
}


@dataclass(frozen=True)
class IgnoredEntry:
    """An entry the file holds that is not a payment to record, and why."""

    entry: BankEntry
    reason: IgnoreReason


@dataclass(frozen=True)
class BankFile:
    """A parsed bank file. `entries` are the credits to reconcile, in file order, each key
    once; `ignored` are the rest (debits, reversals, pending, duplicates), never dropped.
    `format` is 'camt.053', 'camt.054' or 'csv'; `message` the ISO message id and version
    ('camt.054.001.08', '' for CSV)."""

    format: str
    message: str
    entries: tuple[BankEntry, ...]
    ignored: tuple[IgnoredEntry, ...] = ()
    filename: str = ""
    accounts: tuple[str, ...] = ()


def amount_text(amount: Decimal) -> str:
    """'12.30' for 12.3 and 12.30: one spelling per amount, for keys."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{amount:.2f}"
    return f"{amount:f}"


class EntryKeys:
    """Hands out the entry keys of one statement (or one CSV file), in file order.

    The bank's own ids come first, so a re-delivery gives the same key even if the bank
    rewrites a text. Only without any id does the key hash the content; identical rows
    (two equal payments the same day) are told apart by their count within the statement,
    which a re-delivery of the same days repeats.
    """

    def __init__(self) -> None:
        self._identical_rows: Counter[tuple[str, ...]] = Counter()

    def key_for(self, entry: BankEntry, *, index_in_entry: int = 0) -> str:
        if entry.transaction_reference:
            return f"acctsvcrref:{entry.transaction_reference}"
        if entry.end_to_end_id and entry.end_to_end_id.upper() != NOT_PROVIDED:
            # The payer chooses end-to-end ids, so two payers may pick the same one:
            # the amount and currency keep their payments apart.
            return f"endtoendid:{entry.end_to_end_id}:{amount_text(entry.amount)}:{entry.currency}"
        if entry.entry_reference:
            return f"entry:{entry.entry_reference}:{index_in_entry}"
        return self._content_key(entry)

    def with_key(self, entry: BankEntry, *, index_in_entry: int = 0) -> BankEntry:
        return replace(entry, key=self.key_for(entry, index_in_entry=index_in_entry))

    def _content_key(self, entry: BankEntry) -> str:
        day = entry.booking_date or entry.value_date
        content = (
            entry.account,
            day.isoformat() if day else "",
            ("" if entry.is_credit else "-") + amount_text(entry.amount),
            entry.currency,
            entry.reference,
            entry.payer,
            entry.text,
        )
        occurrence = self._identical_rows[content]
        self._identical_rows[content] += 1
        digest = hashlib.sha256("\x1f".join((*content, str(occurrence))).encode()).hexdigest()
        return f"sha256:{digest}"


def sort_out(entries: list[BankEntry]) -> tuple[tuple[BankEntry, ...], tuple[IgnoredEntry, ...]]:
    """Split keyed entries into credits to reconcile and ignored ones, in file order.
    A key seen before in the same file (two statements covering the same day) is a duplicate."""
    credits: list[BankEntry] = []
    ignored: list[IgnoredEntry] = []
    seen: set[str] = set()
    for entry in entries:
        reason = ignore_reason(entry)
        if reason is None and entry.key in seen:
            reason = IgnoreReason.DUPLICATE
        if reason is None:
            seen.add(entry.key)
            credits.append(entry)
        else:
            ignored.append(IgnoredEntry(entry, reason))
    return tuple(credits), tuple(ignored)


def ignore_reason(entry: BankEntry) -> IgnoreReason | None:
    if not entry.is_booked:
        return IgnoreReason.NOT_BOOKED
    if entry.is_reversal:
        return IgnoreReason.REVERSAL
    if not entry.is_credit:
        return IgnoreReason.DEBIT
    if entry.amount == 0:
        return IgnoreReason.ZERO_AMOUNT
    return None
