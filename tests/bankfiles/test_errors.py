"""Everything that is not a bank file is refused with a message a person can act on."""

from pathlib import Path

import pytest
from django.utils import translation

from partnerapp.bankfiles import MAX_BYTES, BankFileError, parse
from tests.bankfiles.conftest import fixture_bytes


def refusal(data: bytes) -> BankFileError:
    with pytest.raises(BankFileError) as raised:
        parse(data)
    return raised.value


def test_an_external_entity_pointing_at_etc_passwd_is_refused_and_never_read():
    error = refusal(fixture_bytes("xxe_passwd.xml"))
    assert error.code == "unsafe_xml"
    assert "refused for safety" in str(error)
    passwd = Path("/etc/passwd").read_text()
    assert "root:" not in str(error) and passwd not in str(error)


def test_a_remote_parameter_entity_is_refused_before_anything_is_fetched():
    assert refusal(fixture_bytes("xxe_parameter_entity.xml")).code == "unsafe_xml"


def test_billion_laughs_is_refused_without_expanding():
    assert refusal(fixture_bytes("billion_laughs.xml")).code == "unsafe_xml"


def test_a_payment_order_is_told_apart_from_a_statement():
    error = refusal(fixture_bytes("pain001_payment_order.xml"))
    assert error.code == "wrong_message"
    assert str(error).startswith("This is a pain.001 payment order (payments you send)")


def test_an_account_report_is_not_taken_for_a_statement():
    error = refusal(fixture_bytes("camt052_account_report.xml"))
    assert str(error).startswith("This is a camt.052 account report")


def test_another_iso_message_is_named():
    data = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.086.001.02"/>'
    assert str(refusal(data)).startswith("This is an ISO 20022 camt.086 message, not a camt.053")


def test_xml_in_a_foreign_namespace_is_not_a_bank_statement():
    error = refusal(fixture_bytes("not_iso.xml"))
    assert error.code == "not_a_bank_file"
    assert "not an ISO 20022 bank statement (it starts with <Document>)" in str(error)


def test_xml_without_any_namespace_is_not_a_bank_statement():
    assert refusal(b"<html><body>Kontoauszug</body></html>").code == "not_a_bank_file"


def test_an_unknown_version_asks_for_one_partnerapp_reads():
    data = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.99"/>'
    error = refusal(data)
    assert error.code == "unsupported_version"
    assert "camt.054.001.99" in str(error) and ".001.04 or .001.08" in str(error)


def test_a_truncated_file_says_where_it_breaks_off():
    whole = fixture_bytes("camt054_v08_qr.xml")
    error = refusal(whole[: len(whole) // 2])
    assert error.code == "broken_xml"
    assert "incomplete or damaged (line " in str(error)


def test_the_right_namespace_without_its_notification_is_incomplete():
    data = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><GrpHdr/></Document>'
    error = refusal(data)
    assert error.code == "missing_part"
    assert "has no BkToCstmrDbtCdtNtfctn element" in str(error)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ('<Amt Ccy="CHF">12,30</Amt>', "Entry 1: the amount '12,30' is not a number."),
        ('<Amt Ccy="CHF">-5.00</Amt>', "Entry 1: the amount '-5.00' is not a number."),
        ("<Amt>5.00</Amt>", "Entry 1 has no currency."),
        ("", "Entry 1 has no amount."),
    ],
)
def test_a_bad_amount_in_a_camt_entry_names_the_entry(amount, message):
    data = f"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><Ntfctn><Ntry>{amount}<CdtDbtInd>CRDT</CdtDbtInd></Ntry></Ntfctn>
</BkToCstmrDbtCdtNtfctn></Document>""".encode()
    assert str(refusal(data)) == message


def test_a_bad_booking_date_in_a_camt_entry_names_the_entry():
    data = b"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>
<Stmt><Ntry><Amt Ccy="CHF">1.00</Amt><BookgDt><Dt>2026-02-30</Dt></BookgDt></Ntry></Stmt>
</BkToCstmrStmt></Document>"""
    assert str(refusal(data)) == "Entry 1: the date '2026-02-30' is not a date."


@pytest.mark.parametrize("data", [b"", b"   \r\n\t", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n\n"])
def test_an_empty_file_is_called_empty(data):
    error = refusal(data)
    assert (error.code, str(error)) == ("empty", "The file is empty.")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    error = refusal(b"<" + b" " * MAX_BYTES)
    assert error.code == "too_large"
    assert "bank files of up to 20 MB are accepted" in str(error)


@pytest.mark.parametrize(
    ("start", "words"),
    [
        (b"%PDF-1.7\n", "PDF document"),
        (b"PK\x03\x04\x14\x00", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel or Word file"),
        (b":20:STARTUMSE\r\n:25:CH56", "MT940 statement"),
    ],
)
def test_files_picked_by_mistake_are_recognised(start, words):
    assert words in str(refusal(start + b"\x00" * 20))


def test_binary_garbage_is_not_a_bank_file():
    error = refusal(bytes(range(256)) * 4)
    assert error.code == "not_a_bank_file"


def test_messages_speak_the_active_language():
    with translation.override("de"):
        german = str(refusal(b""))
    with translation.override("fr"):
        french = str(refusal(fixture_bytes("pain001_payment_order.xml")))
    assert german == "Die Datei ist leer."
    assert french.startswith("Ceci est un ordre de paiement pain.001")


def test_an_unknown_encoding_declaration_is_explained():
    error = refusal(b'<?xml version="1.0" encoding="klingon"?><Document/>')
    assert error.code == "broken_xml"
    assert "character encoding that cannot be read" in str(error)


def test_an_absurdly_long_amount_is_not_a_number():
    digits = "9" * 40
    camt = f"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><Ntfctn><Ntry><Amt Ccy="CHF">{digits}</Amt></Ntry></Ntfctn>
</BkToCstmrDbtCdtNtfctn></Document>""".encode()
    assert "is not a number" in str(refusal(camt))
    assert "is not a number" in str(
        refusal(f"date;amount;currency\n2026-03-02;{digits};CHF\n".encode())
    )
