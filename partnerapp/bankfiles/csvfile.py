"""Read a CSV of payments received: one row per payment, a header row naming the columns.

Columns (any order, English, German, French or Italian names): date, amount, currency
(required), reference, payer, text (optional); others are ignored. Separator ';' or ',' (or
tab), UTF-8 with or without BOM (Windows-1252 as Excel writes it is accepted too). Amounts in
Swiss notation ("1'234.50", "1 234,50", "-12.30"; a negative amount is a debit); dates
YYYY-MM-DD or DD.MM.YYYY.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from partnerapp.bankfiles.entries import BankEntry, BankFile, EntryKeys, sort_out
from partnerapp.bankfiles.errors import BankFileError, shown
from partnerapp.bankfiles.references import normalise_reference

REQUIRED = ("date", "amount", "currency")
OPTIONAL = ("reference", "payer", "text")
HEADER_NAMES = {
    "date": ("date", "datum", "buchungsdatum", "booking date", "data", "date comptable"),
    "amount": ("amount", "betrag", "montant", "importo", "gutschrift", "crédit", "credit"),
    "currency": ("currency", "währung", "waehrung", "devise", "monnaie", "divisa"),
    "reference": (
        "reference",
        "referenz",
        "referenznummer",
        "qr-referenz",
        "référence",
        "riferimento",
    ),
    "payer": ("payer", "zahler", "auftraggeber", "payeur", "donneur d'ordre", "pagatore"),
    "text": ("text", "mitteilung", "buchungstext", "communication", "message", "testo"),
}
COLUMN_OF_NAME = {name: column for column, names in HEADER_NAMES.items() for name in names}
SEPARATORS = (";", ",", "\t")
# Thousands marks Swiss files use: apostrophes (straight and typographic) and spaces.
THOUSANDS_MARKS = re.compile(r"['\u2019\u02bc\s\u00a0\u202f]")
PLAIN_AMOUNT = re.compile(r"[+-]?\d{1,15}(\.\d{1,2})?")  # up to a trillion, in cents
CURRENCY = re.compile(r"[A-Z]{3}")
DATE_FORMATS = (
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"),
    re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"),
)
HEADER_SEARCH_ROWS = 10
COLUMNS_EXPECTED = "date, amount, currency, reference, payer, text"


def read_csv(data: bytes, filename: str = "") -> BankFile:
    """Parse a CSV of payments; raise `BankFileError` naming the line of any bad value."""
    text = decode(data)
    if not text.strip():
        raise BankFileError("empty", _("The file is empty."))
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator_of(text))
    keys = EntryKeys()
    try:
        columns = columns_of(header_row(rows))
        entries = [
            keys.with_key(row_entry(row, columns, line_number=rows.line_num))
            for row in rows
            if any(cell.strip() for cell in row)
        ]
    except csv.Error:
        raise BankFileError(
            "bad_value",
            _("Line %(line)s: a quote is not closed, or the line is far too long.")
            % {"line": rows.line_num},
        ) from None
    credits, ignored = sort_out(entries)
    return BankFile(format="csv", message="", entries=credits, ignored=ignored, filename=filename)


def header_row(rows: Iterator[list[str]]) -> list[str]:
    """The first row naming the required columns, within the first few (an export may start
    with a title or the account); else the first non-blank row, for the error to name."""
    first: list[str] | None = None
    for row in itertools.islice(rows, HEADER_SEARCH_ROWS):
        if not any(cell.strip() for cell in row):
            continue
        first = first if first is not None else row
        if all(column in names_in(row) for column in REQUIRED):
            return row
    return first or []


def names_in(row: list[str]) -> set[str | None]:
    return {column_named(cell) for cell in row}


def column_named(header_cell: str) -> str | None:
    """'date' for 'Datum', ' DATE ', 'Buchungsdatum'; None for a column we do not read."""
    return COLUMN_OF_NAME.get(" ".join(header_cell.split()).casefold())


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped); failing that, Windows-1252 as Excel saves 'CSV' in Switzerland."""
    if b"\x00" in data:
        raise not_a_bank_file()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise not_a_bank_file() from None


def not_a_bank_file() -> BankFileError:
    return BankFileError(
        "not_a_bank_file",
        _(
            "This is neither a camt XML file nor a CSV with the columns %(columns)s (a header "
            "row naming them, separated by ';' or ',')."
        )
        % {"columns": COLUMNS_EXPECTED},
    )


def separator_of(text: str) -> str:
    """The separator the first lines use most."""
    start = "\n".join(text.lstrip().splitlines()[:HEADER_SEARCH_ROWS])
    return max(SEPARATORS, key=start.count)


def columns_of(header: list[str]) -> dict[str, int]:
    """Column name -> index, from the header row; refuses a header without the required ones."""
    columns: dict[str, int] = {}
    for index, name in enumerate(header):  # the first column of each name counts
        column = column_named(name)
        if column is not None:
            columns.setdefault(column, index)
    if not columns:
        raise not_a_bank_file()
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise BankFileError(
            "missing_columns",
            _("The CSV has no column for: %(missing)s. Its header row must name %(columns)s.")
            % {"missing": ", ".join(missing), "columns": COLUMNS_EXPECTED},
        )
    return columns


def row_entry(row: list[str], columns: dict[str, int], *, line_number: int) -> BankEntry:
    """The entry of one data row, its values checked; `key` is set by the caller."""

    def cell(column: str) -> str:
        index = columns.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    amount = parse_amount(cell("amount"), line_number)
    day = parse_date(cell("date"), line_number)
    return BankEntry(
        key="",
        booking_date=day,
        value_date=day,
        amount=abs(amount),
        currency=parse_currency(cell("currency"), line_number),
        reference=normalise_reference(cell("reference")),
        text=cell("text"),
        payer=cell("payer"),
        is_credit=amount >= 0,
        position_in_file=line_number,
    )


def parse_amount(text: str, line_number: int) -> Decimal:
    """'1'234.50', '1 234,50', '1,234.50', '-12.3' -> Decimal. Whichever of '.' and ',' comes
    last is the decimal mark; a lone ',' is one only before one or two digits."""
    compact = THOUSANDS_MARKS.sub("", text)
    if "," in compact and "." in compact:
        decimal_mark = "," if compact.rfind(",") > compact.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        compact = compact.replace(thousands, "").replace(decimal_mark, ".")
    elif re.fullmatch(r"[+-]?\d+,\d{1,2}", compact):
        compact = compact.replace(",", ".")
    else:
        compact = (
            compact.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", compact) else compact
        )
    if not PLAIN_AMOUNT.fullmatch(compact):
        raise _line_error(
            line_number, _("Line %(line)s: the amount '%(value)s' is not a number."), text
        )
    return Decimal(compact)


def parse_date(text: str, line_number: int) -> date:
    for pattern in DATE_FORMATS:
        found = pattern.fullmatch(text)
        if found:
            try:
                return date(int(found["year"]), int(found["month"]), int(found["day"]))
            except ValueError:
                break  # the shape of a date, not a real day (31.02.2026)
    raise _line_error(
        line_number,
        _("Line %(line)s: the date '%(value)s' is not a date like 2026-03-31 or 31.03.2026."),
        text,
    )


def parse_currency(text: str, line_number: int) -> str:
    if not CURRENCY.fullmatch(text.upper()):
        raise _line_error(
            line_number,
            _("Line %(line)s: the currency '%(value)s' is not a three-letter code such as CHF."),
            text,
        )
    return text.upper()


def _line_error(line_number: int, message: str, value: str) -> BankFileError:
    return BankFileError("bad_value", message % {"line": line_number, "value": shown(value)})
