from django import forms
from django.utils.translation import gettext_lazy as _

STATUS_CHOICES = [
    ("", _("All statuses")),
    ("DR", _("Draft")),
    ("S", _("Sent")),
    ("P", _("Paid")),
    ("PP", _("Partially paid")),
    ("R1", _("1st reminder")),
    ("R2", _("2nd reminder")),
    ("R3", _("3rd reminder")),
    ("DC", _("Debt collection")),
    ("C", _("Cancelled")),
]
SENDER_CHOICES = [
    ("", _("Company default")),
    ("CO", _("Company email")),
    ("U", _("Your user email")),
    ("S", _("Company SMTP")),
    ("CE", _("Central no-reply address")),
]
DEFAULT_SUBJECT = _("Invoice {INVOICENO}")
DEFAULT_BODY = _(
    "{SALUTATION}\n\n"
    "Please find attached our invoice {INVOICENO} of {DATE} for {INVOICEAMOUNT}, "
    "payable by {DATEDUE}.\n\n"
    "Kind regards\n{CREATORNAME}"
)


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=100000, required=False)


class SendInvoicesForm(forms.Form):
    invoices = forms.TypedMultipleChoiceField(
        label=_("Invoices"),
        coerce=int,
        error_messages={"required": _("Select at least one invoice.")},
    )
    subject = forms.CharField(label=_("Subject"), max_length=255, initial=DEFAULT_SUBJECT)
    body = forms.CharField(
        label=_("Message"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        initial=DEFAULT_BODY,
    )
    receipt = forms.BooleanField(label=_("Send a receipt instead of the invoice"), required=False)
    sender = forms.ChoiceField(label=_("From"), choices=SENDER_CHOICES, required=False)
    resend = forms.BooleanField(
        label=_("Resend: also send invoices that were already sent"), required=False
    )

    def email_parameters(self) -> dict:
        data = self.cleaned_data
        keys = ("subject", "body", "receipt", "sender", "resend")
        return {key: data[key] for key in keys}

    def __init__(self, *args, invoice_ids: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        posted = self.data.getlist("invoices") if hasattr(self.data, "getlist") else []
        choices = {str(i) for i in (invoice_ids or [])} | {p for p in posted if p.isdigit()}
        self.fields["invoices"].choices = [(c, c) for c in sorted(choices)]

    def clean_subject(self) -> str:
        return self.cleaned_data["subject"].strip()

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("The message must not be empty."))
        return body
