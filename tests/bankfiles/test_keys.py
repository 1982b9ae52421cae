"""Entry keys: the same transaction delivered twice gets the same key, so it is recorded once."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from partnerapp.bankfiles import IgnoreReason, parse
from partnerapp.bankfiles.entries import BankEntry, EntryKeys
from tests.bankfiles.conftest import fixture_bytes


def day_keys(bank_file, day):
    return sorted(entry.key for entry in bank_file.entries if entry.booking_date == day)


def test_overlapping_statements_give_the_same_keys_for_the_same_day():
    earlier = parse(fixture_bytes("camt053_v08_days_09_10.xml"))
    later = parse(fixture_bytes("camt053_v08_days_10_11.xml"))
    tenth = date(2026, 3, 10)
    assert len(day_keys(earlier, tenth)) == 6
    assert day_keys(earlier, tenth) == day_keys(later, tenth)
    new = {entry.key for entry in later.entries} - {entry.key for entry in earlier.entries}
    assert new == {"acctsvcrref:B11-1-T1"}  # only 11 March is new


def test_every_kind_of_key_appears_in_the_overlap():
    kinds = {
        entry.key.split(":")[0]
        for entry in parse(fixture_bytes("camt053_v08_days_09_10.xml")).entries
    }
    assert kinds == {"acctsvcrref", "endtoendid", "entry", "sha256"}


def test_the_same_statement_delivered_again_gives_identical_keys():
    data = fixture_bytes("camt054_v08_qr.xml")
    assert [entry.key for entry in parse(data).entries] == [
        entry.key for entry in parse(data).entries
    ]


def test_two_statements_of_the_same_day_in_one_file_list_the_second_copy_as_duplicate():
    text = fixture_bytes("camt053_v08_days_09_10.xml").decode()
    statement = text[text.index("<Stmt>") : text.index("</Stmt>") + len("</Stmt>")]
    twice = text.replace(statement, statement + statement).encode()
    bank_file = parse(twice)
    assert len(bank_file.entries) == 7  # the twins without bank ids included, once each
    assert [ignored.reason for ignored in bank_file.ignored] == [IgnoreReason.DUPLICATE] * 7


def test_a_payer_chosen_end_to_end_id_alone_does_not_merge_two_payments():
    keys = EntryKeys()
    payment = BankEntry(
        key="", booking_date=date(2026, 3, 2), value_date=None, amount=Decimal("10.00"),
        currency="CHF", end_to_end_id="INVOICE-1",
    )  # fmt: skip
    other = replace(payment, amount=Decimal("25.00"))
    assert keys.key_for(payment) != keys.key_for(other)


def test_notprovided_is_never_used_as_a_key():
    entry = BankEntry(
        key="", booking_date=date(2026, 3, 2), value_date=None, amount=Decimal("10"),
        currency="CHF", end_to_end_id="NOTPROVIDED", entry_reference="E7",
    )  # fmt: skip
    assert EntryKeys().key_for(entry, index_in_entry=2) == "entry:E7:2"


def test_content_keys_spell_each_amount_one_way():
    entry = BankEntry(
        key="", booking_date=date(2026, 3, 2), value_date=None, amount=Decimal("10.5"),
        currency="CHF",
    )  # fmt: skip
    assert EntryKeys().key_for(entry) == EntryKeys().key_for(
        replace(entry, amount=Decimal("10.50"))
    )


def test_csv_rows_get_the_same_keys_when_the_file_is_uploaded_again():
    data = (
        b"date;amount;currency;text\n2026-03-02;60.00;CHF;Beitrag\n2026-03-02;60.00;CHF;Beitrag\n"
    )
    first, second = parse(data), parse(data)
    assert len({entry.key for entry in first.entries}) == 2
    assert [entry.key for entry in first.entries] == [entry.key for entry in second.entries]
