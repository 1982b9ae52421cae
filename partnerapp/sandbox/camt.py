"""camt.054 (debit/credit notification) and camt.053 (statement) as Swiss banks deliver
them under the Swiss Payment Standards (ISO 20022, version .04): one booked credit entry
(Ntry) per payment with its transaction details (TxDtls) holding the QR reference as the
structured creditor reference (RmtInf/Strd/CdtrRefInf, type QRR) and the debtor's name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from partnerapp.sandbox.bankfiles import BankEntry

NAMESPACES = {
    "camt054": "urn:iso:std:iso:20022:tech:xsd:camt.054.001.04",
    "camt053": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04",
}
# The message's root element and the report inside it.
CONTAINERS = {
    "camt054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
    "camt053": ("BkToCstmrStmt", "Stmt"),
}


@dataclass(frozen=True)
class Account:
    iban: str
    owner_name: str
    currency: str
    opening_balance: Decimal = Decimal(0)  # camt.053 only


def write(kind: str, entries: list[BankEntry], account: Account, created: datetime) -> bytes:
    """The XML document (`kind` camt054 or camt053), UTF-8 with a declaration."""
    root = ET.Element("Document", xmlns=NAMESPACES[kind])
    message_id = f"{kind.upper()}-{created:%Y%m%d%H%M%S}"
    container_tag, body_tag = CONTAINERS[kind]
    container = _sub(root, container_tag)
    _group_header(_sub(container, "GrpHdr"), message_id, created)
    body = _sub(container, body_tag)
    _text(body, "Id", f"{message_id}-1")
    if kind == "camt053":
        _text(body, "ElctrncSeqNb", "1")
    _text(body, "CreDtTm", created.strftime("%Y-%m-%dT%H:%M:%S"))
    _account(body, account)
    if kind == "camt053":
        _balances(body, entries, account, created)
    _summary(body, entries)
    for entry in entries:
        _entry(body, entry)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _sub(parent: ET.Element, tag: str) -> ET.Element:
    return ET.SubElement(parent, tag)


def _text(parent: ET.Element, tag: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, **attributes)
    element.text = value
    return element


def _amount(parent: ET.Element, value: Decimal, currency: str, tag: str = "Amt") -> None:
    _text(parent, tag, f"{value:.2f}", Ccy=currency)


def _date(parent: ET.Element, tag: str, value) -> None:
    _text(_sub(parent, tag), "Dt", value.isoformat())


def _group_header(header: ET.Element, message_id: str, created: datetime) -> None:
    _text(header, "MsgId", message_id)
    _text(header, "CreDtTm", created.strftime("%Y-%m-%dT%H:%M:%S"))
    pagination = _sub(header, "MsgPgntn")
    _text(pagination, "PgNb", "1")
    _text(pagination, "LastPgInd", "true")


def _account(parent: ET.Element, account: Account) -> None:
    element = _sub(parent, "Acct")
    _text(_sub(element, "Id"), "IBAN", account.iban)
    _text(element, "Ccy", account.currency)
    _text(_sub(element, "Ownr"), "Nm", account.owner_name)


def _balances(parent: ET.Element, entries: list[BankEntry], account: Account, created) -> None:
    closing = account.opening_balance + sum((entry.amount for entry in entries), Decimal(0))
    for code, value in (("OPBD", account.opening_balance), ("CLBD", closing)):
        balance = _sub(parent, "Bal")
        _text(_sub(_sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
        _amount(balance, value, account.currency)
        _text(balance, "CdtDbtInd", "CRDT" if value >= 0 else "DBIT")
        _date(balance, "Dt", created.date())


def _summary(parent: ET.Element, entries: list[BankEntry]) -> None:
    total = sum((entry.amount for entry in entries), Decimal(0))
    summary = _sub(parent, "TxsSummry")
    overall = _sub(summary, "TtlNtries")
    _text(overall, "NbOfNtries", str(len(entries)))
    _text(overall, "Sum", f"{total:.2f}")
    credits = _sub(summary, "TtlCdtNtries")
    _text(credits, "NbOfNtries", str(len(entries)))
    _text(credits, "Sum", f"{total:.2f}")


def _entry(parent: ET.Element, entry: BankEntry) -> None:
    element = _sub(parent, "Ntry")
    _amount(element, entry.amount, entry.currency)
    _text(element, "CdtDbtInd", "CRDT")
    _text(element, "Sts", "BOOK")
    _date(element, "BookgDt", entry.booked)
    _date(element, "ValDt", entry.booked)
    _text(element, "AcctSvcrRef", entry.servicer_reference)
    _bank_code(element)
    _transaction(_sub(_sub(element, "NtryDtls"), "TxDtls"), entry)


def _bank_code(parent: ET.Element) -> None:
    """Payments / received credit transfers / domestic credit transfer (ISO BTC)."""
    domain = _sub(_sub(parent, "BkTxCd"), "Domn")
    _text(domain, "Cd", "PMNT")
    family = _sub(domain, "Fmly")
    _text(family, "Cd", "RCDT")
    _text(family, "SubFmlyCd", "DMCT")


def _transaction(details: ET.Element, entry: BankEntry) -> None:
    references = _sub(details, "Refs")
    _text(references, "AcctSvcrRef", entry.servicer_reference)
    _text(references, "EndToEndId", entry.end_to_end_id)
    _amount(details, entry.amount, entry.currency)
    _text(details, "CdtDbtInd", "CRDT")
    _text(_sub(_sub(details, "RltdPties"), "Dbtr"), "Nm", entry.payer)
    structured = _sub(_sub(details, "RmtInf"), "Strd")
    creditor_reference = _sub(structured, "CdtrRefInf")
    _text(_sub(_sub(creditor_reference, "Tp"), "CdOrPrtry"), "Prtry", "QRR")
    _text(creditor_reference, "Ref", entry.reference)
    _text(structured, "AddtlRmtInf", entry.text)
