"""`sandbox_bank_file`: camt.054, camt.053 and CSV for an owner's open invoices, as a
Swiss bank reports them; well-formed, in the right namespace, sums right, nothing paid."""

import csv
import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from defusedxml.ElementTree import fromstring
from django.core.management import CommandError, call_command

from partnerapp.sandbox.bankfiles import OPEN_STATUSES
from partnerapp.sandbox.camt import NAMESPACES
from partnerapp.sandbox.references import is_qr_reference

DAY = "2025-03-31"


def bank_file(owner, tmp_path, kind="camt054", **counts) -> bytes:
    output = tmp_path / f"bank.{kind}"
    options = {"paid": 4, "partial": 2, "unknown": 3, **counts}
    call_command(
        "sandbox_bank_file",
        f"--date={DAY}",
        owner=owner.email,
        format=kind,
        output=str(output),
        seed=7,
        stderr=io.StringIO(),
        **options,
    )
    return output.read_bytes()


def credits(document: ET.Element, ns: str) -> list[dict]:
    """(amount, reference, payer) of each entry, read the way a bank-file parser would."""
    found = []
    for entry in document.iter(f"{{{ns}}}Ntry"):
        details = entry.find(f"{{{ns}}}NtryDtls/{{{ns}}}TxDtls")
        found.append(
            {
                "amount": Decimal(entry.findtext(f"{{{ns}}}Amt")),
                "currency": entry.find(f"{{{ns}}}Amt").get("Ccy"),
                "indicator": entry.findtext(f"{{{ns}}}CdtDbtInd"),
                "booked": entry.findtext(f"{{{ns}}}BookgDt/{{{ns}}}Dt"),
                "servicer": entry.findtext(f"{{{ns}}}AcctSvcrRef"),
                "reference": details.findtext(f".//{{{ns}}}CdtrRefInf/{{{ns}}}Ref"),
                "payer": details.findtext(f"{{{ns}}}RltdPties/{{{ns}}}Dbtr/{{{ns}}}Nm"),
                "end_to_end": details.findtext(f"{{{ns}}}Refs/{{{ns}}}EndToEndId"),
                "tx_amount": Decimal(details.findtext(f"{{{ns}}}Amt")),
            }
        )
    return found


def by_reference(owner) -> dict:
    return {invoice.isr_reference_number: invoice for invoice in owner.invoices.all()}


def test_a_camt054_pays_in_full_in_part_and_matches_nothing(owner, tmp_path):
    before = list(owner.invoices.values_list("pk", "status", "total_paid"))
    ns = NAMESPACES["camt054"]
    document = fromstring(bank_file(owner, tmp_path))
    assert document.tag == f"{{{ns}}}Document"
    assert document.find(f"{{{ns}}}BkToCstmrDbtCdtNtfctn/{{{ns}}}Ntfctn") is not None
    entries = credits(document, ns)
    assert len(entries) == 9
    assert all(e["indicator"] == "CRDT" and e["currency"] == "CHF" for e in entries)
    assert all(is_qr_reference(e["reference"]) and e["payer"] for e in entries)
    assert all(e["amount"] == e["tx_amount"] and e["end_to_end"] for e in entries)
    assert len({e["servicer"] for e in entries}) == 9
    invoices = by_reference(owner)
    matched = [(e, invoices[e["reference"]]) for e in entries if e["reference"] in invoices]
    assert len(matched) == 6
    assert all(invoice.status in OPEN_STATUSES for _, invoice in matched)
    full = [e for e, invoice in matched if e["amount"] == invoice.total - invoice.total_paid]
    part = [e for e, invoice in matched if e["amount"] < invoice.total - invoice.total_paid]
    assert (len(full), len(part)) == (4, 2)
    assert all(e["payer"] == invoice.contact.name for e, invoice in matched)
    summary = document.find(f".//{{{ns}}}TxsSummry/{{{ns}}}TtlNtries")
    assert Decimal(summary.findtext(f"{{{ns}}}Sum")) == sum(e["amount"] for e in entries)
    assert summary.findtext(f"{{{ns}}}NbOfNtries") == "9"
    assert list(owner.invoices.values_list("pk", "status", "total_paid")) == before


def test_a_camt053_statement_balances(owner, tmp_path):
    ns = NAMESPACES["camt053"]
    document = fromstring(bank_file(owner, tmp_path, "camt053"))
    statement = document.find(f"{{{ns}}}BkToCstmrStmt/{{{ns}}}Stmt")
    balances = {
        balance.findtext(f"{{{ns}}}Tp/{{{ns}}}CdOrPrtry/{{{ns}}}Cd"): Decimal(
            balance.findtext(f"{{{ns}}}Amt")
        )
        for balance in statement.findall(f"{{{ns}}}Bal")
    }
    total = sum(entry["amount"] for entry in credits(document, ns))
    assert balances["CLBD"] - balances["OPBD"] == total
    assert statement.findtext(f"{{{ns}}}Acct/{{{ns}}}Id/{{{ns}}}IBAN") == owner.isrs.get().iban


def test_the_csv_has_the_documented_columns(owner, tmp_path):
    rows = list(
        csv.DictReader(io.StringIO(bank_file(owner, tmp_path, "csv").decode()), delimiter=";")
    )
    assert list(rows[0]) == ["date", "amount", "currency", "reference", "payer", "text"]
    assert len(rows) == 9 and all(is_qr_reference(row["reference"]) for row in rows)
    assert all(Decimal(row["amount"]) > 0 for row in rows)


def test_the_same_seed_gives_the_same_file(owner, tmp_path):
    assert bank_file(owner, tmp_path) == bank_file(owner, tmp_path)
    other = tmp_path / "other.xml"
    call_command(
        "sandbox_bank_file",
        f"--date={DAY}",
        owner=owner.email,
        paid=4,
        partial=2,
        unknown=3,
        seed=8,
        output=str(other),
        stderr=io.StringIO(),
    )
    assert other.read_bytes() != bank_file(owner, tmp_path)


def test_asking_for_more_than_is_open_is_refused(owner):
    with pytest.raises(CommandError, match="open CHF invoices"):
        call_command("sandbox_bank_file", owner=owner.email, paid=500)


def test_an_unknown_owner_is_refused(db):
    with pytest.raises(CommandError, match="no sandbox owner"):
        call_command("sandbox_bank_file", owner="nobody@example.com", paid=1)


def test_without_output_it_prints_the_file(owner):
    printed = io.StringIO()
    call_command("sandbox_bank_file", owner=owner.email, unknown=2, stdout=printed)
    assert printed.getvalue().startswith("<?xml")
