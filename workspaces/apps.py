from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    verbose_name = _("Workspaces")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .language import read_at_sign_in

        user_logged_in.connect(read_at_sign_in, dispatch_uid="workspaces.language.read_at_sign_in")
