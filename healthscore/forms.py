"""Forms of the health pages. The scorecard editor is a flat form over the definition's tree."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import TouchTier

from .definition import MEASURE_KINDS
from .models import SentimentReason

SENTIMENT_RUBRIC = [
    # (rating, what it means): shared criteria, so that two CSMs rate the same account alike.
    (5, _("Advocate: sees clear value, sponsor engaged, expanding or referencing us.")),
    (4, _("Healthy: goals on track, regular contact with the key person, no open issues.")),
    (3, _("Neutral: using as planned, but value not yet proven or contact thin.")),
    (2, _("At risk: adoption stalled, key person unresponsive, or an open escalation.")),
    (1, _("Critical: said they may leave, budget cut, or evaluating a competitor.")),
]


class SentimentForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Sentiment"), coerce=int,
                                    choices=[(r, f"{r} – {text}") for r, text in SENTIMENT_RUBRIC],
                                    widget=forms.RadioSelect)
    reasons = forms.MultipleChoiceField(label=_("Reasons"), choices=SentimentReason.choices, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class HealthSettingsForm(forms.Form):
    key_features = forms.CharField(label=_("Key features (event names, comma-separated)"), required=False)
    sentiment_stale_days = forms.IntegerField(label=_("Sentiment goes stale after (days)"), min_value=1,
                                              max_value=365)
    alert_drop_points = forms.IntegerField(label=_("Alert on a drop of (points within 30 days)"), min_value=1,
                                           max_value=100)
    alert_weekly_budget = forms.IntegerField(label=_("Alerts pushed per CSM and week (accounts)"), min_value=0,
                                             max_value=100)


class NewScorecardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    priority = forms.IntegerField(label=_("Priority (lower wins)"), min_value=0, max_value=999, initial=10)
    tiers = forms.MultipleChoiceField(label=_("Applies to tiers"), choices=TouchTier.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    segments = forms.MultipleChoiceField(label=_("Applies to segments"), choices=[], required=False,
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, segment_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segments"].choices = list(segment_choices)


def _float(data, name, errors, default=None):
    raw = (data.get(name) or "").strip()
    if raw == "":
        if default is not None:
            return default
        errors[name] = _("Enter a number.")
        return 0.0
    try:
        return float(raw)
    except ValueError:
        errors[name] = _("Enter a number.")
        return 0.0


def definition_from_post(data, base):
    """Rebuild a definition from the editor's fields; returns (definition, {field: error})."""
    errors = {}
    definition = {
        "bands": {"red": _float(data, "bands.red", errors), "green": _float(data, "bands.green", errors)},
        "min_available_weight": _float(data, "min_available_weight", errors) / 100,
        "groups": [],
    }
    for group in base["groups"]:
        gkey = group["key"]
        new_group = {"key": gkey, "label": group.get("label") or gkey,
                     "weight": _float(data, f"group.{gkey}.weight", errors), "measures": []}
        for m in group["measures"]:
            prefix = f"measure.{m['key']}"
            if data.get(f"{prefix}.remove"):
                continue
            rule_type = data.get(f"{prefix}.type", m["rule"]["type"])
            if rule_type == "linear":
                rule = {"type": "linear", "low": _float(data, f"{prefix}.low", errors),
                        "high": _float(data, f"{prefix}.high", errors)}
            else:
                direction = data.get(f"{prefix}.direction", "higher")
                steps = []
                for part in (data.get(f"{prefix}.steps") or "").split(","):
                    if not part.strip():
                        continue
                    try:
                        at, points = (float(x) for x in part.split(":"))
                        steps.append({"at": at, "points": points})
                    except ValueError:
                        errors[f"{prefix}.steps"] = _("Write steps as value:points, separated by commas.")
                rule = {"type": "thresholds", "direction": direction, "steps": steps,
                        ("below" if direction == "higher" else "above"): _float(data, f"{prefix}.otherwise",
                                                                                errors, default=0.0)}
            new_group["measures"].append({**m, "weight": _float(data, f"{prefix}.weight", errors), "rule": rule})
        definition["groups"].append(new_group)
    kind = data.get("new.kind")
    if kind:
        key = (data.get("new.key") or "").strip() or kind
        group_key = data.get("new.group") or MEASURE_KINDS.get(kind, (None, None, "usage"))[2]
        target = next((g for g in definition["groups"] if g["key"] == group_key), None)
        if target is None:
            target = {"key": group_key, "label": group_key.title(), "weight": 10, "measures": []}
            definition["groups"].append(target)
        params = {"attribute": (data.get("new.attribute") or "").strip()} if kind == "custom_attribute" else {}
        # NPS answers run 0-10; every other new measure starts on 0-1 and is tuned on the page.
        high = 10 if kind == "latest_nps" else 1
        rule = {"type": "linear", "low": 0, "high": high}
        if kind == "success_plan_gap":  # lower is better: no gap 100 points, 4 levels short or more 0
            rule = {"type": "linear", "low": 4, "high": 0}
        target["measures"].append({"key": key, "kind": kind, "weight": _float(data, "new.weight", errors, 10.0),
                                   "params": params, "rule": rule})
    return definition, errors
