"""Matching bank entries to the provider's invoices, and what each payment is."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from partnerapp.bankfiles import Classification, MatchBasis, MatchStatus, match, parse
from partnerapp.bankfiles.entries import BankEntry
from tests.bankfiles.conftest import fixture_bytes, invoice

QR = "210000000003139471430009017"


def payment(
    amount: str, *, reference: str = "", text: str = "", currency: str = "CHF"
) -> BankEntry:
    return BankEntry(
        key=f"test:{amount}:{reference}:{text}",
        booking_date=date(2026, 3, 2),
        value_date=date(2026, 3, 2),
        amount=Decimal(amount),
        currency=currency,
        reference=reference,
        text=text,
    )


def test_a_qr_reference_matches_its_invoice_as_a_full_payment():
    rossi = invoice("2026-0017", 1250.0, isr_reference_number="21 00000 00003 13947 14300 09017")
    [result] = match([payment("1250.00", reference=QR)], [invoice("2026-0001", 1250.0), rossi])
    assert (result.status, result.basis, result.invoice) == (
        MatchStatus.MATCHED, MatchBasis.REFERENCE, rossi,
    )  # fmt: skip
    assert result.classification is Classification.FULL
    assert result.amount_to_record == Decimal("1250.00")
    assert not result.needs_review


def test_less_than_open_is_a_partial_payment_recorded_as_paid():
    half_paid = invoice("2026-0017", 1000.0, total_paid=400.0, isr_reference_number=QR)
    [result] = match([payment("250", reference=QR)], [half_paid])
    assert (result.classification, result.open_amount) == (
        Classification.PARTIAL,
        Decimal("600.00"),
    )
    assert result.amount_to_record == Decimal("250")
    assert not result.needs_review


def test_more_than_open_records_the_open_amount_and_leaves_the_surplus_for_review():
    [result] = match(
        [payment("1300", reference=QR)], [invoice("2026-0017", 1250.0, isr_reference_number=QR)]
    )
    assert result.classification is Classification.OVERPAYMENT
    assert (result.amount_to_record, result.surplus) == (Decimal("1250.00"), Decimal("50.00"))
    assert result.needs_review


def test_a_payment_in_another_currency_is_flagged_and_never_recorded_automatically():
    [result] = match(
        [payment("1250.00", reference=QR, currency="EUR")],
        [invoice("2026-0017", 1250.0, isr_reference_number=QR)],
    )
    assert (result.status, result.classification) == (
        MatchStatus.MATCHED,
        Classification.FOREIGN_CURRENCY,
    )
    assert result.amount_to_record is None and result.needs_review


def test_a_paid_or_cancelled_invoice_is_flagged_not_paid_again():
    for status, classification in (
        ("P", Classification.ALREADY_PAID),
        ("C", Classification.CANCELLED),
        ("D", Classification.CANCELLED),
    ):
        closed = invoice("2026-0017", 1250.0, status=status, isr_reference_number=QR)
        [result] = match([payment("1250.00", reference=QR)], [closed])
        assert (result.status, result.classification) == (MatchStatus.MATCHED, classification)
        assert result.amount_to_record is None and result.needs_review


def test_paying_the_same_invoice_twice_in_one_file_flags_the_second_payment():
    first, second = match(
        [payment("1250.00", reference=QR), replace(payment("1250.00", reference=QR), key="again")],
        [invoice("2026-0017", 1250.0, isr_reference_number=QR)],
    )
    assert first.classification is Classification.FULL
    assert second.classification is Classification.ALREADY_PAID
    assert second.amount_to_record is None


def test_an_invoice_number_in_the_text_and_the_exact_open_amount_match():
    studer = invoice("2026-0042", 1071.0)
    invoices = [invoice("2026-0041", 1071.0), studer, invoice("1042", 1071.0)]
    [result] = match([payment("1071.00", text="RECHNUNG 2026-0042 DANKE")], invoices)
    assert (result.status, result.basis, result.invoice) == (
        MatchStatus.MATCHED, MatchBasis.NUMBER_AND_AMOUNT, studer,
    )  # fmt: skip
    assert result.classification is Classification.FULL


def test_a_number_matches_only_as_whole_words():
    invoices = [invoice("1042", 50.0), invoice("RE-2026-0050", 320.0, currency="EUR")]
    assert (
        match([payment("50", text="Kundennr. 10421")], invoices)[0].status is MatchStatus.UNMATCHED
    )
    assert match([payment("50", text="Rg.1042/Kd.7")], invoices)[0].status is MatchStatus.MATCHED
    euro = match([payment("320", text="invoice re-2026-0050.", currency="EUR")], invoices)[0]
    assert euro.invoice["number"] == "RE-2026-0050"


def test_two_invoices_named_in_the_text_with_the_same_open_amount_are_ambiguous():
    invoices = [invoice("1042", 50.0), invoice("1043", 50.0), invoice("1044", 80.0)]
    [result] = match([payment("50", text="Rechnungen 1042 1043 1044")], invoices)
    assert (result.status, result.basis) == (MatchStatus.AMBIGUOUS, MatchBasis.NUMBER_AND_AMOUNT)
    assert [candidate["number"] for candidate in result.invoices] == ["1042", "1043"]
    assert result.invoice is None and result.amount_to_record is None and result.needs_review


def test_a_named_invoice_whose_open_amount_differs_is_only_a_hint():
    [result] = match([payment("40", text="Rechnung 1042")], [invoice("1042", 50.0)])
    assert (result.status, result.basis) == (MatchStatus.UNMATCHED, MatchBasis.NUMBER_ONLY)
    assert [hint["number"] for hint in result.invoices] == ["1042"]
    assert result.classification is Classification.PARTIAL  # what it would be, for the reviewer
    assert result.amount_to_record is None


def test_an_entry_naming_nothing_known_is_unmatched():
    [result] = match([payment("12.00", reference=QR, text="Spende")], [invoice("1042", 12.0)])
    assert (result.status, result.basis, result.invoices) == (
        MatchStatus.UNMATCHED,
        MatchBasis.NOTHING,
        (),
    )


def test_two_live_invoices_with_one_reference_are_ambiguous_but_a_deleted_copy_is_not():
    live = invoice("2026-0017", 100.0, id=1, isr_reference_number=QR)
    deleted = invoice("2026-0017", 100.0, id=2, status="D", isr_reference_number=QR)
    assert match([payment("100", reference=QR)], [deleted, live])[0].invoice == live
    twin = invoice("2026-0018", 100.0, id=3, isr_reference_number=QR)
    ambiguous = match([payment("100", reference=QR)], [live, twin])[0]
    assert (ambiguous.status, ambiguous.basis) == (MatchStatus.AMBIGUOUS, MatchBasis.REFERENCE)


def test_matching_leaves_the_invoices_unchanged():
    invoices = [invoice("2026-0017", 1250.0, isr_reference_number=QR)]
    before = [dict(one) for one in invoices]
    match([payment("1250.00", reference=QR)], invoices)
    assert invoices == before


def test_a_parsed_notification_matches_end_to_end():
    bank_file = parse(fixture_bytes("camt054_v08_qr.xml"))
    invoices = [
        invoice("2026-0017", 1250.0, isr_reference_number=QR),
        invoice("1042", 500.0, isr_reference_number="000000000000000000000010429"),
        invoice("1043", 500.0, isr_reference_number="000000000000000000000010437"),
        invoice(
            "1044",
            150.0,
            status="P",
            total_paid=150.0,
            isr_reference_number="000000000000000000000010445",
        ),
        invoice("RE-2026-0050", 320.0, currency="EUR"),
    ]
    results = match(bank_file.entries, invoices)
    assert [(result.invoice or {}).get("number") for result in results] == [
        "2026-0017", "1042", "1043", "1044", "RE-2026-0050",
    ]  # fmt: skip
    assert [result.classification for result in results] == [
        Classification.FULL,
        Classification.FULL,
        Classification.PARTIAL,
        Classification.ALREADY_PAID,
        Classification.FULL,
    ]
    assert results[-1].basis is MatchBasis.NUMBER_AND_AMOUNT  # its RF reference is unknown
