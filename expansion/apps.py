from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpansionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "expansion"
    verbose_name = _("Expansion toss-ups")
