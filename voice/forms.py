"""Forms of the voice pages, and the NPS report's query (shared by the page and the API)."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Contact, TouchTier
from segments.selectors import segments_of
from workspaces.filtersets import sane_day

from .models import EvidenceSource, RequestStatus, SurveyKind
from .selectors import requests_for_choice


class FeatureRequestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    external_id = forms.CharField(label=_("External ID"), max_length=100, required=False,
                                  help_text=_("The product team's ID (issue tracker), optional."))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=RequestStatus.choices)


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(label=_("Merge into"), queryset=None,
                                  help_text=_("Its evidence moves there and this request is deleted."))

    def __init__(self, *args, workspace, exclude=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = requests_for_choice(workspace=workspace)
        self.fields["into"].queryset = choices.exclude(pk=exclude) if exclude else choices


class EvidenceForm(forms.Form):
    """Evidence from one account: for an existing request, or a new one named by `new_title`."""

    request = forms.ModelChoiceField(label=_("Feature request"), queryset=None, required=False)
    new_title = forms.CharField(label=_("…or a new feature request"), max_length=200, required=False)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False)
    quote = forms.CharField(label=_("Quote"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("What the customer said, in their words."))
    date = forms.DateField(label=_("Date"), validators=[sane_day], widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ChoiceField(label=_("Source"), choices=EvidenceSource.choices)

    def __init__(self, *args, workspace, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request"].queryset = requests_for_choice(workspace=workspace)
        self.fields["contact"].queryset = Contact.objects.for_workspace(workspace).filter(account=account)
        self.fields["date"].initial = workspace.today()

    def clean(self):
        data = super().clean()
        if not data.get("request") and not (data.get("new_title") or "").strip():
            self.add_error("request", _("Choose a feature request or name a new one."))
        return data


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))


PERIOD_CHOICES = [("month", _("Month")), ("quarter", _("Quarter"))]
GROUP_CHOICES = [("segment", _("Segment")), ("tier", _("Touch tier"))]


class NpsQueryForm(forms.Form):
    """The NPS report's question: which survey, by month or quarter, over which days, of which accounts."""

    kind = forms.ChoiceField(label=_("Survey"), choices=SurveyKind.choices, required=False)
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    start = forms.DateField(label=_("From"), required=False, validators=[sane_day],
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, validators=[sane_day],
                          widget=forms.DateInput(attrs={"type": "date"}))
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=None, required=False)
    tier = forms.ChoiceField(label=_("Touch tier"), choices=[("", "—"), *TouchTier.choices], required=False)
    group_by = forms.ChoiceField(label=_("Compare by"), choices=GROUP_CHOICES, required=False)

    MAX_DAYS = 366 * 5

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["segment"].queryset = segments_of(workspace=workspace)

    def clean(self):
        data = super().clean()
        today = self.workspace.today()
        end = data.get("end") or today
        start = data.get("start")
        if start is None:
            # Twelve whole months up to the end's month.
            month = end.month % 12 + 1
            start = dt.date(end.year - (1 if month != 1 else 0), month, 1)
        if start > end:
            self.add_error("start", _("The first day must not be after the last."))
        elif (end - start).days > self.MAX_DAYS:
            self.add_error("start", _("At most five years at a time."))
        data["start"], data["end"] = start, end
        data["kind"] = data.get("kind") or SurveyKind.NPS
        data["period"] = data.get("period") or "month"
        data["group_by"] = data.get("group_by") or "segment"
        return data
