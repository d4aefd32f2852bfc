from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuccessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "success"
    verbose_name = _("Success plans")
