from django import forms
from django.utils.translation import gettext_lazy as _

from segments.selectors import segments_of

from .models import KptKind, PeriodKind
from .selectors import playbook_choices

LEVEL_CHOICES = [(n, f"Lv{n}") for n in (1, 2, 3, 4)]


class PlanForm(forms.Form):
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("What the customer wants to achieve, in their words."))


class ObjectiveForm(forms.Form):
    text = forms.CharField(label=_("Objective"), max_length=300)
    kpi = forms.CharField(label=_("KPI"), max_length=200, required=False)
    target_date = forms.DateField(label=_("Target date"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    objective_level = forms.TypedChoiceField(label=_("Objective level"), choices=LEVEL_CHOICES, coerce=int, initial=3)
    achievement_level = forms.TypedChoiceField(label=_("Achievement level"), choices=LEVEL_CHOICES, coerce=int,
                                               initial=1)


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LevelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class KptNoteForm(forms.Form):
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period_start = forms.DateField(label=_("Day in the period"), widget=forms.DateInput(attrs={"type": "date"}),
                                   help_text=_("Any day of the week or month; the note is filed under its start."))
    kind = forms.ChoiceField(label=_("Kind"), choices=KptKind.choices)
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=None, required=False)
    playbook = forms.TypedChoiceField(label=_("Playbook"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segments_of(workspace=workspace)
        self.fields["playbook"].choices = [("", "---------")] + playbook_choices(workspace=workspace)

    def service_fields(self):
        data = dict(self.cleaned_data)
        data["playbook_id"] = data.pop("playbook")
        return data
