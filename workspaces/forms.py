"""Page forms for members, invitations and API tokens. Writes go through `workspaces.services`."""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Role


class InviteForm(forms.Form):
    """An admin invites an e-mail address; whether it has a login already is nobody's business here."""

    email = forms.EmailField(label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CSM)


class InvitationSignUpForm(UserCreationForm):
    """A new login for the invitee: a username and a password that passes the password validators
    (which also compare it with the invited e-mail address)."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    class Meta(UserCreationForm.Meta):
        fields = ("username", "first_name", "last_name")

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.email = email
        self.fields["username"].widget.attrs.pop("autofocus", None)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Salesforce sync")}),
    )
