"""What every operation is, and the pieces operations share.

An operation (Django's migration operations are the model) owns all of its
behaviour: its parameters (a form, used by the wizard, schedules, the service and the
API alike), the documents it selects, why it skips one, its steps — each one
irreversible call with its own ledger identity and its own way to prove after an
unclear answer whether it took effect — and its labels. The engine, the wizard, the
preview, schedules and exports drive operations without knowing which one they hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from partnerapp.jobs.outcomes import Outcome, outcome
from partnerapp.smartbusiness import vocabulary
from partnerapp.smartbusiness.client import ActionResult, DocumentKind, SmartBusinessClient

DOCUMENTS = {
    "invoice": (DocumentKind.INVOICE, gettext_lazy("invoices")),
    "offer": (DocumentKind.OFFER, gettext_lazy("offers")),
    "delivery_note": (DocumentKind.DELIVERY_NOTE, gettext_lazy("delivery notes")),
    "order_confirmation": (DocumentKind.ORDER_CONFIRMATION, gettext_lazy("order confirmations")),
    "letter": (DocumentKind.LETTER, gettext_lazy("letters")),
}


class JobInputError(Exception):
    """Input the user must fix; the message says what."""


@dataclass(frozen=True)
class Context:
    """What a step needs besides the item: the operation and the job's parameters."""

    operation: Operation
    parameters: dict[str, Any]
    # What an operation looked up for a page of documents (e.g. reminder history).
    extra: dict[str, Any] = field(default_factory=dict)


class Step:
    """One irreversible provider call of an item (claimed, performed, recorded, reconciled)."""

    name: ClassVar[str]
    label: ClassVar[Promise]
    # A read (fetching a PDF): doing it twice is harmless, so an unclear answer is simply
    # tried again later (`engine.py`), never "uncertain", and it takes no ledger row.
    idempotent: ClassVar[bool] = False

    def ledger_action(self, item, context: Context) -> str:
        """The step's identity in the at-most-once ledger (`ledger.py`); "" for a step
        that needs none (an idempotent read)."""
        return self.name

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        raise NotImplementedError

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        """After an unclear answer: True only when the provider's data proves the step
        happened. Reads the provider; raises its errors when it cannot tell."""
        return False


class ParametersForm(forms.Form):
    """An operation's parameters. `parameters()` gives the stored dict, and
    `data_for(parameters)` turns a stored dict back into form data, so a dict from a
    schedule or the API is validated by the very same form as the wizard's input."""

    def __init__(self, *args, operation: Operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.operation = operation

    def clean(self):
        data = super().clean()
        texts = [value for value in data.values() if isinstance(value, str)]
        if any("\x00" in text for text in texts):
            raise forms.ValidationError(_("The text contains a null character."))
        return data

    def parameters(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class Operation:
    """One kind of bulk action on one document kind ("invoice.send_by_email")."""

    name: ClassVar[str]  # "send_by_email"
    title: ClassVar[Promise]  # "Send %(documents)s by email"
    # What a job of it is called (`jobs/naming.py`): "%(documents)s by email".
    name_title: ClassVar[Promise]
    form_class: ClassVar[type[ParametersForm]]
    steps: ClassVar[tuple[Step, ...]]
    documents: ClassVar[tuple[str, ...]] = tuple(DOCUMENTS)
    sends: ClassVar[bool] = False  # an email or a letter reaches the customer
    sends_email: ClassVar[bool] = False
    # The statuses whose documents this operation is about (the schedule form's default).
    default_statuses: ClassVar[tuple[str, ...]] = (vocabulary.DRAFT,)
    # False: the job's documents come with its parameters (`own_pages`), not from a
    # selection read from the provider (payments matched from a bank file).
    reads_selection: ClassVar[bool] = True
    # A person may tell a job to act again on documents another job did ("resend").
    repeatable: ClassVar[bool] = True

    def __init__(self, document: str) -> None:
        self.document = document
        self.key = f"{document}.{self.name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"

    @property
    def operation(self) -> str:  # the name, as the dashboard and older callers say it
        return self.name

    @property
    def kind(self) -> DocumentKind:
        return DOCUMENTS[self.document][0]

    @property
    def required_scope(self) -> str:
        """The OAuth scope a connection needs: its document kind's (scopes are named so)."""
        return self.document

    @property
    def label(self) -> str:
        """ "Send invoices by email", in the active language (evaluated at each call)."""
        text = str(self.title % {"documents": DOCUMENTS[self.document][1]})
        return text[:1].upper() + text[1:]

    @property
    def name_label(self) -> str:
        """ "Invoices by email": the start of a job's default name, in the active language."""
        text = str(self.name_title % {"documents": DOCUMENTS[self.document][1]})
        return text[:1].upper() + text[1:]

    # -- words for its pages -------------------------------------------------------------------

    # The counter of items done ("sent"), and what the preview says the pending ones get.
    done_word: ClassVar[Promise] = gettext_lazy("sent")
    will_word: ClassVar[Promise] = gettext_lazy("will be sent")

    # The wizard's word on what confirming does at the provider (the archive only reads).
    warning: ClassVar[Promise] = gettext_lazy(
        "This action cannot be undone at SmartBusiness; the next page shows a preview and "
        "nothing happens before you confirm it."
    )

    def count_label(self, count: int) -> str:
        """How many items a job has, for its name: "15 documents"."""
        return ngettext("%(n)d document", "%(n)d documents", count) % {"n": count}

    def confirm_label(self, count: int) -> str:
        """The preview's confirm button: "Confirm and send 12 documents"."""
        return ngettext(
            "Confirm and send %(n)d document", "Confirm and send %(n)d documents", count
        ) % {"n": count}

    def form(self, data=None, **kwargs) -> ParametersForm:
        return self.form_class(data, operation=self, **kwargs)

    def check(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Validate stored parameters (a schedule's, the API's) with the operation's form;
        JobInputError names the first problem. Returns the normalised parameters."""
        form = self.form(self.form_class.data_for(parameters))
        if not form.is_valid():
            raise JobInputError(first_error(form))
        return form.parameters()

    # -- selection --------------------------------------------------------------------------

    def selection_filter(self, parameters: dict[str, Any]):
        """Extra provider filter the operation always applies (None: the user's alone)."""
        return None

    def skip_reason(
        self, document: dict[str, Any], item, context: Context, *, today: date
    ) -> Outcome | None:
        """Why this document must not be acted on (`jobs/outcomes.py`), or None to act on it."""
        status = str(document.get("status", ""))
        if status in vocabulary.CLOSED_STATUSES:
            return outcome("closed_status", s=status)
        return None

    def own_pages(self, job) -> Iterable[list[dict[str, Any]]] | None:
        """Pages of the documents to act on when the operation carries them itself; None:
        preparation reads the job's selection from the provider."""
        return None

    def item_keys(self, document: dict[str, Any], context: Context) -> list[str]:
        """One item per key for a document (`JobItem.key`); most operations act once."""
        return [""]

    def page_extra(self, job, documents: list[dict[str, Any]]) -> dict[str, Any]:
        """What the operation looks up once per page of documents (`Context.extra`)."""
        return {}

    def prepare_item(self, item, document: dict[str, Any], context: Context) -> None:
        """Fill the operation's own fields of a new item (recipient, language, …)."""

    def email_preview(self, item, context: Context) -> dict[str, str] | None:
        """The email an item sends ({"subject", "body"}), or None: it sends none."""
        return None

    # -- steps ------------------------------------------------------------------------------

    def ledger_actions(self, item, context: Context) -> list[str]:
        """The ledger identities of the item's steps not yet done (steps without one, the
        idempotent reads, take no row)."""
        identities = (step.ledger_action(item, context) for step in self.steps[item.step :])
        return [identity for identity in identities if identity]

    def job_finished(self, job) -> None:
        """Called once when the job moved to done (`engine.job_finish`), e.g. to pack what
        its items fetched."""

    def step_label(self, index: int) -> str:
        return str(self.steps[min(index, len(self.steps) - 1)].label)


def first_error(form: forms.Form) -> str:
    """The first error of a form as one sentence ("Subject: This field is required.")."""
    for name, errors in form.errors.items():
        if name == "__all__" or name not in form.fields:
            return str(errors[0])
        return f"{form.fields[name].label}: {errors[0]}"
    return _("The parameters are not valid.")


def checkbox(value) -> str:
    """A stored boolean as posted form data ("" is unticked)."""
    return "on" if value else ""
