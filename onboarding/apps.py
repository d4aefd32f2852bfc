from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"
    verbose_name = _("Onboarding")

    def ready(self):
        # The accounts writer asks, before an account leaves the first lifecycle stage, whether
        # something holds it back: the handoff gate answers (see services.stage_move_errors).
        from accounts.signals import stage_move_checks

        from .services import on_stage_move_checks

        stage_move_checks.connect(on_stage_move_checks, dispatch_uid="onboarding.stage_move_checks")
