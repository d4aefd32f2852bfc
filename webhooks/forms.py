from django import forms
from django.utils.translation import gettext_lazy as _

from .events import EVENTS


class EndpointForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=500, widget=forms.URLInput,
                          help_text=_("HTTPS only. Addresses of private networks are refused."))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(label=_("Events"), choices=list(EVENTS.items()),
                                       widget=forms.CheckboxSelectMultiple)

    @staticmethod
    def initial_for(endpoint):
        return {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
