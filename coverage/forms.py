
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Channel, ContactRole, TouchTier
from segments.selectors import segments_of

from .models import MatrixUsers


class TouchModelForm(forms.Form):
    high_min_arr = forms.DecimalField(label=_("High touch from ARR"), min_value=0, max_digits=16, decimal_places=2)
    low_min_arr = forms.DecimalField(label=_("Low touch from ARR"), min_value=0, max_digits=16, decimal_places=2)
    seat_bands = forms.CharField(
        label=_("Seat bands (label:minimum seats)"), help_text=_("e.g. A:21, B:11, C:6, D:1"),
    )
    tenure_bands = forms.CharField(
        label=_("Tenure bands (label:minimum months)"), help_text=_("e.g. a:0, b:4, c:8, d:12"),
    )
    matrix_users = forms.ChoiceField(
        label=_("The matrix's IDs count"), choices=MatrixUsers.choices, required=False,
        help_text=_("Active users: distinct people with usage in the last 30 days. Licensed seats: what the contract allows."),
    )

    def clean(self):
        data = super().clean()
        high, low = data.get("high_min_arr"), data.get("low_min_arr")
        if high is not None and low is not None and high < low:
            self.add_error("high_min_arr", _("The high-touch threshold must not be below the low-touch threshold."))
        return data


class CadencePolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=segments_of(workspace=None), required=False)
    priority = forms.IntegerField(label=_("Priority (lower wins)"), min_value=0, max_value=1000, initial=100)
    max_gap_days = forms.IntegerField(label=_("Longest gap between touches (days)"), min_value=1, max_value=3650)
    channels = forms.MultipleChoiceField(
        label=_("Qualifying channels"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, workspace, tier="", **kwargs):
        super().__init__(*args, **kwargs)
        self.tier = tier
        if tier:
            del self.fields["segment"]
            del self.fields["priority"]
        else:
            self.fields["segment"].queryset = segments_of(workspace=workspace)
            self.fields["segment"].required = True


class CadenceRuleForm(forms.Form):
    name = forms.CharField(label=_("Rule"), max_length=120)
    channels = forms.MultipleChoiceField(label=_("Channels"), choices=Channel.choices,
                                         widget=forms.CheckboxSelectMultiple)
    contact_role = forms.ChoiceField(label=_("With a contact of role"), required=False,
                                     choices=[("", _("anyone"))] + list(ContactRole.choices))
    max_gap_days = forms.IntegerField(label=_("Every (days)"), min_value=1, max_value=3650)


CadenceRuleFormSet = forms.formset_factory(CadenceRuleForm, extra=1, can_delete=True)


class PinForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), choices=TouchTier.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)
