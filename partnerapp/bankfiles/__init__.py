"""Bank files for payment reconciliation: parse camt.054 / camt.053 / CSV, match to invoices.

A pure library like `partnerapp.smartbusiness`: it knows no models, no views and no provider
client. `parse(bytes)` gives a `BankFile` of credit `BankEntry`s with stable keys;
`match(entries, invoices)` pairs them with the provider's invoice dicts.
"""

from partnerapp.bankfiles.entries import BankEntry, BankFile, IgnoredEntry, IgnoreReason
from partnerapp.bankfiles.errors import BankFileError
from partnerapp.bankfiles.matching import Classification, Match, MatchBasis, MatchStatus, match
from partnerapp.bankfiles.parsing import MAX_BYTES, parse
from partnerapp.bankfiles.references import (
    is_valid_creditor_reference,
    is_valid_qr_reference,
    normalise_reference,
    qr_check_digit,
)

__all__ = [
    "MAX_BYTES",
    "BankEntry",
    "BankFile",
    "BankFileError",
    "Classification",
    "IgnoreReason",
    "IgnoredEntry",
    "Match",
    "MatchBasis",
    "MatchStatus",
    "is_valid_creditor_reference",
    "is_valid_qr_reference",
    "match",
    "normalise_reference",
    "parse",
    "qr_check_digit",
]
