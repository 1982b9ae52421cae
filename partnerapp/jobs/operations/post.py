"""Send documents by letter post (`PATCH …/send-by-post`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from partnerapp.jobs.operations.base import Context, Operation, ParametersForm, Step, checkbox
from partnerapp.jobs.operations.email import draft_or_resend, draft_was_sent
from partnerapp.jobs.outcomes import Outcome
from partnerapp.smartbusiness.client import ActionResult, SmartBusinessClient


class PostForm(ParametersForm):
    color = forms.BooleanField(label=gettext_lazy("Print in colour"), required=False)
    duplex = forms.BooleanField(label=gettext_lazy("Print on both sides"), required=False)
    priority = forms.BooleanField(label=gettext_lazy("Priority mail (A-Post)"), required=False)
    resend = forms.BooleanField(
        label=gettext_lazy("Resend: also act on documents that were already sent"),
        required=False,
    )

    def parameters(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("color", "duplex", "priority", "resend")}

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        keys = ("color", "duplex", "priority", "resend")
        return {key: checkbox(parameters.get(key)) for key in keys}


class SendPost(Step):
    name = "send_by_post"
    label = gettext_lazy("send by post")

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        params = context.parameters
        return api.send_by_post(
            context.operation.kind,
            item.document_id,
            color=bool(params.get("color")),
            duplex=bool(params.get("duplex")),
            priority=bool(params.get("priority")),
        )

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        return draft_was_sent(api, item, context)


class SendByPost(Operation):
    name = "send_by_post"
    title = gettext_lazy("Send %(documents)s by post")
    name_title = gettext_lazy("%(documents)s by post")
    form_class = PostForm
    steps = (SendPost(),)
    sends = True

    def skip_reason(self, document, item, context, *, today) -> Outcome | None:
        return super().skip_reason(document, item, context, today=today) or draft_or_resend(
            document, context.parameters
        )
