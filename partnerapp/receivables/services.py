"""From a bank file to recorded payments: receive, match, review, confirm.

1. `upload_receive` parses the file (`partnerapp.bankfiles`; a file it cannot read is
   refused with the reason, nothing stored) and keeps each credit as a
   `BankTransaction`, unique per provider account and entry key: a re-upload finds the
   rows it already has.
2. `upload_match` (a task) reads the connection's open invoices once and matches the
   transactions still open (`bankfiles.match`).
3. `review` sorts them for the review page; a person ticks and picks.
4. `payments_confirm` gives the chosen transactions to one payment job
   (`invoice.record_payments`), each exactly once: the open → submitted move is one
   locked UPDATE, so two people confirming at once cannot both take a transaction.
   The job records each payment at most once (the engine and its ledger).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partnerapp.bankfiles import (
    BankEntry,
    BankFileError,
    Classification,
    MatchStatus,
    match,
    parse,
)
from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import (
    CallContext,
    ClientCredentialsRefused,
    ConnectionUnusable,
    connection_call,
)
from partnerapp.jobs import outcomes, states
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations import JobInputError
from partnerapp.jobs.operations.payments import default_reference
from partnerapp.jobs.services import job_create
from partnerapp.organizations import audit, permissions
from partnerapp.organizations.permissions import Perm
from partnerapp.receivables.models import BankTransaction, BankUpload
from partnerapp.smartbusiness.client import MAX_PAGE_SIZE, DocumentKind, Filter
from partnerapp.smartbusiness.describe import describe, missing_scope_message
from partnerapp.smartbusiness.errors import (
    MissingScope,
    ServerError,
    SmartBusinessError,
    TooManyRequests,
    TransportError,
    Unauthorized,
)
from partnerapp.smartbusiness.vocabulary import DEBT_COLLECTION, OPEN_STATUSES

logger = logging.getLogger(__name__)
Tx = BankTransaction.State
Upload = BankUpload.State
ACTION = "invoice.record_payments"
SCOPE = "invoice"
# Invoices money may still arrive for: open ones and those in debt collection.
PAYABLE_STATUSES = tuple(sorted({*OPEN_STATUSES, DEBT_COLLECTION}))
MATCH_MAX_PACING_WAIT = 30.0
MATCH_RETRY_DELAY = 10.0
CHUNK = 500
SUBMITTED_FIELDS = ["state", "job", "submitted_by", "submitted_at", "invoice_id"]
SUBMITTED_FIELDS += ["invoice_number", "submitted_amount"]
INVOICE_FIELDS = ("id", "number", "contact_name", "total", "total_paid", "currency", "status")


@dataclass(frozen=True)
class MatchLater:
    """Matching waits for the provider (rate limit, a bad minute): run it again later."""

    delay: float


# -- 1. receiving -----------------------------------------------------------------------------


def upload_receive(
    *, user, connection: Connection, data: bytes, filename: str, by_api: bool = False
) -> BankUpload:
    """Keep a bank file's credits as transactions; matching starts after commit.

    Raises JobInputError with a sentence a person can act on when the file is not a
    bank file partnerapp reads, holds no credit, or the connection cannot be used.
    `by_api`: sent through the partner API (`user` None; the API checked its key).
    """
    if not by_api:
        permissions.require_member(user, connection.organization_id, Perm.OPERATE)
    if not connection.is_usable:
        raise JobInputError(_("Reconnect this account before uploading a bank file."))
    if SCOPE not in connection.scope_list:
        raise JobInputError(missing_scope_message(SCOPE))
    try:
        bank_file = parse(data, filename)
    except BankFileError as exc:
        raise JobInputError(exc.message) from None
    if not bank_file.entries:
        raise JobInputError(
            ngettext(
                "This file holds no incoming payment to record (%(n)d entry is a debit, a "
                "reversal, a duplicate or not booked yet).",
                "This file holds no incoming payment to record (%(n)d entries are debits, "
                "reversals, duplicates or not booked yet).",
                len(bank_file.ignored),
            )
            % {"n": len(bank_file.ignored)}
        )
    account = {"base_url": connection.base_url.rstrip("/"), "account_id": connection.account_id}
    with transaction.atomic():
        upload = BankUpload.objects.create(
            user=user,
            connection=connection,
            filename=filename[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            format=bank_file.format,
            message=bank_file.message[:40],
            ignored=[
                _ignored_row(ignored.entry, ignored.reason.label) for ignored in bank_file.ignored
            ],
        )
        rows = [_transaction(entry, account) for entry in bank_file.entries]
        BankTransaction.objects.bulk_create(rows, ignore_conflicts=True, batch_size=CHUNK)
        keys = [entry.key for entry in bank_file.entries]
        through = BankUpload.transactions.through
        for start in range(0, len(keys), CHUNK):
            ids = BankTransaction.objects.filter(
                **account, key__in=keys[start : start + CHUNK]
            ).values_list("pk", flat=True)
            through.objects.bulk_create(
                [through(bankupload_id=upload.pk, banktransaction_id=pk) for pk in ids]
            )
        transaction.on_commit(lambda: _tasks().bank_upload_match.delay(upload.pk))
        audit.record(
            "import.upload",
            organization=upload.organization_id,
            obj=upload,
            after={"format": upload.format, "size": upload.size, "entries": len(rows)},
            actor=user,
        )
    return upload


def _transaction(entry: BankEntry, account: dict) -> BankTransaction:
    return BankTransaction(
        **account,
        key=entry.key,
        booking_date=entry.booking_date,
        value_date=entry.value_date,
        amount=entry.amount,
        currency=entry.currency,
        reference=entry.reference[:40],
        reference_type=entry.reference_type[:10],
        bank_reference=_bank_reference(entry)[:100],
        payer=entry.payer[:200],
        text=entry.text,
    )


def _bank_reference(entry: BankEntry) -> str:
    """The bank's own id of the payment, for the payment's notes (reconcile finds it)."""
    for value in (entry.transaction_reference, entry.end_to_end_id, entry.entry_reference):
        if value and value.upper() != "NOTPROVIDED" and "]" not in value:
            return value
    return default_reference(entry.key)


def _ignored_row(entry: BankEntry, reason) -> dict:
    day = entry.booking_date or entry.value_date
    sign = "" if entry.is_credit else "-"
    return {
        "date": day.isoformat() if day else "",
        "amount": f"{sign}{entry.amount}",
        "currency": entry.currency,
        "payer": entry.payer[:200],
        "text": entry.text[:200],
        "reason": str(reason),
    }


def _tasks():
    from partnerapp.receivables import tasks  # tasks import services: import at use

    return tasks


# -- 2. matching ------------------------------------------------------------------------------


def upload_match(*, upload_id: int) -> MatchLater | None:
    """Match the upload's open transactions against the connection's payable invoices."""
    upload = BankUpload.objects.select_related("connection").get(pk=upload_id)
    context = CallContext(max_wait=MATCH_MAX_PACING_WAIT)
    try:
        invoices = _payable_invoices(upload.connection, context)
    except (PacingWait, TooManyRequests) as exc:
        return MatchLater(delay=exc.retry_after)
    except (ServerError, TransportError, Unauthorized, ClientCredentialsRefused) as exc:
        _upload_note(upload, error=_("Waiting for SmartBusiness: %(m)s") % {"m": _reason(exc)})
        return MatchLater(delay=MATCH_RETRY_DELAY)
    except ConnectionUnusable as exc:
        return _upload_failed(upload, str(exc))
    except MissingScope as exc:
        return _upload_failed(upload, missing_scope_message(exc.scope or SCOPE))
    except SmartBusinessError as exc:
        message = _("Could not read your open invoices: %(m)s") % {"m": describe(exc)}
        return _upload_failed(upload, message)
    open_rows = list(upload.transactions.filter(state=Tx.OPEN).order_by("pk"))
    results = match([_entry(row) for row in open_rows], invoices)
    for row, result in zip(open_rows, results, strict=True):
        row.match_status = result.status.value
        row.match_basis = result.basis.value
        row.classification = result.classification.value if result.classification else ""
        row.candidates = [_candidate(invoice) for invoice in result.invoices]
        row.open_amount = result.open_amount
        row.amount_to_record = result.amount_to_record
    fields = ["match_status", "match_basis", "classification", "candidates", "open_amount"]
    with transaction.atomic():
        # Only rows still open: one confirmed meanwhile keeps what it was confirmed with.
        for start in range(0, len(open_rows), CHUNK):
            chunk = open_rows[start : start + CHUNK]
            still_open = set(
                BankTransaction.objects.select_for_update()
                .filter(pk__in=[row.pk for row in chunk], state=Tx.OPEN)
                .values_list("pk", flat=True)
            )
            BankTransaction.objects.bulk_update(
                [row for row in chunk if row.pk in still_open], [*fields, "amount_to_record"]
            )
        BankUpload.objects.filter(pk=upload.pk).update(
            state=Upload.READY, error="", matched_at=timezone.now(), invoices_read=len(invoices)
        )
    return None


def upload_rematch(*, upload: BankUpload) -> None:
    """Match again (after a failure, or because invoices changed since)."""
    BankUpload.objects.filter(pk=upload.pk).update(state=Upload.MATCHING, error="")
    transaction.on_commit(lambda: _tasks().bank_upload_match.delay(upload.pk))
    audit.record(
        "import.rematch",
        organization=upload.organization_id,
        obj=upload,
        before={"state": upload.state},
        after={"state": Upload.MATCHING},
    )


def _payable_invoices(connection: Connection, context: CallContext) -> list[dict]:
    statuses = Filter()
    for status in PAYABLE_STATUSES:
        statuses |= Filter(status=status)
    invoices: list[dict] = []
    while True:
        offset = len(invoices)
        page = connection_call(
            connection,
            lambda api, offset=offset: api.documents(
                DocumentKind.INVOICE,
                filter=statuses,
                limit=MAX_PAGE_SIZE,
                offset=offset,
                sort="number",
            ),
            context,
        )
        invoices.extend(page.items)
        if not page.items or len(invoices) >= page.total:
            return invoices


def _entry(row: BankTransaction) -> BankEntry:
    return BankEntry(
        key=row.key,
        booking_date=row.booking_date,
        value_date=row.value_date,
        amount=row.amount,
        currency=row.currency,
        reference=row.reference,
        reference_type=row.reference_type,
        text=row.text,
        payer=row.payer,
    )


def _candidate(invoice: dict) -> dict:
    found = {key: invoice.get(key) for key in INVOICE_FIELDS}
    contact = invoice.get("contact") or {}
    found["contact_name"] = str(found["contact_name"] or contact.get("name") or "")
    found["total"] = str(invoice.get("total") if invoice.get("total") is not None else "")
    found["total_paid"] = str(invoice.get("total_paid") or 0)
    return found


def _reason(exc: Exception) -> str:
    return describe(exc) if isinstance(exc, SmartBusinessError) else str(exc)


def _upload_note(upload: BankUpload, *, error: str) -> None:
    BankUpload.objects.filter(pk=upload.pk).update(error=error)


def _upload_failed(upload: BankUpload, message: str) -> None:
    BankUpload.objects.filter(pk=upload.pk).update(state=Upload.FAILED, error=message)
    return None


# -- 3. reviewing -----------------------------------------------------------------------------


@dataclass
class Row:
    """One transaction on the review page, with what a person may do with it."""

    transaction: BankTransaction
    item: JobItem | None = None  # the payment job's item, once submitted

    @property
    def candidates(self) -> list[dict]:
        return self.transaction.candidates

    @property
    def invoice(self) -> dict | None:
        return self.candidates[0] if self.candidates else None

    @property
    def surplus(self) -> Decimal:
        tx = self.transaction
        if tx.amount_to_record is None or tx.classification != Classification.OVERPAYMENT:
            return Decimal(0)
        return tx.amount - tx.amount_to_record


@dataclass
class Review:
    """The upload's transactions, sorted into what the review page shows."""

    upload: BankUpload
    ready: list[Row] = field(default_factory=list)  # full or partial: ticked
    overpaid: list[Row] = field(default_factory=list)  # records the open amount if ticked
    ambiguous: list[Row] = field(default_factory=list)  # several candidates: a person picks
    unmatched: list[Row] = field(default_factory=list)  # hints only, or nothing
    not_recordable: list[Row] = field(default_factory=list)  # foreign currency, paid, cancelled
    submitted: list[Row] = field(default_factory=list)  # confirmed before (any upload)

    @property
    def choosable(self) -> int:
        """Rows the page offers a choice for (an unmatched entry only with invoices its
        text names)."""
        hinted = [row for row in self.unmatched if row.candidates]
        return len(self.ready) + len(self.overpaid) + len(self.ambiguous) + len(hinted)

    @property
    def total_ready(self) -> Decimal:
        return sum((row.transaction.amount_to_record for row in self.ready), Decimal(0))


def review(upload: BankUpload) -> Review:
    """Sort the upload's transactions for the review page (two queries)."""
    result = Review(upload=upload)
    rows = list(upload.transactions.select_related("job").order_by("pk"))
    items = _items_of(rows)
    for tx in rows:
        row = Row(tx, item=items.get((tx.job_id, tx.key)))
        result_list(result, tx).append(row)
    return result


def result_list(result: Review, tx: BankTransaction) -> list[Row]:
    if tx.state == Tx.SUBMITTED:
        return result.submitted
    if tx.match_status == MatchStatus.AMBIGUOUS:
        return result.ambiguous
    if tx.match_status != MatchStatus.MATCHED:
        return result.unmatched
    if tx.classification in (Classification.FULL, Classification.PARTIAL):
        return result.ready
    if tx.classification == Classification.OVERPAYMENT:
        return result.overpaid
    return result.not_recordable


def _items_of(rows: list[BankTransaction]) -> dict[tuple[int, str], JobItem]:
    submitted = [tx for tx in rows if tx.job_id]
    if not submitted:
        return {}
    condition = Q(pk__in=[])
    by_job: dict[int, list[str]] = {}
    for tx in submitted:
        by_job.setdefault(tx.job_id, []).append(tx.key)
    for job_id, keys in by_job.items():
        condition |= Q(job_id=job_id, key__in=keys)
    items = JobItem.objects.filter(condition).only(
        "pk",
        "job_id",
        "key",
        "state",
        "outcome",
        "outcome_code",
        "outcome_params",
        "finished_at",
        "document_number",
        "conflict_item",
    )
    return {(item.job_id, item.key): item for item in items}


# -- 4. confirming ----------------------------------------------------------------------------


def payments_confirm(
    *, upload: BankUpload, user, picks: dict[int, int], by_api: bool = False
) -> BatchJob | None:
    """Give the picked transactions (transaction id → invoice id) to one payment job.

    A pick must name one of the transaction's own candidates (the matched invoice, an
    ambiguous candidate, an invoice its text mentions): nothing else can be paid from
    here. Transactions someone else confirmed meanwhile are left out. Returns the job,
    or None when nothing was left to record. `by_api`: as for `upload_receive`.
    """
    if not by_api:
        permissions.require_member(user, upload.organization_id, Perm.OPERATE)
    if upload.state != Upload.READY:
        raise JobInputError(_("The bank file is not matched yet."))
    if not picks:
        raise JobInputError(_("Tick at least one payment to record."))
    with transaction.atomic():
        rows = list(
            upload.transactions.select_for_update()
            .filter(pk__in=list(picks), state=Tx.OPEN)
            .order_by("pk")
        )
        payments, chosen = [], []
        for tx in rows:
            invoice = next((c for c in tx.candidates if c.get("id") == picks[tx.pk]), None)
            if invoice is None:
                raise JobInputError(
                    _("Entry of %(amount)s %(currency)s: choose one of the invoices shown.")
                    % {"amount": tx.amount, "currency": tx.currency}
                )
            amount = _amount_for(tx, invoice)
            if amount is None or amount <= 0:
                raise JobInputError(
                    _("Invoice %(number)s has nothing open in %(currency)s to record.")
                    % {"number": invoice.get("number"), "currency": tx.currency}
                )
            payments.append(_payment(tx, invoice, amount))
            chosen.append((tx, invoice, amount))
        if not payments:
            return None
        job = job_create(
            user=user,
            connection=upload.connection,
            action=ACTION,
            selection_spec={"bank_upload": upload.pk},
            parameters={"payments": payments},
            auto_start=True,
            by_api=by_api,
        )
        now = timezone.now()
        for tx, invoice, amount in chosen:
            tx.state, tx.job, tx.submitted_by, tx.submitted_at = Tx.SUBMITTED, job, user, now
            tx.invoice_id, tx.invoice_number = invoice["id"], str(invoice.get("number") or "")[:40]
            tx.submitted_amount = amount
        BankTransaction.objects.bulk_update(
            [tx for tx, _invoice, _amount in chosen],
            SUBMITTED_FIELDS,
            batch_size=CHUNK,
        )
        total = sum((amount for _tx, _invoice, amount in chosen), Decimal("0"))
        audit.record(
            "import.confirm",
            organization=upload.organization_id,
            obj=upload,
            after={"payments": len(chosen), "amount": f"{total:.2f}", "job": job.pk},
            actor=user,
        )
    return job


def _amount_for(tx: BankTransaction, invoice: dict) -> Decimal | None:
    """What to record on `invoice`: the matched amount, or for a person's pick the entry's
    amount up to what is open on it (the surplus stays for a person to handle)."""
    if tx.match_status == MatchStatus.MATCHED and tx.amount_to_record is not None:
        return tx.amount_to_record
    if str(invoice.get("currency", "")).upper() != tx.currency:
        return None
    if str(invoice.get("status", "")) in {"P", "C", "D"}:
        return None
    try:
        open_amount = Decimal(invoice["total"]) - Decimal(invoice.get("total_paid") or "0")
    except (ArithmeticError, KeyError, TypeError, ValueError):
        return None
    return min(tx.amount, open_amount.quantize(Decimal("0.01")))


def _payment(tx: BankTransaction, invoice: dict, amount: Decimal) -> dict:
    day = tx.value_date or tx.booking_date or timezone.localdate()
    return {
        "invoice": int(invoice["id"]),
        "number": str(invoice.get("number") or "")[:40],
        "key": tx.key,
        "amount": f"{amount:.2f}",
        "date": day.isoformat(),
        "currency": tx.currency,
        "reference": tx.bank_reference or default_reference(tx.key),
        "payer": tx.payer,
        "text": tx.text[:500],
    }


def transaction_release(*, upload: BankUpload, user, transaction_id: int) -> bool:
    """Open a submitted transaction again whose payment provably was not recorded (its
    item failed or was skipped), so it can be matched and confirmed anew.

    The item moves to `skipped` in the same transaction, conditionally: if someone
    retried it meanwhile, nothing is released, and it can never run again afterwards.
    """
    permissions.require_member(user, upload.organization_id, Perm.OPERATE)
    with transaction.atomic():
        tx = (
            upload.transactions.select_for_update()
            .filter(pk=transaction_id, state=Tx.SUBMITTED)
            .first()
        )
        if tx is None or tx.job_id is None or tx.job.organization_id != upload.organization_id:
            return False
        items = JobItem.objects.filter(
            job_id=tx.job_id, key=tx.key, state__in=[JobItem.State.FAILED, JobItem.State.SKIPPED]
        )
        item = items.first()
        if item is None:
            return False
        # A skipped payment item never runs again (payments are not repeatable); a failed
        # one could be retried, so it is moved out of reach first, conditionally.
        if item.state == JobItem.State.FAILED and not states.item_move(
            JobItem.objects.filter(pk=item.pk),
            source=JobItem.State.FAILED,
            target=JobItem.State.SKIPPED,
            **outcomes.record("handed_back", outcome=outcomes.as_parameter(item)),
        ):
            return False
        BankTransaction.objects.filter(pk=tx.pk).update(
            state=Tx.OPEN,
            job=None,
            invoice_id=None,
            invoice_number="",
            submitted_amount=None,
            submitted_by=None,
            submitted_at=None,
        )
        audit.record(
            "import.release",
            organization=upload.organization_id,
            obj=upload,
            before={"state": Tx.SUBMITTED, "invoice": tx.invoice_number, "job": tx.job_id},
            after={"state": Tx.OPEN, "amount": f"{tx.amount:.2f} {tx.currency}"},
            actor=user,
        )
    return True


# -- reading ----------------------------------------------------------------------------------


def uploads_for(organization):
    return BankUpload.objects.filter(organization=organization).select_related("connection")
