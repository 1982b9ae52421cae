"""Change the status of documents (`PATCH …/change-status`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from partnerapp.jobs.operations.base import Context, Operation, ParametersForm, Step
from partnerapp.jobs.outcomes import Outcome, outcome
from partnerapp.smartbusiness import vocabulary
from partnerapp.smartbusiness.client import ActionResult, SmartBusinessClient

PROVIDER_DATE_TIME = "%Y-%m-%d %H:%M:%S"  # change-status's `date_time` (§2)


class StatusForm(ParametersForm):
    new_status = forms.ChoiceField(
        label=gettext_lazy("New status"),
        choices=vocabulary.status_choices(empty="—", only=vocabulary.CHANGEABLE_STATUSES),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("new_status") not in vocabulary.CHANGEABLE_STATUSES:
            self.add_error("new_status", _("Choose the status to change to."))
        return data

    def parameters(self) -> dict[str, Any]:
        return {"status": self.cleaned_data["new_status"]}

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return {"new_status": parameters.get("status", "")}


def change_status_action(from_status: str, to_status: str) -> str:
    """A status change's ledger identity: one per move, so DR → S and later S → R1 both
    happen (in other jobs), each once."""
    return f"change_status:{from_status}>{to_status}"


def provider_now() -> str:
    return timezone.localtime().strftime(PROVIDER_DATE_TIME)


class ChangeStatusTo(Step):
    """Move the document to a status: the job's `status`, or `target(item)`."""

    name = "change_status"
    label = gettext_lazy("change the status")

    def target(self, item, context: Context) -> str:
        return str(context.parameters.get("status", ""))

    def ledger_action(self, item, context: Context) -> str:
        return change_status_action(item.document_status, self.target(item, context))

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        return api.change_status(
            context.operation.kind, item.document_id, status=self.target(item, context)
        )

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        after = api.document(context.operation.kind, item.document_id).get("status")
        target = self.target(item, context)
        return after == target and item.document_status != after


class ChangeStatus(Operation):
    name = "change_status"
    title = gettext_lazy("Change the status of %(documents)s")
    name_title = gettext_lazy("Status change of %(documents)s")
    form_class = StatusForm
    steps = (ChangeStatusTo(),)
    default_statuses = (vocabulary.DRAFT,)
    done_word = gettext_lazy("changed")
    will_word = gettext_lazy("will be changed")

    def confirm_label(self, count: int) -> str:
        return ngettext(
            "Confirm and change %(n)d document", "Confirm and change %(n)d documents", count
        ) % {"n": count}

    def skip_reason(self, document, item, context, *, today) -> Outcome | None:
        reason = super().skip_reason(document, item, context, today=today)
        status = str(document.get("status", ""))
        if not reason and status == context.parameters.get("status"):
            reason = outcome("already_in_status", s=status)
        return reason
