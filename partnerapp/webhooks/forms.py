from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerapp.webhooks import delivery
from partnerapp.webhooks.models import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("partnerapp sends a signed POST request here for each event."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            delivery.url_check(url)
        except delivery.AddressRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url
