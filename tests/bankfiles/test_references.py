"""QR references (mod 10 recursive) and ISO 11649 creditor references (mod 97)."""

import pytest

from partnerapp.bankfiles import (
    is_valid_creditor_reference,
    is_valid_qr_reference,
    normalise_reference,
    qr_check_digit,
)
from partnerapp.bankfiles.references import reference_kind


def table_check_digit(digits: str) -> int:
    """The check digit as the ISR manual's printed table reads it, written separately here
    so the library is not checked against itself."""
    table = "0946827135"
    carry = 0
    for digit in digits:
        carry = int(table[(carry + int(digit)) % 10])
    return (10 - carry) % 10


def test_the_published_test_vector_is_valid():
    assert is_valid_qr_reference("210000000003139471430009017")
    assert is_valid_qr_reference("21 00000 00003 13947 14300 09017")


@pytest.mark.parametrize(
    "reference",
    [
        "210000000003139471430009016",  # wrong check digit
        "21000000000313947143000901",  # 26 digits
        "2100000000031394714300090170",  # 28 digits
        "21000000000313947143000901A",
        "\uff12\uff110000000003139471430009017",  # full-width digits are not ASCII digits
        "",
        None,
    ],
)
def test_a_wrong_qr_reference_is_invalid(reference):
    assert not is_valid_qr_reference(reference)


@pytest.mark.parametrize("body", ["00000000000000000000001042", "12345600000000000000002026"])
def test_the_check_digit_agrees_with_the_printed_table(body):
    assert qr_check_digit(body) == table_check_digit(body)
    assert is_valid_qr_reference(body + str(table_check_digit(body)))


@pytest.mark.parametrize("reference", ["RF18 5390 0754 7034", "RF18539007547034", "rf45g72uur"])
def test_valid_creditor_references(reference):
    assert is_valid_creditor_reference(reference)


@pytest.mark.parametrize(
    "reference",
    ["RF19 5390 0754 7034", "RF18", "RF18 5390 0754 7034 0000 0000 0000", "XX18539", ""],
)
def test_invalid_creditor_references(reference):
    assert not is_valid_creditor_reference(reference)


def test_normalising_keeps_27_digits_and_drops_spaces_and_case():
    assert (
        normalise_reference(" 21 00000 00003 13947 14300 09017 ") == "210000000003139471430009017"
    )
    assert normalise_reference("3139471430009017") == "000000000003139471430009017"
    assert normalise_reference("rf18 5390 0754 7034") == "RF18539007547034"
    assert normalise_reference(None) == normalise_reference("  ") == ""


def test_reference_kind_names_what_a_reference_is():
    assert reference_kind("210000000003139471430009017") == "QRR"
    assert reference_kind("RF18539007547034") == "SCOR"
    assert reference_kind("Rechnung 42") == ""
