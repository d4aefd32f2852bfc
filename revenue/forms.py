"""The revenue question: a window [start, end), by a preset or typed dates. The page, its downloads, the
drill-down and the API read it alike; an error names the field."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import KINDS, MAX_DAYS, window_presets

PRESET_KEYS = ("this_quarter", "last_quarter", "last_12_months", "this_year", "last_year")
DEFAULT_PRESET = "last_quarter"


class WindowForm(forms.Form):
    preset = forms.ChoiceField(label=_("Window"), required=False, choices=[])
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("Until (not included)"), required=False)

    def __init__(self, data=None, *, workspace, **kwargs):
        super().__init__(data, **kwargs)
        self.workspace = workspace
        self.presets = window_presets(workspace.today())
        self.fields["preset"].choices = [("", _("Custom dates"))] + [
            (key, label) for key, (label, _start, _end) in self.presets.items()]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        preset = cleaned.get("preset")
        if start is None and end is None:
            preset = preset or DEFAULT_PRESET
        if preset:
            _label, start, end = self.presets[preset]
        elif start is None:
            self.add_error("start", _("Give a start date, or choose a window."))
            return cleaned
        elif end is None:
            self.add_error("end", _("Give an end date, or choose a window."))
            return cleaned
        if end <= start:
            self.add_error("end", _("The end must be after the start."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("end", _("A window is at most %(days)s days.") % {"days": MAX_DAYS})
        cleaned.update(preset=preset or "", start=start, end=end)
        return cleaned


class BreakdownForm(WindowForm):
    by = forms.ChoiceField(label=_("Breakdown"), required=False, choices=[
        ("", _("None")), ("segment", _("Segment")), ("tier", _("Touch tier")), ("csm", _("CSM")),
        ("cohort", _("Cohort"))])


class MovementForm(WindowForm):
    kind = forms.ChoiceField(label=_("Movement"), required=False, choices=[(kind, kind) for kind in KINDS])
    step = forms.DateField(label=_("Month starting"), required=False,
                           help_text=_("Only the movements of the step starting on this day."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All"))] + list(kind_labels().items())


def kind_labels():
    return {"new": _("New"), "expansion": _("Expansion"), "reactivation": _("Reactivation"),
            "contraction": _("Contraction"), "churn": _("Churn")}


def form_errors(form):
    """{field: [messages]} for a 400 naming the fields."""
    return {name: [error["message"] for error in errors] for name, errors in form.errors.get_json_data().items()}

