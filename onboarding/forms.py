from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Contact, TouchTier

from .models import HANDOFF_FIELDS, Handoff, MilestoneTemplate

FIELD_LABELS = {
    "why_bought": _("Why they bought"), "objectives": _("Objectives"), "decision_maker": _("Decision maker"),
    "key_person": _("Key person"), "contract_terms": _("Contract terms"), "fit_criteria": _("Fit criteria"),
    "risks": _("Risks"),
}


class HandoffForm(forms.ModelForm):
    class Meta:
        model = Handoff
        fields = list(HANDOFF_FIELDS)
        labels = FIELD_LABELS
        widgets = {name: forms.Textarea(attrs={"rows": 3})
                   for name in ("why_bought", "objectives", "contract_terms", "fit_criteria", "risks")}

    def __init__(self, *args, account=None, required=(), **kwargs):
        super().__init__(*args, **kwargs)
        contacts = Contact.objects.for_workspace(account.workspace).filter(account=account).order_by("name")
        for name in ("decision_maker", "key_person"):
            self.fields[name].queryset = contacts
        for name in HANDOFF_FIELDS:
            # Required fields are marked, but a handoff may be saved half-filled: it is then incomplete.
            self.fields[name].required = False
            if name in required:
                self.fields[name].label = f"{self.fields[name].label} ★"
                self.fields[name].help_text = _("Required for the handoff to be complete.")


class SettingsForm(forms.Form):
    required_fields = forms.MultipleChoiceField(
        label=_("Required handoff fields"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(name, FIELD_LABELS[name]) for name in HANDOFF_FIELDS])
    handoff_gates_stage = forms.BooleanField(
        label=_("An account cannot leave the first lifecycle stage until its handoff is complete"), required=False)


class TemplateForm(forms.ModelForm):
    class Meta:
        model = MilestoneTemplate
        fields = ["key", "name", "target_day", "tier", "position"]
        widgets = {"target_day": forms.NumberInput(attrs={"class": "narrow"}),
                   "position": forms.NumberInput(attrs={"class": "narrow"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", _("Every tier")), *TouchTier.choices]


class MilestoneDoneForm(forms.Form):
    key = forms.SlugField(max_length=40, widget=forms.HiddenInput)
    done_on = forms.DateField(label=_("Done on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class UploadForm(forms.Form):
    KINDS = [("handoffs", _("Handoffs")), ("milestones", _("Milestone done days"))]
    kind = forms.ChoiceField(label=_("What the file holds"), choices=KINDS)
    file = forms.FileField(label=_("CSV or XLSX file"))
    dry_run = forms.BooleanField(label=_("Check only (save nothing)"), required=False)


class ReportForm(forms.Form):
    months = forms.IntegerField(label=_("Months"), min_value=1, max_value=36, required=False, initial=12,
                                widget=forms.NumberInput(attrs={"class": "narrow"}))
