from django.apps import AppConfig


class CoverageConfig(AppConfig):
    """Touch coverage (接触率): the touch model and tiers, cadence policies, the daily snapshot of
    every account, and the reports, due list and priority matrix that read it."""

    name = "coverage"
    label = "coverage"
