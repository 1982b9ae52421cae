"""CSV exports: separators, header names in four languages, BOM, Swiss numbers and dates."""

from datetime import date
from decimal import Decimal

import pytest

from partnerapp.bankfiles import BankFileError, IgnoreReason, parse


def test_it_reads_a_german_semicolon_export_with_bom_and_swiss_amounts():
    data = (
        "Datum;Betrag;Währung;Referenz;Auftraggeber;Mitteilung\r\n"
        "02.03.2026;1'234.50;CHF;21 00000 00003 13947 14300 09017;Rossi AG;Rechnung 2026-0017\r\n"
    ).encode("utf-8-sig")
    [entry] = parse(data, "export.csv").entries
    assert (entry.booking_date, entry.amount, entry.currency) == (
        date(2026, 3, 2), Decimal("1234.50"), "CHF",
    )  # fmt: skip
    assert entry.reference == "210000000003139471430009017"
    assert (entry.payer, entry.text, entry.position_in_file) == (
        "Rossi AG",
        "Rechnung 2026-0017",
        2,
    )


def test_columns_may_come_in_any_order_with_commas_and_quotes():
    data = b'text,currency,amount,date\n"Facture 1042, merci",eur,"1,234.50",2026-03-02\n'
    [entry] = parse(data).entries
    assert (entry.text, entry.currency, entry.amount) == (
        "Facture 1042, merci",
        "EUR",
        Decimal("1234.50"),
    )


def test_french_and_italian_headers_are_understood():
    french = "Date;Montant;Devise;Référence;Payeur;Communication\n2026-03-02;10;CHF;;Dupont;x\n"
    italian = "Data;Importo;Divisa;Riferimento;Pagatore;Testo\n2026-03-02;10;CHF;;Rossi;x\n"
    assert parse(french.encode()).entries[0].payer == "Dupont"
    assert parse(italian.encode()).entries[0].payer == "Rossi"


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1'234.50", "1234.50"),
        ("1\u2019234.50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("12,3", "12.3"),
        ("+15", "15"),
        ("0.05", "0.05"),
    ],
)
def test_swiss_and_european_amount_notations(written, amount):
    data = f'date;amount;currency\n2026-03-02;"{written}";CHF\n'.encode()
    assert parse(data).entries[0].amount == Decimal(amount)


def test_negative_amounts_are_debits_and_zero_amounts_are_ignored():
    data = b"date;amount;currency\n02.03.2026;-12.30;CHF\n02.03.2026;0.00;CHF\n02.03.2026;5;CHF\n"
    bank_file = parse(data)
    assert [entry.amount for entry in bank_file.entries] == [Decimal("5")]
    assert [(ignored.entry.amount, ignored.reason) for ignored in bank_file.ignored] == [
        (Decimal("12.30"), IgnoreReason.DEBIT),
        (Decimal("0.00"), IgnoreReason.ZERO_AMOUNT),
    ]


def test_blank_lines_and_a_title_above_the_header_are_skipped():
    data = b"Kontoauszug Muster AG\n\ndate;amount;currency\n\n2026-03-02;5;CHF\n\n"
    [entry] = parse(data).entries
    assert entry.position_in_file == 5


def test_a_windows_1252_export_from_excel_is_read():
    data = "Datum;Betrag;Währung;Auftraggeber\n02.03.2026;5;CHF;Bäckerei Müller\n".encode("cp1252")
    assert parse(data).entries[0].payer == "Bäckerei Müller"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-03-02;12,3x;CHF", "Line 2: the amount '12,3x' is not a number."),
        ("2026-03-02;;CHF", "Line 2: the amount '' is not a number."),
        ("2026-03-02;1.234;CHF", "Line 2: the amount '1.234' is not a number."),
        ("31.02.2026;5;CHF", "Line 2: the date '31.02.2026' is not a date"),
        ("03/02/2026;5;CHF", "Line 2: the date '03/02/2026' is not a date"),
        ("2026-03-02;5;Franken", "Line 2: the currency 'Franken' is not a three-letter code"),
    ],
)
def test_a_bad_value_names_its_line_and_the_value(row, message):
    with pytest.raises(BankFileError, match="^" + message.replace("(", r"\(")) as raised:
        parse(f"date;amount;currency\n{row}\n".encode())
    assert raised.value.code == "bad_value"


def test_the_line_number_counts_the_lines_a_person_sees():
    data = b"date;amount;currency\n2026-03-02;5;CHF\n\n2026-03-02;x;CHF\n"
    with pytest.raises(BankFileError, match=r"^Line 4:"):
        parse(data)


def test_a_header_without_the_currency_column_says_which_column_is_missing():
    with pytest.raises(BankFileError, match="no column for: currency") as raised:
        parse(b"date;amount;text\n2026-03-02;5;x\n")
    assert raised.value.code == "missing_columns"


def test_a_text_file_that_is_not_such_a_csv_is_refused():
    with pytest.raises(BankFileError, match="neither a camt XML file nor a CSV with the columns"):
        parse(b"Dear accountant,\nplease find the payments below.\n")
