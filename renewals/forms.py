from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Outcome


class OutcomeForm(forms.Form):
    """What happened at a line's renewal. The service validates the combination (renewals.services)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    new_mrr = forms.DecimalField(label=_("New MRR"), required=False, min_value=0, max_digits=16, decimal_places=2,
                                 help_text=_("The MRR of the renewed line (required when renewed)."))
    quantity = forms.IntegerField(label=_("New quantity"), required=False, min_value=0, max_value=2_000_000_000,
                                  help_text=_("Empty: the same quantity as before."))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    churn_reason = forms.ChoiceField(label=_("Churn reason"), required=False)
    churn_note = forms.CharField(label=_("Churn note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["churn_reason"].choices = [("", "—"), *reasons]
