"""Benchmark: parse a camt.054 of 10,000 payments and match it against 10,000 open invoices.

A script, not a test (pytest collects test_*.py only):

    .venv/bin/python tests/benchmarks/bench_bankfile.py [--entries 10000] [--invoices 10000]

Builds everything in memory: the invoices as the provider lists them, and a camt.054.001.08
notification paying them (batch bookings of five transactions; seven in ten carry the QR
reference, two in ten only name the invoice number in the free text, one in ten pays
nothing known). Times `parse` and `match` (best of three), side by side with two baselines
measured in the same run: the bare stdlib XML parse of the same bytes (what reading costs
before any checking), and a naive matcher that scans every invoice for every entry (run on
fewer entries and extrapolated). The goal (issue 11, part 4): parse + match under 5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import xml.etree.ElementTree as StdlibElementTree  # the baseline only: never for uploads
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_SECONDS = 5.0
TRANSACTIONS_PER_BATCH = 5


def setup_django() -> None:
    """The library's messages are translatable: Django's settings must be loaded."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    import django

    django.setup()


def qr_reference(number: int) -> str:
    from partnerapp.bankfiles import qr_check_digit

    body = f"{number:026d}"
    return body + str(qr_check_digit(body))


def open_invoices(count: int) -> list[dict]:
    return [
        {
            "id": index,
            "number": f"2026-{index:05d}",
            "status": "S",
            "total": float(Decimal(100 + index % 900) + Decimal("0.45")),
            "total_paid": 0.0,
            "currency": "CHF",
            "isr_reference_number": qr_reference(index),
            "contact_name": f"Kunde {index}",
            "date": "2026-02-01",
            "due": "2026-03-03",
        }
        for index in range(1, count + 1)
    ]


def transaction(index: int, invoice: dict) -> str:
    """One TxDtls paying `invoice`: by QR reference, by number in the text, or unknown."""
    kind = index % 10
    if kind < 7:
        remittance = (
            "<Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
            f"<Ref>{invoice['isr_reference_number']}</Ref></CdtrRefInf></Strd>"
        )
    elif kind < 9:
        remittance = f"<Ustrd>Rechnung {invoice['number']} besten Dank</Ustrd>"
    else:
        remittance = "<Ustrd>Spende Sommerfest</Ustrd>"
    return (
        f"<TxDtls><Refs><AcctSvcrRef>TX{index:08d}</AcctSvcrRef><EndToEndId>NOTPROVIDED"
        f'</EndToEndId></Refs><Amt Ccy="CHF">{invoice["total"]:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>{invoice['contact_name']}"
        f"</Nm></Pty></Dbtr></RltdPties><RmtInf>{remittance}</RmtInf></TxDtls>"
    )


def notification(invoices: list[dict], entries: int) -> bytes:
    """A camt.054.001.08 paying the first `entries` invoices, five per batch booking."""
    bookings = []
    for start in range(0, entries, TRANSACTIONS_PER_BATCH):
        batch = invoices[start : start + TRANSACTIONS_PER_BATCH]
        total = sum(Decimal(f"{invoice['total']:.2f}") for invoice in batch)
        details = "".join(transaction(start + offset, inv) for offset, inv in enumerate(batch))
        bookings.append(
            f'<Ntry><Amt Ccy="CHF">{total}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd>'
            "</Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>"
            f"<AcctSvcrRef>E{start:08d}</AcctSvcrRef><NtryDtls><Btch><NbOfTxs>{len(batch)}"
            f"</NbOfTxs></Btch>{details}</NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH</MsgId>"
        "<CreDtTm>2026-03-02T21:00:00</CreDtTm></GrpHdr><Ntfctn><Id>BENCH-1</Id>"
        "<Acct><Id><IBAN>CH4431999123000889012</IBAN></Id><Ccy>CHF</Ccy></Acct>"
        + "".join(bookings)
        + "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()


def naive_match(entries, invoices) -> list[dict | None]:
    """The obvious way: for every entry, scan every invoice (reference, then number + amount)."""
    from partnerapp.bankfiles.matching import money

    matched = []
    for entry in entries:
        found = None
        for invoice in invoices:
            if entry.reference and entry.reference == invoice["isr_reference_number"]:
                found = invoice
                break
        if found is None:
            for invoice in invoices:
                named = re.search(rf"\b{re.escape(invoice['number'])}\b", entry.text)
                if named and money(invoice["total"]) - money(invoice["total_paid"]) == entry.amount:
                    found = invoice
                    break
        matched.append(found)
    return matched


def best_of(runs: int, work):
    """(fastest seconds, result of the last run)."""
    fastest, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--baseline-entries", type=int, default=300)
    args = parser.parse_args()
    setup_django()
    from partnerapp.bankfiles import MatchStatus, match, parse

    invoices = open_invoices(args.invoices)
    data = notification(invoices, min(args.entries, args.invoices))
    parse_seconds, bank_file = best_of(3, lambda: parse(data))
    match_seconds, results = best_of(3, lambda: match(bank_file.entries, invoices))
    # The baseline parses our own generated bytes, never an upload.
    stdlib_seconds, _ = best_of(3, lambda: StdlibElementTree.fromstring(data))  # noqa: S314
    sample = bank_file.entries[: args.baseline_entries]
    naive_seconds, _ = best_of(1, lambda: naive_match(sample, invoices))
    naive_extrapolated = naive_seconds * len(bank_file.entries) / len(sample)
    report(args, data, bank_file, results, MatchStatus, parse_seconds, match_seconds)
    total = parse_seconds + match_seconds
    print(
        f"  baseline, stdlib XML parse:   {stdlib_seconds:7.3f} s  "
        f"(parse does {parse_seconds / stdlib_seconds:.1f}x that: defusing, reading, keys)"
    )
    print(
        f"  baseline, naive O(n*m) match: {naive_extrapolated:7.2f} s  "
        f"(measured {naive_seconds:.2f} s for {len(sample):,} entries, extrapolated)"
    )
    print(f"  ratio: indexed match is {naive_extrapolated / match_seconds:,.0f}x faster than naive")
    verdict = "met" if total < GOAL_SECONDS else "MISSED"
    print(f"  parse + match:                {total:7.3f} s  (goal: under 5 s: {verdict})")


def report(args, data, bank_file, results, statuses, parse_seconds, match_seconds) -> None:
    entries = len(bank_file.entries)
    counts = {status: sum(r.status is status for r in results) for status in statuses}
    print(
        f"camt.054 of {len(data) / 1024 / 1024:.1f} MB: {entries:,} entries against "
        f"{args.invoices:,} open invoices ("
        + ", ".join(f"{count:,} {status.value}" for status, count in counts.items())
        + ")"
    )
    for name, seconds in (("parse", parse_seconds), ("match", match_seconds)):
        print(f"  {name + ':':<30}{seconds:7.3f} s  ({entries / seconds:,.0f} entries/s)")


if __name__ == "__main__":
    main()
