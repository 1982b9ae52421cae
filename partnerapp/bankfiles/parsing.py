"""`parse`: one entry point for every upload; it tells the format from the content."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerapp.bankfiles.camt import read_camt
from partnerapp.bankfiles.csvfile import read_csv
from partnerapp.bankfiles.entries import BankFile
from partnerapp.bankfiles.errors import BankFileError

MAX_BYTES = 20 * 1024 * 1024  # a busy account's month of camt.054 is a few MB
BLANK = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 BOM and whitespace before the first character
# Files people pick by mistake, known by their first bytes.
OTHER_FORMATS = (
    (b"%PDF", gettext_lazy("This is a PDF document, not a bank file.")),
    (
        b"PK\x03\x04",
        gettext_lazy(
            "This is a ZIP archive (or an Excel workbook). If your bank delivered camt files "
            "in a ZIP, unpack it and upload the XML files inside."
        ),
    ),
    (b"\xd0\xcf\x11\xe0", gettext_lazy("This is an Excel or Word file. Save it as CSV (UTF-8).")),
    (b":20:", gettext_lazy("This is an MT940 statement, which partnerapp does not read.")),
    (b"{1:", gettext_lazy("This is a SWIFT MT message, which partnerapp does not read.")),
)


def parse(data: bytes, filename: str = "") -> BankFile:
    """Parse a camt.054, camt.053 or CSV bank file into its credits and ignored entries.

    Raises `BankFileError` (and nothing else) for anything that is not one of those formats,
    with a message a person can act on. `filename` is kept on the result, never trusted to
    decide the format.
    """
    if len(data) > MAX_BYTES:
        raise BankFileError(
            "too_large",
            _(
                "The file is %(size)s MB; bank files of up to %(limit)s MB are accepted. Upload "
                "a shorter period."
            )
            % {"size": f"{len(data) / 1024 / 1024:.1f}", "limit": MAX_BYTES // 1024 // 1024},
        )
    start = data.lstrip(BLANK)
    if not start:
        raise BankFileError("empty", _("The file is empty."))
    if start.startswith(b"<"):
        return read_camt(data, filename)
    for magic, message in OTHER_FORMATS:
        if start.startswith(magic):
            raise BankFileError("not_a_bank_file", str(message))
    return read_csv(data, filename)
