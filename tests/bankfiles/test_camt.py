"""camt.054 notifications and camt.053 statements, v04 and v08, as Swiss banks deliver them."""

from datetime import date
from decimal import Decimal

from partnerapp.bankfiles import IgnoreReason, parse


def test_it_reads_a_qr_payment_from_a_camt054_v08(read):
    bank_file = parse(read("camt054_v08_qr.xml"), "camt054_v08_qr.xml")
    assert (bank_file.format, bank_file.message) == ("camt.054", "camt.054.001.08")
    assert bank_file.accounts == ("CH4431999123000889012",)
    assert bank_file.filename == "camt054_v08_qr.xml"
    first = bank_file.entries[0]
    assert first.booking_date == first.value_date == date(2026, 3, 2)
    assert (first.amount, first.currency) == (Decimal("1250.00"), "CHF")
    assert (first.reference, first.reference_type) == ("210000000003139471430009017", "QRR")
    assert first.payer == "Rossi Architektur GmbH"  # v08: RltdPties/Dbtr/Pty/Nm
    assert first.text == "Rechnung 2026-0017"  # the QR-bill's additional information
    assert first.transaction_reference == "2026030200011111-0001"
    assert first.entry_reference == "2026030200011111"
    assert first.end_to_end_id == "E2E-ROSSI-0001"
    assert first.key == "acctsvcrref:2026030200011111-0001"


def test_each_transaction_of_a_batch_booking_is_an_entry_with_its_own_amount(read):
    batch = [
        entry for entry in parse(read("camt054_v08_qr.xml")).entries if entry.position_in_file == 2
    ]
    assert [entry.amount for entry in batch] == [
        Decimal("500.00"),
        Decimal("451.90"),
        Decimal("150.00"),
    ]
    assert sum(entry.amount for entry in batch) == Decimal("1101.90")  # the booked total
    assert [entry.transaction_in_entry for entry in batch] == [1, 2, 3]
    assert [entry.payer for entry in batch] == [
        "Bäckerei Schmid",
        "Chantal Dubois",
        "Luca Bernasconi",
    ]
    assert batch[1].reference == "000000000000000000000010437"  # written with spaces in the file
    assert {entry.value_date for entry in batch} == {date(2026, 3, 3)}


def test_a_creditor_reference_and_the_free_text_are_both_kept(read):
    euro = parse(read("camt054_v08_qr.xml")).entries[-1]
    assert (euro.reference, euro.reference_type) == ("RF18539007547034", "SCOR")
    assert euro.text == "Invoice RE-2026-0050"
    assert (euro.amount, euro.currency, euro.payer) == (
        Decimal("320.00"),
        "EUR",
        "Huber & Partner KG",
    )
    assert euro.key == "endtoendid:SEPA-HUBER-77:320.00:EUR"  # no AcctSvcrRef on the transaction


def test_debits_are_listed_as_ignored_not_lost(read):
    bank_file = parse(read("camt054_v08_qr.xml"))
    assert len(bank_file.entries) == 5
    [fees] = bank_file.ignored
    assert fees.reason is IgnoreReason.DEBIT
    assert (fees.entry.amount, fees.entry.is_credit) == (Decimal("5.00"), False)
    assert fees.entry.text == "Gebühren QR-Gutschriften"
    assert str(fees.reason.label)


def test_it_reads_the_older_camt054_v04_with_amounts_only_in_amount_details(read):
    bank_file = parse(read("camt054_v04_qr.xml"))
    assert bank_file.message == "camt.054.001.04"
    assert [(entry.amount, entry.payer) for entry in bank_file.entries] == [
        (Decimal("380.25"), "Meier Söhne AG"),  # v04: RltdPties/Dbtr/Nm
        (Decimal("500.00"), "Anna Keller"),
    ]
    # No transaction id and NOTPROVIDED end-to-end ids: the entry's id and the position.
    assert [entry.key for entry in bank_file.entries] == [
        "entry:ZV20250915/000341:0",
        "entry:ZV20250915/000341:1",
    ]


def test_a_camt053_statement_splits_batches_and_sets_aside_pending_reversed_and_debits(read):
    bank_file = parse(read("camt053_v04_statement.xml"))
    assert (bank_file.format, bank_file.message) == ("camt.053", "camt.053.001.04")
    assert [entry.amount for entry in bank_file.entries] == [
        Decimal(amount) for amount in ("1000.00", "800.00", "500.00", "1071.00", "60.00", "60.00")
    ]
    assert [(ignored.entry.amount, ignored.reason) for ignored in bank_file.ignored] == [
        (Decimal("99.00"), IgnoreReason.NOT_BOOKED),
        (Decimal("45.00"), IgnoreReason.REVERSAL),
        (Decimal("100.00"), IgnoreReason.DEBIT),
    ]


def test_an_entry_without_details_keeps_the_banks_booking_text(read):
    transfer = parse(read("camt053_v04_statement.xml")).entries[3]
    assert "RECHNUNG 2026-0042" in transfer.text
    assert (transfer.transaction_in_entry, transfer.key) == (0, "entry:STMT64-E2:0")


def test_two_identical_payments_without_bank_ids_stay_two_entries(read):
    twins = parse(read("camt053_v04_statement.xml")).entries[4:]
    assert [entry.payer for entry in twins] == ["Verein Turnhalle"] * 2
    assert twins[0].key != twins[1].key
    assert all(entry.key.startswith("sha256:") for entry in twins)


def test_a_booking_date_given_with_a_time_is_read_as_its_day(read):
    entries = parse(read("camt053_v08_days_09_10.xml")).entries
    assert entries[1].booking_date == date(2026, 3, 10)


def test_a_batch_without_amounts_per_transaction_stays_one_entry():
    document = b"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.04"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>M</MsgId></GrpHdr><Ntfctn><Id>N</Id><Acct><Id><IBAN>CH4431999123000889012</IBAN></Id></Acct>
<Ntry><Amt Ccy="CHF">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>E1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>one</Ustrd></RmtInf></TxDtls>
<TxDtls><RmtInf><Ustrd>two</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"""
    [entry] = parse(document).entries
    assert (entry.amount, entry.key) == (Decimal("30.00"), "entry:E1:0")


def test_a_statement_without_entries_is_an_empty_file_not_an_error():
    document = b"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S</Id></Stmt></BkToCstmrStmt></Document>"""
    bank_file = parse(document)
    assert (bank_file.entries, bank_file.ignored) == ((), ())
