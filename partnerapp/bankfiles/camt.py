"""Read ISO 20022 camt.053 statements and camt.054 notifications as Swiss banks deliver them
(Swiss Payment Standards; versions .001.02 to .001.13, chiefly .001.04 and .001.08).

The XML goes through defusedxml with DTDs forbidden: a bank file never declares a document
type, and refusing every DOCTYPE refuses external entities (XXE) and entity bombs before
anything is expanded or fetched.

Shape read (v04 and v08 differ only where noted):
Document/BkToCstmrStmt/Stmt/Ntry (camt.053) or Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry
(camt.054); each Ntry has Amt@Ccy, CdtDbtInd, RvslInd?, Sts (text in v04, Sts/Cd in v08),
BookgDt, ValDt, AcctSvcrRef, and NtryDtls/TxDtls (several for a batch booking) with
Refs/AcctSvcrRef, Refs/EndToEndId, Amt or AmtDtls, RltdPties/Dbtr/Nm (v08: Dbtr/Pty/Nm),
RmtInf/Strd/CdtrRefInf/{Tp/CdOrPrtry/(Cd|Prtry), Ref} and RmtInf/Ustrd.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerapp.bankfiles.entries import BankEntry, BankFile, EntryKeys, sort_out
from partnerapp.bankfiles.errors import BankFileError, shown
from partnerapp.bankfiles.references import normalise_reference

# "camt.054.001.08" in "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08" (or a bank's own URL).
MESSAGE_NAME = re.compile(r"(?<![a-z])([a-z]{4}\.\d{3})\.(\d{3}\.\d{2})(?!\d)")
SUPPORTED_VERSIONS = frozenset(f"001.{number:02d}" for number in range(2, 14))
# message kind -> (the document's element, the element per account)
CONTAINERS = {
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
ASK_THE_BANK = gettext_lazy(
    "Upload the camt.054 credit notification or the camt.053 account statement from your e-banking."
)
WRONG_MESSAGES = {
    "camt.052": gettext_lazy(
        "This is a camt.052 account report (intraday movements), not a camt.053 statement or "
        "camt.054 notification."
    ),
    "pain.001": gettext_lazy(
        "This is a pain.001 payment order (payments you send), not a bank statement."
    ),
    "pain.002": gettext_lazy(
        "This is a pain.002 status report about a payment order, not a bank statement."
    ),
    "pain.008": gettext_lazy("This is a pain.008 direct debit order, not a bank statement."),
}
# ISO 20022 amounts: at most 18 digits, 5 of them after the point, never a sign.
AMOUNT = re.compile(r"\d{1,18}(\.\d{1,5})?")


def read_camt(data: bytes, filename: str = "") -> BankFile:
    """Parse a camt.053 or camt.054 file; raise `BankFileError` for anything else."""
    root = parse_xml(data)
    kind, version = message_of(root)
    reader = _Reader(namespace_of(root))
    document, per_account = CONTAINERS[kind]
    container = reader.one(root, document)
    if container is None:
        raise BankFileError(
            "missing_part",
            _("The %(message)s file has no %(element)s element: it is incomplete.")
            % {"message": kind, "element": document},
        )
    statements = reader.all(container, per_account)
    entries = [entry for statement in statements for entry in reader.statement(statement)]
    credits, ignored = sort_out(entries)
    accounts = tuple(dict.fromkeys(reader.account(statement) for statement in statements))
    return BankFile(
        format=kind,
        message=f"{kind}.{version}",
        entries=credits,
        ignored=ignored,
        filename=filename,
        accounts=tuple(account for account in accounts if account),
    )


def parse_xml(data: bytes) -> Element:
    """The document's root; refuses DTDs and entities, explains broken XML."""
    try:
        return SafeElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise BankFileError(
            "unsafe_xml",
            _(
                "The file declares a document type or entities. Bank files never do, so it "
                "was refused for safety."
            ),
        ) from None
    except LookupError:  # an encoding declaration Python does not know
        raise BankFileError(
            "broken_xml",
            _("The XML declares a character encoding that cannot be read. Bank files use UTF-8."),
        ) from None
    except ParseError as error:
        line, column = error.position
        raise BankFileError(
            "broken_xml",
            _(
                "The XML is incomplete or damaged (line %(line)s, column %(column)s). Download "
                "the file again from your e-banking and upload it unchanged."
            )
            % {"line": line, "column": column},
        ) from None


def namespace_of(root: Element) -> str:
    return root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""


def message_of(root: Element) -> tuple[str, str]:
    """('camt.054', '001.08') from the root's namespace; refuses every other message."""
    found = MESSAGE_NAME.search(namespace_of(root))
    if found is None:
        element = root.tag.rpartition("}")[2]
        raise BankFileError(
            "not_a_bank_file",
            _("This XML file is not an ISO 20022 bank statement (it starts with <%(element)s>).")
            % {"element": shown(element)}
            + " "
            + str(ASK_THE_BANK),
        )
    kind, version = found.groups()
    if kind not in CONTAINERS:
        raise BankFileError("wrong_message", _wrong_message(kind) + " " + str(ASK_THE_BANK))
    if version not in SUPPORTED_VERSIONS:
        raise BankFileError(
            "unsupported_version",
            _("This is a %(message)s file, a version partnerapp cannot read yet.")
            % {"message": f"{kind}.{version}"}
            + " "
            + _("Ask your bank for version .001.04 or .001.08."),
        )
    return kind, version


def _wrong_message(kind: str) -> str:
    if kind in WRONG_MESSAGES:
        return str(WRONG_MESSAGES[kind])
    return _(
        "This is an ISO 20022 %(message)s message, not a camt.053 statement or camt.054 "
        "notification."
    ) % {"message": kind}


class _Reader:
    """Reads the statements of one document; numbers its entries across the whole file."""

    def __init__(self, namespace: str) -> None:
        self.namespaces = {"c": namespace}
        self.entry_numbers = itertools.count(1)

    def path(self, steps: str) -> str:
        return "/".join(f"c:{step}" for step in steps.split("/"))

    def one(self, element: Element, steps: str) -> Element | None:
        return element.find(self.path(steps), self.namespaces)

    def text(self, element: Element, steps: str) -> str:
        found = self.one(element, steps)
        return (found.text or "").strip() if found is not None else ""

    def first_text(self, element: Element, *paths: str) -> str:
        return next((text for path in paths if (text := self.text(element, path))), "")

    def all(self, element: Element, steps: str) -> list[Element]:
        return element.findall(self.path(steps), self.namespaces)

    def account(self, statement: Element) -> str:
        return self.first_text(statement, "Acct/Id/IBAN", "Acct/Id/Othr/Id")

    def statement(self, statement: Element) -> Iterator[BankEntry]:
        """The keyed entries of one Stmt/Ntfctn, debits and all, in file order."""
        keys = EntryKeys()  # identical rows are counted per statement: see EntryKeys
        account = self.account(statement)
        default_currency = self.text(statement, "Acct/Ccy")
        for entry in self.all(statement, "Ntry"):
            number = next(self.entry_numbers)
            booking = self.booking(entry, number, account, default_currency)
            for index, transaction in enumerate(self.transactions(entry, booking)):
                yield keys.with_key(transaction, index_in_entry=index)

    def booking(self, entry: Element, number: int, account: str, currency: str) -> BankEntry:
        """The Ntry itself, as an entry: what its transactions inherit."""
        amount, currency = self.amount(self.one(entry, "Amt"), number, currency)
        return BankEntry(
            key="",
            booking_date=self.date(entry, "BookgDt", number),
            value_date=self.date(entry, "ValDt", number),
            amount=amount,
            currency=currency,
            text=self.text(entry, "AddtlNtryInf"),
            account=account,
            entry_reference=self.text(entry, "AcctSvcrRef"),
            is_credit=self.text(entry, "CdtDbtInd") != "DBIT",
            is_booked=self.first_text(entry, "Sts/Cd", "Sts") in ("", "BOOK"),
            is_reversal=self.text(entry, "RvslInd").lower() == "true",
            position_in_file=number,
        )

    def transactions(self, entry: Element, booking: BankEntry) -> list[BankEntry]:
        """One entry per TxDtls; the booking alone when it has none. A batch whose details
        lack amounts stays one entry: its money cannot be split without them."""
        details = self.all(entry, "NtryDtls/TxDtls")
        if not details:
            return [booking]
        if len(details) == 1:
            return [self.transaction(details[0], booking, 1)]
        if any(self.transaction_amount(detail) is None for detail in details):
            return [booking]
        return [self.transaction(detail, booking, index) for index, detail in enumerate(details, 1)]

    def transaction(self, detail: Element, booking: BankEntry, index: int) -> BankEntry:
        amount_element = self.transaction_amount(detail)
        amount, currency = booking.amount, booking.currency
        if amount_element is not None:
            amount, currency = self.amount(amount_element, booking.position_in_file, currency)
        reference = self.reference(detail)
        direction = self.text(detail, "CdtDbtInd")
        return replace(
            booking,
            amount=amount,
            currency=currency,
            reference=normalise_reference(reference[0]),
            reference_type=reference[1],
            text=self.remittance_text(detail) or booking.text,
            payer=self.payer(detail),
            transaction_reference=self.text(detail, "Refs/AcctSvcrRef"),
            end_to_end_id=self.text(detail, "Refs/EndToEndId"),
            is_credit=direction != "DBIT" if direction else booking.is_credit,
            transaction_in_entry=index,
        )

    def transaction_amount(self, detail: Element) -> Element | None:
        for steps in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt"):
            found = self.one(detail, steps)
            if found is not None:
                return found
        return None

    def payer(self, detail: Element) -> str:
        return self.first_text(
            detail,
            "RltdPties/Dbtr/Nm",
            "RltdPties/Dbtr/Pty/Nm",
            "RltdPties/UltmtDbtr/Nm",
            "RltdPties/UltmtDbtr/Pty/Nm",
        )

    def reference(self, detail: Element) -> tuple[str, str]:
        """(reference, its type) of the first structured creditor reference."""
        for creditor in self.all(detail, "RmtInf/Strd/CdtrRefInf"):
            reference = self.text(creditor, "Ref")
            if reference:
                kind = self.first_text(creditor, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry")
                return reference, kind.upper()
        return "", ""

    def remittance_text(self, detail: Element) -> str:
        """The free text the payer wrote (Ustrd), then the QR-bill's additional information
        (Strd/AddtlRmtInf), else the bank's own text of the transaction (AddtlTxInf)."""
        parts = [
            (part.text or "").strip()
            for part in self.all(detail, "RmtInf/Ustrd")
            + self.all(detail, "RmtInf/Strd/AddtlRmtInf")
        ]
        return " ".join(part for part in parts if part) or self.text(detail, "AddtlTxInf")

    def amount(self, element: Element | None, number: int, currency: str) -> tuple[Decimal, str]:
        """(amount, currency) of an Amt element; the account's currency when Ccy is missing."""
        if element is None:
            raise _entry_error(number, _("Entry %(number)s has no amount."))
        text = (element.text or "").strip()
        if not AMOUNT.fullmatch(text):
            raise _entry_error(
                number, _("Entry %(number)s: the amount '%(value)s' is not a number."), text
            )
        currency = element.get("Ccy", "").strip().upper() or currency
        if not currency:
            raise _entry_error(number, _("Entry %(number)s has no currency."))
        return Decimal(text), currency

    def date(self, entry: Element, element: str, number: int) -> date | None:
        """BookgDt/ValDt as a date: Dt ('2026-03-02', maybe with a zone) or DtTm's day."""
        text = self.first_text(entry, f"{element}/Dt", f"{element}/DtTm")
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise _entry_error(
                number, _("Entry %(number)s: the date '%(value)s' is not a date."), text
            ) from None


def _entry_error(number: int, message: str, value: str = "") -> BankFileError:
    return BankFileError("bad_value", message % {"number": number, "value": shown(value)})
