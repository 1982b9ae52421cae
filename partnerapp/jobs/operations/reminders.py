"""Payment reminders (Mahnlauf): move each overdue invoice one reminder level up, then
email it that level's reminder in the customer's language.

Two irreversible steps per invoice — `change-status` to R1/R2/R3 (with `date_time`
now), then `send-by-email` — each claimed, performed, recorded and reconciled on its
own (`engine.py`): a crash between them resumes at the email and never changes the
status twice. R3 is the last level a run sets; debt collection is a person's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from partnerapp.jobs.operations import texts
from partnerapp.jobs.operations.base import Context, Operation, ParametersForm
from partnerapp.jobs.operations.email import (
    LANGUAGE_CHOICES,
    EmailTextsMixin,
    SendEmail,
    email_text,
    recipient_problem,
    recipients_of,
)
from partnerapp.jobs.operations.status import ChangeStatusTo, provider_now
from partnerapp.jobs.outcomes import Outcome, outcome
from partnerapp.smartbusiness import vocabulary
from partnerapp.smartbusiness.client import ActionResult, Filter, SmartBusinessClient

LEVELS = vocabulary.REMINDER_LEVELS  # R1, R2, R3
DEFAULT_DAYS = 10
REMINDED = tuple(vocabulary.NEXT_REMINDER)  # the statuses a run moves up one level


class RemindersForm(EmailTextsMixin, ParametersForm):
    """Days before each level, and each level's text in each language."""

    own_placeholders = texts.OWN_PLACEHOLDERS
    language = forms.ChoiceField(
        label=gettext_lazy("Language for invoices and contacts without one"),
        choices=LANGUAGE_CHOICES,
        required=False,
    )
    sender = forms.ChoiceField(
        label=gettext_lazy("From"), choices=list(vocabulary.EMAIL_SENDERS.items()), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {
            "R1": _("Days after the due date before the 1st reminder"),
            "R2": _("Days after the 1st reminder before the 2nd"),
            "R3": _("Days after the 2nd reminder before the 3rd"),
        }
        for level in LEVELS:
            self.fields[f"days_{level}"] = forms.IntegerField(
                label=labels[level], min_value=0, max_value=365, required=False
            )
            self.add_language_fields(prefix=f"{level}_")

    def clean(self):
        data = super().clean()
        self.texts = {level: self.clean_texts(data, prefix=f"{level}_") for level in LEVELS}
        return data

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        days = {level: _days(data.get(f"days_{level}")) for level in LEVELS}
        chosen = {
            level: {**texts.shipped_texts(level), **self.texts[level]} for level in LEVELS
        }  # a language left empty sends the shipped text, frozen now as the preview shows it
        return {
            "days": days,
            "texts": chosen,
            "sender": data.get("sender") or "",
            "language": data.get("language") or "de",
        }

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sender": parameters.get("sender", ""),
            "language": parameters.get("language", ""),
        }
        days = parameters.get("days") or {}
        level_texts = parameters.get("texts") or {}
        for level in LEVELS:
            data[f"days_{level}"] = days.get(level, "") if isinstance(days, dict) else ""
            by_language = level_texts.get(level) if isinstance(level_texts, dict) else None
            for code, text in (by_language or {}).items():
                if isinstance(text, dict):
                    data[f"{level}_subject_{code}"] = text.get("subject", "")
                    data[f"{level}_body_{code}"] = text.get("body", "")
        return data

    def initial_texts(self) -> None:
        """Show the shipped texts in every tab (the wizard's starting point)."""
        for level in LEVELS:
            self.initial[f"days_{level}"] = DEFAULT_DAYS
            for code, text in texts.shipped_texts(level).items():
                self.initial[f"{level}_subject_{code}"] = text["subject"]
                self.initial[f"{level}_body_{code}"] = text["body"]


def reminder_items(connection, document_ids, *, organization=None, unsettled=False):
    """The reminder items of `document_ids` on the connection's provider account that
    raised the invoice's level (got past step 1) — of every partnerapp organization, or
    only of `organization`'s jobs when given. The one lookup of partnerapp's reminder history.

    `unsettled` adds the items whose status change may have happened without being
    recorded yet (in flight, or unclear): the provider may already show their level."""
    from partnerapp.jobs.models import JobItem  # the models import the registry: at use

    raised = Q(step__gte=1)
    if unsettled:
        raised |= Q(state__in=[JobItem.State.SENDING, JobItem.State.UNCERTAIN])
    items = JobItem.objects.filter(
        raised,
        job__connection__base_url=connection.base_url,
        job__connection__account_id=connection.account_id,
        job__action__endswith=f".{PaymentReminders.name}",
        document_id__in=list(document_ids),
    )
    return items if organization is None else items.filter(job__organization=organization)


def last_reminded(connection, document_ids) -> dict[int, date]:
    """Per invoice of the connection's account: the day partnerapp last raised its
    reminder level (whoever's job did it: the next level counts from there).

    A raise still in flight or unclear counts too: a run that reads the invoice then
    sees the new level with no finished step behind it, and must not raise it again."""
    rows = (
        reminder_items(connection, document_ids, unsettled=True)
        .values("document_id")
        .annotate(last=Max("claimed_at"))
    )
    return {row["document_id"]: timezone.localdate(row["last"]) for row in rows if row["last"]}


@dataclass(frozen=True)
class Reminder:
    """One reminder partnerapp sent for an invoice: the level it set, when, by which job
    and item, and how the item stands (sent, or uncertain — to review)."""

    document_id: int
    level: str
    at: datetime
    job_id: int
    item_id: int
    state: str
    state_label: str


def reminder_history(connection, document_ids, *, organization) -> dict[int, list[Reminder]]:
    """Per invoice, the reminders `organization`'s (or its id) jobs sent on the
    connection's provider account, oldest first — one query for any number of invoices."""
    from partnerapp.jobs.models import JobItem

    labels = dict(JobItem.State.choices)
    fields = ("document_id", "document_status", "claimed_at", "job_id", "pk", "state", "step_log")
    rows = reminder_items(connection, document_ids, organization=organization)
    rows = rows.order_by("claimed_at", "pk")
    history: dict[int, list[Reminder]] = {}
    for document_id, status, claimed_at, job_id, pk, state, step_log in rows.values_list(*fields):
        reminder = Reminder(
            document_id=document_id,
            level=next_level(status),
            at=_step_time(step_log) or claimed_at,
            job_id=job_id,
            item_id=pk,
            state=state,
            state_label=str(labels.get(state, state)),
        )
        history.setdefault(document_id, []).append(reminder)
    return history


def _step_time(step_log) -> datetime | None:
    """When the item's last recorded step took effect (the email, once it went out)."""
    try:
        return datetime.fromisoformat(step_log[-1]["at"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _days(value) -> int:
    return DEFAULT_DAYS if value in (None, "") else int(value)


def next_level(status: str) -> str:
    return vocabulary.NEXT_REMINDER.get(status, "")


class RaiseLevel(ChangeStatusTo):
    """Step 1: the invoice's next reminder level, dated now."""

    label = gettext_lazy("set the reminder level")

    def target(self, item, context: Context) -> str:
        return next_level(item.document_status)

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        return api.change_status(
            context.operation.kind,
            item.document_id,
            status=self.target(item, context),
            date_time=provider_now(),
        )


class SendReminder(SendEmail):
    """Step 2: that level's reminder text, in the customer's language."""

    name = "send_reminder"
    label = gettext_lazy("email the reminder")

    def ledger_action(self, item, context: Context) -> str:
        return f"send_reminder:{next_level(item.document_status)}"

    def text(self, item, context: Context) -> dict[str, str]:
        level = next_level(item.document_status) or vocabulary.REMINDER_3
        level_texts = (context.parameters.get("texts") or {}).get(level) or {}
        fallback = texts.shipped_text(level, item.language or "de")
        return email_text(item, context, templates=level_texts, fallback=fallback)

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        text = self.text(item, context)
        sender = context.parameters.get("sender") or None
        return api.send_by_email(
            context.operation.kind,
            item.document_id,
            subject=text["subject"],
            body=text["body"],
            recipients=recipients_of(item),
            sender=sender,
        )

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        """Nothing at the provider shows that a reminder email went out: an unclear
        answer stays uncertain for a person to check."""
        return False


class PaymentReminders(Operation):
    name = "send_reminders"
    title = gettext_lazy("Send payment reminders for %(documents)s")
    name_title = gettext_lazy("Payment reminders for %(documents)s")
    form_class = RemindersForm
    steps = (RaiseLevel(), SendReminder())
    documents = ("invoice",)
    sends = sends_email = True
    default_statuses = REMINDED
    done_word = gettext_lazy("reminded")
    will_word = gettext_lazy("will be reminded")

    def confirm_label(self, count: int) -> str:
        return ngettext(
            "Confirm and remind %(n)d invoice", "Confirm and remind %(n)d invoices", count
        ) % {"n": count}

    def selection_filter(self, parameters: dict[str, Any]) -> Filter:
        """Only invoices a run can move up: sent, partially paid, 1st or 2nd reminder."""
        combined = Filter()
        for status in REMINDED:
            combined |= Filter(status=status)
        return combined

    def skip_reason(self, document, item, context, *, today) -> Outcome | None:
        reason = super().skip_reason(document, item, context, today=today)
        status = str(document.get("status", ""))
        if reason:
            return reason
        if status == vocabulary.PAID:
            return outcome("paid_meanwhile")
        if status in (vocabulary.REMINDER_3, vocabulary.REMINDER, vocabulary.DEBT_COLLECTION):
            return outcome("last_reminder_reached")
        if status not in REMINDED:
            return outcome("not_open", s=status)
        open_amount = texts.open_amount(document)
        if open_amount is not None and open_amount <= 0:
            return outcome("nothing_open")
        due = self.due_on(document, context, status=status)
        if due is not None and due > today:
            return outcome("not_due", d=due.isoformat())
        return recipient_problem(item)

    def due_on(self, document: dict, context: Context, *, status: str) -> date | None:
        """The day the next level is due: N days after the last reminder partnerapp sent
        (its history), else after the due date plus the levels before (set elsewhere)."""
        days = {level: _days((context.parameters.get("days") or {}).get(level)) for level in LEVELS}
        target = next_level(status)
        last = (context.extra.get("last_reminded") or {}).get(int(document["id"]))
        if last is not None:
            return last + timedelta(days=days[target])
        try:
            due = date.fromisoformat(str(document.get("due"))[:10])
        except ValueError:
            return None
        before = LEVELS[: LEVELS.index(target) + 1]
        return due + timedelta(days=sum(days[level] for level in before))

    def email_preview(self, item, context: Context) -> dict[str, str]:
        return self.steps[1].text(item, context)

    def page_extra(self, job, documents: list[dict]) -> dict[str, Any]:
        """When partnerapp last raised each invoice's level (days count from there)."""
        ids = [int(document["id"]) for document in documents if not document.get("missing")]
        return {"last_reminded": last_reminded(job.connection, ids)}

    def prepare_item(self, item, document, context) -> None:
        contact = document.get("contact") or {}
        item.recipient_email = str(contact.get("email") or "").strip()
        item.language = texts.item_language(document, context.parameters.get("language") or "de")
