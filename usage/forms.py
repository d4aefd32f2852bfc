from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import MAPPABLE_ACCOUNT_FIELDS


class WriteKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. the app that sends events"))


def _trait_mapping_help():
    return gettext("One “trait = field” per line; the fields: %(fields)s.") % {"fields": ", ".join(MAPPABLE_ACCOUNT_FIELDS)}


class IngestSettingsForm(forms.Form):
    create_unknown_accounts = forms.BooleanField(
        label=_("Group calls create accounts we don't know yet"), required=False,
        help_text=_("Off: unknown groupIds are remembered and their events wait until the account exists."),
    )
    trait_mapping = forms.CharField(
        label=_("Group trait → account field"), widget=forms.Textarea(attrs={"rows": 6}), required=False,
        # Lazy as a whole: "%" on a lazy string translates it once, when this module is imported.
        help_text=lazy(_trait_mapping_help, str)(),
    )
    numeric_traits_to_attributes = forms.BooleanField(
        label=_("Keep other numeric group traits as account attributes"), required=False,
    )
    retention_days = forms.IntegerField(
        label=_("Keep raw events for (days)"), min_value=7, max_value=3650,
        help_text=_("Daily rollups are kept for good."),
    )

    @staticmethod
    def mapping_text(mapping):
        return "\n".join(f"{trait} = {field}" for trait, field in mapping.items())


class HistoryUploadForm(forms.Form):
    file = forms.FileField(label=_("History file (CSV or NDJSON)"),
                           help_text=_("A CSV file with the columns listed above, or an NDJSON file: one Segment "
                                       "call per line."))


MAX_REBUILD_DAYS = 3_660


class RebuildForm(forms.Form):
    first_day = forms.DateField(label=_("From"))
    last_day = forms.DateField(label=_("To"))

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last:
            if first > last:
                self.add_error("last_day", _("The last day is before the first."))
            elif (last - first).days >= MAX_REBUILD_DAYS:
                self.add_error("last_day", _("At most %(n)d days at once.") % {"n": MAX_REBUILD_DAYS})
        return data
