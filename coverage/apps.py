from django.apps import AppConfig


class CoverageConfig(AppConfig):
    """Touch coverage (接触率): the touch model and tiers, cadence policies, the daily snapshot of
    every account, and the reports, due list and priority matrix that read it."""

    name = "coverage"
    label = "coverage"

    def ready(self):
        from accounts.signals import account_deleting, touchpoints_changed

        from .computation import forget_coverage_of_deleted_account, refresh_coverage_after_touches

        account_deleting.connect(forget_coverage_of_deleted_account, dispatch_uid="coverage.forget_deleted_account")
        touchpoints_changed.connect(refresh_coverage_after_touches, dispatch_uid="coverage.refresh_after_touches")
