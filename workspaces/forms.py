"""Page forms for members and API tokens. Writes go through `workspaces.services`."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Membership, Role


class AddMemberForm(forms.Form):
    """Add a user who already has a login (e.g. a member of another workspace)."""

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CSM)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise ValidationError(_("No user with this username. Create a new user below instead."))
        membership = Membership.objects.for_workspace(self.workspace).filter(user=user).first()
        if membership is not None and membership.is_active:
            raise ValidationError(_("This user is already a member of the workspace."))
        self.user = user
        return username


class NewUserForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CSM)

    def clean_username(self):
        # Whether the name is free is the service's rule (it must never touch an existing login).
        return self.cleaned_data["username"].strip()

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            user = get_user_model()(
                username=data.get("username", ""), first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""), email=data.get("email", ""),
            )
            try:
                validate_password(password, user)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Salesforce sync")}),
    )
