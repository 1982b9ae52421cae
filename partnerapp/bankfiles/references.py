"""Swiss QR references (27 digits, mod 10 recursive) and ISO 11649 creditor references (RF…).

A bank reports the reference a payer typed or scanned from the QR-bill; the provider
stores the one it printed (`isr_reference_number`). Both go through `normalise_reference`
before they are compared, so spaces, case and dropped leading zeros never hide a match.
"""

from __future__ import annotations

import re

QR_REFERENCE_LENGTH = 27
# The ISR/QR "modulo 10 recursive" carry table (SIX, QR-bill implementation guidelines).
_CARRY_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
_WHITESPACE = re.compile(r"\s+")
_CREDITOR_REFERENCE = re.compile(r"RF\d{2}[0-9A-Z]{1,21}")


def normalise_reference(reference: str | None) -> str:
    """The comparable form of a reference: no whitespace, upper case, and a reference of
    digits only left-padded with zeros to 27 digits (leading zeros never change a mod-10
    check digit, so '…3139471430009017' and '0000…3139471430009017' are the same reference).
    '' for no reference."""
    compact = _WHITESPACE.sub("", reference or "").upper()
    if compact.isdigit() and len(compact) < QR_REFERENCE_LENGTH:
        return compact.zfill(QR_REFERENCE_LENGTH)
    return compact


def qr_check_digit(digits: str) -> int:
    """The mod-10 recursive check digit of a string of digits."""
    carry = 0
    for digit in digits:
        carry = _CARRY_TABLE[(carry + int(digit)) % 10]
    return (10 - carry) % 10


def is_valid_qr_reference(reference: str | None) -> bool:
    """True for a 27-digit QR reference (spaces allowed) whose last digit checks out."""
    compact = _WHITESPACE.sub("", reference or "")
    if len(compact) != QR_REFERENCE_LENGTH or not compact.isascii() or not compact.isdigit():
        return False
    return qr_check_digit(compact[:-1]) == int(compact[-1])


def is_valid_creditor_reference(reference: str | None) -> bool:
    """True for an ISO 11649 creditor reference ('RF18 5390 0754 7034', case and spaces
    ignored): 'RF', two check digits, up to 21 letters or digits, mod 97 == 1."""
    compact = _WHITESPACE.sub("", reference or "").upper()
    if not compact.isascii() or not _CREDITOR_REFERENCE.fullmatch(compact):
        return False
    rotated = compact[4:] + compact[:4]
    return int("".join(str(int(character, 36)) for character in rotated)) % 97 == 1


def reference_kind(reference: str | None) -> str:
    """'QRR' for a valid QR reference, 'SCOR' for a valid creditor reference, else ''."""
    if is_valid_qr_reference(reference):
        return "QRR"
    if is_valid_creditor_reference(reference):
        return "SCOR"
    return ""
