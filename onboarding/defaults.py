"""The default onboarding plan and settings of a new workspace, in its language (provisioning runs
in the workspace's language; afterwards they are the workspace's own rows, renamed freely)."""

from django.utils.translation import pgettext


def milestone_templates():
    """[{"key", "name", "target_day", "position"}] in the active language."""
    return [
        {"key": "kickoff", "name": pgettext("onboarding milestone", "Kickoff"), "target_day": 7, "position": 1},
        {"key": "hearing_sheet", "name": pgettext("onboarding milestone", "Hearing sheet"), "target_day": 14,
         "position": 2},
        {"key": "operational_design", "name": pgettext("onboarding milestone", "Operational design"),
         "target_day": 30, "position": 3},
        {"key": "first_success", "name": pgettext("onboarding milestone", "First success"), "target_day": 60,
         "position": 4},
        {"key": "report_card", "name": pgettext("onboarding milestone", "Report card"), "target_day": 90,
         "position": 5},
    ]
