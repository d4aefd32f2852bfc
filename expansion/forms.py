"""Forms of the toss-up pages: log/edit, change status, and the KPI period. Forms parse; the services
(expansion.services) decide what is allowed. Choices are the workspace's."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from workspaces.filtersets import sane_day
from workspaces.models import Membership
from workspaces.policy import allows

from .models import TRANSITIONS, Opportunity, OpportunityStatus
from .periods import PeriodKind

DATE = {"type": "date"}


def _members(workspace):
    return Membership.objects.for_workspace(workspace).filter(is_active=True).select_related("user").order_by(
        "user__first_name", "user__last_name", "id")


class OpportunityForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = ["account", "kind", "estimated_mrr", "handed_to", "handed_to_name", "handed_over_on", "raised_by",
                  "note", "external_id"]
        widgets = {
            "handed_over_on": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"handed_to": _("Account executive (member)"),
                  "handed_to_name": _("Account executive (name in the CRM)")}

    def __init__(self, *args, workspace, membership, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = Account.objects.for_workspace(workspace).order_by("name", "id")
        if not membership.is_manager and not self.instance.pk:  # a CSM logs toss-ups on the accounts they own
            accounts = accounts.filter(owner=membership)
        self.fields["account"].queryset = accounts
        for name in ("handed_to", "raised_by"):
            self.fields[name].queryset = _members(workspace)
            self.fields[name].label_from_instance = lambda m: m.display_name
        self.fields["handed_to"].empty_label = _("Not a member (name below)")
        self.fields["raised_by"].required = True
        if not allows(membership, "opportunities.credit_others"):
            self.fields["raised_by"].disabled = True  # a CSM's toss-ups are their own
        if self.instance.pk:
            self.fields["account"].disabled = True

    def service_kwargs(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=OpportunityStatus.choices)
    won_mrr = forms.DecimalField(label=_("Won MRR"), required=False, min_value=0, max_digits=16, decimal_places=2,
                                 help_text=_("Required when won."))
    lost_reason = forms.CharField(label=_("Lost reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    closed_on = forms.DateField(label=_("Closed on"), required=False, validators=[sane_day],
                                widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
                                help_text=_("Won or lost: today when left empty."))

    def __init__(self, *args, opportunity, **kwargs):
        kwargs.setdefault("initial", {"status": opportunity.status, "won_mrr": opportunity.won_mrr,
                                      "lost_reason": opportunity.lost_reason, "closed_on": opportunity.closed_on})
        super().__init__(*args, **kwargs)
        # Only where the toss-up may go from here (models.TRANSITIONS), and where it is.
        allowed = {opportunity.status, *TRANSITIONS.get(opportunity.status, ())}
        self.fields["status"].choices = [(v, label) for v, label in OpportunityStatus.choices if v in allowed]


class KpiPeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False)
    day = forms.DateField(label=_("Month or quarter of"), required=False, validators=[sane_day],
                          widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    start = forms.DateField(label=_("From"), required=False, validators=[sane_day],
                            widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To"), required=False, validators=[sane_day],
                          widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("period") == PeriodKind.CUSTOM:
            if not data.get("start") or not data.get("end"):
                self.add_error("start", _("A custom range needs a first and a last day."))
            elif data["end"] < data["start"]:
                self.add_error("end", _("The last day is before the first."))
        return data
