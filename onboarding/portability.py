"""What of onboarding travels in a workspace archive: the settings, the milestone plan, the
handoffs and the accounts' recorded milestones."""

from workspaces.transfer import Part, Table

from . import services
from .models import AccountMilestone, Handoff, MilestoneTemplate, OnboardingSettings

PART = Part("onboarding", [
    Table(OnboardingSettings),
    Table(MilestoneTemplate),
    Table(Handoff),
    Table(AccountMilestone, keep_ids=False),
], defaults=services.ensure_defaults)
