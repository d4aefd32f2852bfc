from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlaybooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "playbooks"
    verbose_name = _("Playbooks and tasks")

    def ready(self):
        # Event triggers enrol at once: the accounts writers announce, the engine evaluates the
        # playbooks that event can change, for those accounts, in the writing transaction.
        from accounts.signals import account_created, contact_left, stage_changed

        from .engine import on_account_created, on_contact_left, on_stage_changed

        account_created.connect(on_account_created, dispatch_uid="playbooks.account_created")
        stage_changed.connect(on_stage_changed, dispatch_uid="playbooks.stage_changed")
        contact_left.connect(on_contact_left, dispatch_uid="playbooks.contact_left")
