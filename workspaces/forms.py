"""Page forms for members, invitations and API tokens. Writes go through `workspaces.services`."""

from django import forms
from django.conf import settings
from django.conf.locale import LANG_INFO
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


def language_options():
    """(code, the language's own name): 日本語 reads as 日本語 whatever the page's language."""
    return [(code, LANG_INFO.get(code, {}).get("name_local", str(name))) for code, name in settings.LANGUAGES]


class ProfileForm(forms.Form):
    """A person's own settings. Nothing here touches a workspace, a role or a password."""

    language = forms.ChoiceField(
        label=_("Language"), required=False,
        help_text=_("Pages and messages are shown in this language. "
                    "“Browser's language” follows your browser's setting."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser's language")), *language_options()]
