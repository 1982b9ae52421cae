"""Properties: parse refuses any bytes only with BankFileError; CSV amounts survive a round trip."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerapp.bankfiles import BankFileError, is_valid_qr_reference, parse, qr_check_digit
from tests.bankfiles.conftest import fixture_bytes

FIXTURE = fixture_bytes("camt054_v08_qr.xml")
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(data: bytes) -> None:
    try:
        parse(data)
    except BankFileError as error:
        assert str(error)  # every refusal says something


@QUICK
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_raise_bank_file_error_only(data):
    parse_or_refuse(data)


@QUICK
@given(
    st.sampled_from([b"<", b"date;amount;currency\n", b"\xef\xbb\xbf<?xml"]),
    st.binary(max_size=500),
)
def test_bytes_after_a_plausible_start_parse_or_raise_bank_file_error_only(start, rest):
    parse_or_refuse(start + rest)


@QUICK
@given(st.integers(min_value=0, max_value=len(FIXTURE)), st.binary(min_size=1, max_size=8))
def test_a_damaged_camt_file_parses_or_raises_bank_file_error_only(position, noise):
    parse_or_refuse(FIXTURE[:position] + noise + FIXTURE[position + len(noise) :])


@QUICK
@given(st.text(max_size=200))
def test_any_text_as_csv_parses_or_raises_bank_file_error_only(text):
    parse_or_refuse(text.encode())


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)


@QUICK
@given(amounts, st.sampled_from(["plain", "apostrophe", "comma_decimal", "dot_thousands"]))
def test_csv_amounts_survive_a_round_trip_in_any_swiss_notation(amount, notation):
    written = {
        "plain": f"{amount:.2f}",
        "apostrophe": f"{amount:,.2f}".replace(",", "'"),
        "comma_decimal": f"{amount:.2f}".replace(".", ","),
        "dot_thousands": f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", "."),
    }[notation]
    data = f'date;amount;currency\n2026-03-02;"{written}";CHF\n'.encode()
    assert parse(data).entries[0].amount == amount


@given(
    st.text(alphabet="0123456789", min_size=26, max_size=26), st.integers(0, 25), st.integers(1, 9)
)
def test_any_single_digit_change_breaks_a_qr_reference(body, position, shift):
    reference = body + str(qr_check_digit(body))
    assert is_valid_qr_reference(reference)
    changed = str((int(reference[position]) + shift) % 10)
    assert not is_valid_qr_reference(reference[:position] + changed + reference[position + 1 :])
