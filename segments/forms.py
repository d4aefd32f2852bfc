import json

from django import forms
from django.utils.translation import gettext_lazy as _


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    rules = forms.CharField(
        label=_("Rules (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono", "data-rules-input": "1"}),
        help_text=_("Edited by the builder above; you may also write the JSON directly."),
    )

    def clean_rules(self):
        text = (self.cleaned_data.get("rules") or "").strip()
        if not text:
            return {"op": "and", "conditions": []}
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            # Where, not Python's English reason ("Expecting property name enclosed in double quotes").
            raise forms.ValidationError(_("This is not valid JSON (line %(line)s, column %(column)s).")
                                        % {"line": exc.lineno, "column": exc.colno}) from exc

    @staticmethod
    def initial_for(segment):
        return {"name": segment.name, "description": segment.description,
                "rules": json.dumps(segment.rules, ensure_ascii=False, indent=1)}
