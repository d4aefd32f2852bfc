"""Page forms for accounts, contacts, touchpoints and lifecycle stages.

Forms only parse and validate input; every write goes through `accounts.services`, whose
`DomainError` / `ValidationError` are put back on the form by `workspaces.pages.show_on_form`.
"""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.models import Membership, Role
from workspaces.policy import allows

from .models import Account, AccountStatus, Channel, ChurnReasonCategory, Contact, LifecycleStage, Sentiment
from .selectors import churn_reason_choices


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


def owner_choices(workspace):
    """Active members who can own accounts (viewers only read), with their users in one query."""
    return (
        Membership.objects.for_workspace(workspace)
        .filter(is_active=True)
        .exclude(role=Role.VIEWER)
        .select_related("user")
    )


class AccountForm(forms.ModelForm):
    """Create/edit an account. A CSM's owner field is fixed to themselves (they cannot reassign)."""

    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Comma-separated tags, e.g. enterprise, pilot."),
    )
    churn_reason = forms.ChoiceField(
        label=_("Churn reason"), required=False,
        help_text=_("Required when the status is churned. Managers edit the list of reasons."),
    )
    attributes = forms.JSONField(
        label=_("Custom attributes"), required=False,
        help_text=_('A JSON object, e.g. {"nps": 42}.'),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Account
        fields = [
            "name", "external_id", "domain", "owner", "arr", "plan", "licensed_seats", "contract_start",
            "renewal_date", "stage", "status", "churned_on", "churn_reason", "churn_note",
        ]
        widgets = {
            "contract_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "renewal_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "churned_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "churn_note": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"owner": MemberChoiceField}

    def __init__(self, *args, workspace, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.membership = membership
        owners = owner_choices(workspace)
        self.may_reassign = allows(membership, "accounts.reassign")
        if not self.may_reassign:
            # A CSM creates accounts for themselves and cannot hand one to someone else.
            owners = owners.filter(pk=membership.pk)
            self.fields["owner"].disabled = True
            self.fields["owner"].required = False
            self.initial["owner"] = membership.pk
        elif self.instance.pk and self.instance.owner_id and not self.instance.owner.is_active:
            # Keep a deactivated owner selectable so that editing other fields does not fail.
            owners = owners | Membership.objects.for_workspace(workspace).filter(pk=self.instance.owner_id).select_related("user")
        self.fields["owner"].queryset = owners
        self.fields["stage"].queryset = LifecycleStage.objects.for_workspace(workspace)
        # The reasons a churn may name now, and the account's own even if archived since.
        self.fields["churn_reason"].choices = [("", "---------"), *churn_reason_choices(
            workspace, current=self.instance.churn_reason)]
        # Model validators run in the service; repeat the cheap ones here so all errors show at once.
        self.fields["arr"].validators.append(MinValueValidator(0))
        self.fields["arr"].widget.attrs.update(min=0, step="any")
        if self.instance.pk:
            self.initial["tags"] = ", ".join(t.name for t in self.instance.tags.all())
        else:
            self.initial.setdefault("stage", self.fields["stage"].queryset.first())
        self.initial.setdefault("attributes", self.instance.attributes or {})

    def clean_tags(self):
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean_attributes(self):
        value = self.cleaned_data["attributes"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError(_("Enter a JSON object, e.g. {\"nps\": 42}."))
        return value

    def clean(self):
        data = super().clean()
        # The service says the same; saying it here shows it with the form's other errors.
        if data.get("status") == AccountStatus.CHURNED and not data.get("churn_reason") \
                and "churn_reason" not in self.errors:
            keeps = self.instance.pk and self.instance.status == AccountStatus.CHURNED and not self.instance.churn_reason
            if not keeps:
                self.add_error("churn_reason", _("Choose why the account churned."))
        return data

    def _post_clean(self):
        # Model validation runs in the service (full_clean), with the workspace set; skip it here.
        pass

    def service_kwargs(self):
        data = dict(self.cleaned_data)
        data["tags"] = data.pop("tags")
        if not self.may_reassign:
            data["owner"] = self.instance.owner if self.instance.pk else self.membership
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "title", "role", "is_key_person", "left_on"]
        widgets = {"left_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def _post_clean(self):
        pass


class TouchpointForm(forms.Form):
    """The quick "log a touchpoint" form at the top of the account page."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts"), queryset=Contact.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("Summary"), required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What was discussed, what happens next")}),
    )
    sentiment = forms.ChoiceField(label=_("Sentiment"), choices=Sentiment.choices, initial=Sentiment.NEUTRAL)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.for_workspace(account.workspace).filter(account=account)
        # Rendered inside the workspace's time zone (see base.html), so "now" reads as local time.
        self.fields["occurred_at"].initial = timezone.now().replace(second=0, microsecond=0)

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        # A few minutes of clock skew is fine; a touch logged a day ahead is a typo.
        if value > timezone.now() + dt.timedelta(days=1):
            raise ValidationError(_("A touchpoint cannot be in the future."))
        return value


class StageForm(forms.ModelForm):
    class Meta:
        model = LifecycleStage
        fields = ["name", "position", "target_share", "stuck_after_days"]
        widgets = {
            "name": forms.TextInput(attrs={"size": 24}),
            "position": forms.NumberInput(attrs={"min": 0, "class": "width-5em"}),
            "target_share": forms.NumberInput(attrs={"min": 0, "max": 100, "step": "0.1", "class": "width-6em"}),
            "stuck_after_days": forms.NumberInput(attrs={"min": 1, "max": 3650, "class": "width-6em"}),
        }

    def clean_stuck_after_days(self):
        value = self.cleaned_data["stuck_after_days"]
        if value is not None and not 1 <= value <= 3650:
            raise ValidationError(_("Enter a number of days between 1 and 3650."))
        return value

    def clean_target_share(self):
        value = self.cleaned_data["target_share"]
        if value is not None and not 0 <= value <= 100:
            raise ValidationError(_("Enter a share between 0 and 100."))
        return value

    def _post_clean(self):
        pass


class StageFormSet(forms.BaseModelFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        # An id outside this workspace's stages finds no instance here; never treat it as new.
        if any(form.instance.pk is None for form in self.initial_forms):
            raise ValidationError(_("A stage was not found. Reload the page and try again."))
        total = sum(
            (form.cleaned_data.get("target_share") or 0)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        if total > 100:
            raise ValidationError(_("Target shares add up to %(total)s%%; they must not exceed 100%%.")
                                  % {"total": total})


class ChurnReasonForm(forms.ModelForm):
    """One row of the churn reasons page: a new row's code may be left empty (made from the name)."""

    class Meta:
        model = ChurnReasonCategory
        fields = ["code", "name", "description", "counts_as_onboarding_failure", "position", "archived"]
        widgets = {
            "code": forms.TextInput(attrs={"size": 16}),
            "name": forms.TextInput(attrs={"size": 24}),
            "description": forms.TextInput(attrs={"size": 40}),
            "position": forms.NumberInput(attrs={"min": 0, "class": "width-5em"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        if self.instance.pk:
            self.fields["code"].disabled = True  # accounts store it: it never changes

    def _post_clean(self):
        pass


class ChurnReasonFormSet(forms.BaseModelFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        # An id outside this workspace's reasons finds no instance here; never treat it as new.
        if any(form.instance.pk is None for form in self.initial_forms):
            raise ValidationError(_("A churn reason was not found. Reload the page and try again."))
