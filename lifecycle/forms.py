"""Query and edit forms of the lifecycle pages and API (one form serves both)."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LEVELS
from .rules import RULES
from .selectors import DEFAULT_WEEKS, MAX_WEEKS


class WeeksForm(forms.Form):
    weeks = forms.IntegerField(label=_("Weeks"), required=False, min_value=2, max_value=MAX_WEEKS)

    def weeks_or_default(self):
        return self.cleaned_data.get("weeks") or DEFAULT_WEEKS


def form_errors(form):
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


class LevelsForm(forms.Form):
    """The four levels on one form: name, description and each rule's threshold per level."""

    def __init__(self, *args, levels=(), **kwargs):
        super().__init__(*args, **kwargs)
        by_number = {level.number: level for level in levels}
        for n in LEVELS:
            level = by_number.get(n)
            self.fields[f"lv{n}_name"] = forms.CharField(label=_("Name"), max_length=60,
                                                         initial=level.name if level else f"Lv{n}")
            self.fields[f"lv{n}_description"] = forms.CharField(label=_("Description"), max_length=300,
                                                                required=False,
                                                                initial=level.description if level else "")
            if n == 1:
                continue
            for rule, (_column, kind, label) in RULES.items():
                field_class = forms.IntegerField if kind is int else forms.FloatField
                field = field_class(label=label, required=False, min_value=0,
                                    initial=(level.rules or {}).get(rule) if level else None,
                                    widget=forms.NumberInput(attrs={"class": "width-6em", "step": "any"}))
                self.fields[f"lv{n}_{rule}"] = field

    def rows(self):
        out = []
        for n in LEVELS:
            out.append({"number": n, "name": self[f"lv{n}_name"], "description": self[f"lv{n}_description"],
                        "rules": [self[f"lv{n}_{rule}"] for rule in RULES] if n > 1 else []})
        return out

    def levels(self):
        data = self.cleaned_data
        return [{"number": n, "name": data[f"lv{n}_name"], "description": data.get(f"lv{n}_description") or "",
                 "rules": {rule: data[f"lv{n}_{rule}"] for rule in RULES
                           if n > 1 and data.get(f"lv{n}_{rule}") is not None}} for n in LEVELS]


def dumps(value):
    return json.dumps(value, ensure_ascii=False)
