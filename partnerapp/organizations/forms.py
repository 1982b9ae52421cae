from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from partnerapp.organizations import mfa
from partnerapp.organizations.models import Membership, Organization
from partnerapp.organizations.notifications import EVENTS


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "require_mfa", "audit_retention_days"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_require_mfa(self):
        wanted = self.cleaned_data["require_mfa"]
        if wanted and not self.instance.require_mfa and not mfa.has_two_factor(self.user):
            # the rule would lock out the very member who turns it on
            raise forms.ValidationError(
                _("Set up two-factor sign-in for yourself first, then ask it of everyone.")
            )
        return wanted

    def clean_audit_retention_days(self):
        days = self.cleaned_data["audit_retention_days"]
        if not 30 <= days <= 3650:
            raise forms.ValidationError(_("Keep the audit log between 30 and 3650 days."))
        return days


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(value, capfirst(label)) for value, label in roles]
        self.fields["role"].initial = Membership.Role.OPERATOR


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class NotifyForm(forms.Form):
    events = forms.MultipleChoiceField(
        label=_("E-mail me when"),
        choices=list(EVENTS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class DeleteForm(forms.Form):
    name = forms.CharField(label=_("Type the organization's name to confirm"), max_length=200)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_name(self):
        if self.cleaned_data["name"].strip() != self.organization.name:
            raise forms.ValidationError(_("The name does not match."))
        return self.cleaned_data["name"]
