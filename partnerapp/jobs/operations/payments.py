"""Record payments on invoices (`POST /receivables/invoices/{id}/payments`), at most once each.

The payments come with the job (`parameters["payments"]`, one per bank entry: invoice,
entry key, amount, date, notes), matched and confirmed by a person beforehand
(`partnerapp.receivables`). Preparation reads nothing from the provider: the matching
did. One item per payment (`JobItem.key` is the bank entry's key), so an invoice paid
twice in one file gets two items.

The ledger identity is the bank entry, so no job records the same money on an invoice
twice. A POST is not idempotent: after an unclear answer the invoice's payments are
listed and the one whose notes carry the entry's bank reference proves it happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from partnerapp.jobs.operations.base import Context, Operation, ParametersForm, Step
from partnerapp.smartbusiness import vocabulary
from partnerapp.smartbusiness.client import ActionResult, SmartBusinessClient

MAX_PAYMENTS = 20_000  # one bank file's month; the form refuses more
PAGE = 200
NOTES_MAX = 250
CENT = Decimal("0.01")


def notes_for(*, reference: str, payer: str = "", text: str = "") -> str:
    """The payment's notes: the bank reference in brackets first (reconcile finds it
    there), then who paid and what they wrote, cut to NOTES_MAX characters."""
    notes = f"[{reference}]"
    rest = " · ".join(part for part in (" ".join(payer.split()), " ".join(text.split())) if part)
    return f"{notes} {rest}"[:NOTES_MAX].rstrip() if rest else notes


def entry_marker(payment: dict[str, Any]) -> str:
    return f"[{payment['reference']}]"


def money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


class PaymentsForm(ParametersForm):
    payments = forms.JSONField(label=gettext_lazy("Payments"))

    def clean_payments(self) -> list[dict[str, Any]]:
        rows = self.cleaned_data["payments"]
        if not isinstance(rows, list) or not rows:
            raise forms.ValidationError(_("Give at least one payment."))
        if len(rows) > MAX_PAYMENTS:
            raise forms.ValidationError(_("At most %(n)d payments per job.") % {"n": MAX_PAYMENTS})
        cleaned, keys = [], set()
        for number, row in enumerate(rows, start=1):
            payment = self._payment(row, number)
            if payment["key"] in keys:
                raise forms.ValidationError(
                    _("Payment %(n)d: the same bank entry appears twice.") % {"n": number}
                )
            keys.add(payment["key"])
            cleaned.append(payment)
        return cleaned

    def _payment(self, row: Any, number: int) -> dict[str, Any]:
        def fail(message: str):
            return forms.ValidationError(
                _("Payment %(n)d: %(problem)s") % {"n": number, "problem": message}
            )

        if not isinstance(row, dict):
            raise fail(_("not an object."))
        invoice = row.get("invoice")
        if isinstance(invoice, bool) or not isinstance(invoice, int) or not 0 < invoice < 2**63:
            raise fail(_("the invoice must be a positive whole number."))
        key = row.get("key")
        if not isinstance(key, str) or not key.strip() or len(key) > 200:
            raise fail(_("the bank entry key must be text of 1 to 200 characters."))
        amount = money(row.get("amount"))
        if amount is None or amount <= 0 or amount != amount.quantize(CENT):
            raise fail(_("the amount must be positive, with at most two decimals."))
        try:
            day = date.fromisoformat(str(row.get("date", "")))
        except ValueError:
            raise fail(_("the date must be YYYY-MM-DD.")) from None
        currency = str(row.get("currency", "")).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise fail(_("the currency must be a three-letter code."))
        reference = str(row.get("reference") or "").strip() or default_reference(key)
        if len(reference) > 100 or "]" in reference:
            raise fail(_("the bank reference is too long or holds “]”."))
        payer, text = str(row.get("payer") or ""), str(row.get("text") or "")
        return {
            "invoice": invoice,
            "number": str(row.get("number") or "")[:40],
            "key": key,
            "amount": f"{amount.quantize(CENT)}",
            "date": day.isoformat(),
            "currency": currency,
            "reference": reference,
            "payer": payer[:200],
            "text": text[:500],
        }

    def parameters(self) -> dict[str, Any]:
        return {"payments": self.cleaned_data["payments"]}

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return {"payments": json.dumps(parameters.get("payments"))}


def default_reference(key: str) -> str:
    """A bank entry without any bank id (a CSV row): a reference derived from its key."""
    return "partnerapp:" + hashlib.sha256(key.encode()).hexdigest()[:16]


class RecordPayment(Step):
    name = "record_payment"
    label = gettext_lazy("record the payment")

    def ledger_action(self, item, context: Context) -> str:
        # The bank entry, not the invoice, is what must happen once: 8 + 32 characters.
        return "payment:" + hashlib.sha256(item.key.encode()).hexdigest()[:32]

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        payment = item.snapshot["payment"]
        return api.create_payment(
            item.document_id,
            amount=payment["amount"],
            date=payment["date"],
            type="N",
            channel="T",
            notes=notes_for(
                reference=payment["reference"], payer=payment["payer"], text=payment["text"]
            ),
        )

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        payment = item.snapshot["payment"]
        marker, amount = entry_marker(payment), Decimal(payment["amount"])
        return any(
            marker in str(recorded.get("notes") or "") and money(recorded.get("amount")) == amount
            for recorded in api.invoice_payments(item.document_id)
        )


class RecordPayments(Operation):
    name = "record_payments"
    title = gettext_lazy("Record payments on %(documents)s")
    name_title = gettext_lazy("Payments on %(documents)s")
    form_class = PaymentsForm
    steps = (RecordPayment(),)
    documents = ("invoice",)
    default_statuses = tuple(sorted(vocabulary.OPEN_STATUSES))
    reads_selection = False
    repeatable = False  # the same bank entry is never recorded twice, whoever asks
    done_word = gettext_lazy("recorded")
    will_word = gettext_lazy("will be recorded")

    def count_label(self, count: int) -> str:
        return ngettext("%(n)d payment", "%(n)d payments", count) % {"n": count}

    def confirm_label(self, count: int) -> str:
        return ngettext(
            "Confirm and record %(n)d payment", "Confirm and record %(n)d payments", count
        ) % {"n": count}

    def own_pages(self, job) -> Iterable[list[dict[str, Any]]]:
        """The invoices of the job's payments, as matched, 200 at a time; each carries its
        payments, one item per payment."""
        invoices: dict[int, dict[str, Any]] = {}
        for payment in job.parameters.get("payments", []):
            invoice = invoices.setdefault(
                payment["invoice"],
                {"id": payment["invoice"], "number": payment["number"], "payments": []},
            )
            invoice["payments"].append(payment)
        documents = list(invoices.values())
        for start in range(0, len(documents), PAGE):
            yield documents[start : start + PAGE]

    def item_keys(self, document: dict[str, Any], context: Context) -> list[str]:
        return [payment["key"] for payment in document.get("payments", [])]

    def prepare_item(self, item, document: dict[str, Any], context: Context) -> None:
        payment = next(p for p in document["payments"] if p["key"] == item.key)
        item.snapshot = {**item.snapshot, "total": payment["amount"], "payment": payment}
        item.snapshot["currency"] = payment["currency"]
        item.recipient_name = item.contact_name = payment["payer"][:200]

    def skip_reason(self, document, item, context, *, today) -> None:
        return None  # matched and confirmed by a person; the provider refuses what no longer fits

    def job_finished(self, job) -> None:
        """The bank file's payments are recorded (or failed): integrators hear of it."""
        from partnerapp.jobs.services import job_counts
        from partnerapp.webhooks import events  # lazily: webhooks imports jobs

        events.payment_import_finished(job, job_counts(job))
