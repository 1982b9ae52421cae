from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

SCOPE_CHOICES = [
    ("profile", _("Profile — who owns the account (always needed)")),
    ("invoice", _("Invoices — read and send invoices")),
    ("contact", _("Contacts — read customer contacts")),
    ("offer", _("Offers")),
    ("delivery_note", _("Delivery notes")),
    ("order_confirmation", _("Order confirmations")),
    ("letter", _("Letters")),
]


class ConnectForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        label=_("Access partnerapp asks for"),
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=lambda: settings.SMARTBUSINESS_DEFAULT_SCOPES.split(),
    )

    def clean_scopes(self) -> list[str]:
        scopes = self.cleaned_data["scopes"]
        if "profile" not in scopes:
            raise forms.ValidationError(
                _("The profile scope is needed to know which account you connected.")
            )
        return scopes


class OwnAccountForm(forms.Form):
    client_id = forms.CharField(label=_("Client id"), max_length=200)
    client_secret = forms.CharField(
        label=_("Client secret"), max_length=500, widget=forms.PasswordInput(render_value=False)
    )
    scopes = forms.MultipleChoiceField(
        label=_("Access partnerapp uses"),
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=lambda: settings.SMARTBUSINESS_DEFAULT_SCOPES.split(),
    )

    def clean_scopes(self) -> list[str]:
        return ConnectForm.clean_scopes(self)


class ConnectLinkForm(forms.Form):
    """What a member asks a client for (connections/links.py `link_create`)."""

    client_name = forms.CharField(label=_("Client"), max_length=200)
    client_email = forms.EmailField(
        label=_("Client's e-mail (optional)"),
        required=False,
        help_text=_("Given an address, partnerapp can e-mail the link for you."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Access to ask for"),
        choices=SCOPE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=lambda: settings.SMARTBUSINESS_DEFAULT_SCOPES.split(),
    )
    message = forms.CharField(
        label=_("Why (shown to the client, optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    language = forms.ChoiceField(label=_("Client's language"), choices=settings.LANGUAGES)

    def clean_scopes(self) -> list[str]:
        return ConnectForm.clean_scopes(self)
