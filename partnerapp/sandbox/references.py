"""Swiss payment references and account numbers the sandbox hands out.

A QR reference (QRR, the former ISR/ESR reference) is 27 digits: 26 digits of the
creditor's choosing and a check digit by the recursive modulo 10 algorithm of the
Swiss Payment Standards. IBANs carry the ISO 13616 mod-97 check digits; a QR-IBAN is
an IBAN whose institution id (positions 5-9) lies in 30000-31999, and only it may
carry a QR reference.
"""

from __future__ import annotations

# The recursive modulo 10 table (SIX, "Swiss Implementation Guidelines QR-bill", annex).
MOD10_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)
QR_REFERENCE_LENGTH = 27


def mod10_check_digit(digits: str) -> str:
    """The check digit to append to `digits` (recursive modulo 10)."""
    if not digits.isdigit():
        raise ValueError("only digits carry a modulo 10 check digit")
    carry = 0
    for digit in digits:
        carry = MOD10_TABLE[(carry + int(digit)) % 10]
    return str((10 - carry) % 10)


def qr_reference(body: str) -> str:
    """A 27-digit QR reference from up to 26 digits (left-padded with zeros)."""
    if len(body) > QR_REFERENCE_LENGTH - 1:
        raise ValueError("a QR reference holds 26 digits before its check digit")
    padded = body.zfill(QR_REFERENCE_LENGTH - 1)
    return padded + mod10_check_digit(padded)


def is_qr_reference(value: str) -> bool:
    """27 digits whose last one is the check digit of the others."""
    return (
        len(value) == QR_REFERENCE_LENGTH
        and value.isdigit()
        and mod10_check_digit(value[:-1]) == value[-1]
    )


def invoice_reference(owner_id: int, invoice_id: int) -> str:
    """The QR reference of an invoice: unique per invoice, stable, owner first (as
    a creditor's own customer-number prefix would be)."""
    return qr_reference(f"{owner_id % 10**8:08d}{invoice_id % 10**18:018d}")


def iban(country: str, bban: str) -> str:
    """`country` + the mod-97 check digits + `bban` (ISO 13616)."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(char, 36)) for char in rearranged.upper())
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def is_iban(value: str) -> bool:
    rearranged = value[4:] + value[:4]
    numeric = "".join(str(int(char, 36)) for char in rearranged.upper())
    return len(value) >= 15 and value[:2].isalpha() and int(numeric) % 97 == 1


def swiss_iban(institution: int, account: int) -> str:
    """A Swiss IBAN: 5-digit institution id (IID) and 12-digit account number."""
    return iban("CH", f"{institution:05d}{account:012d}")
