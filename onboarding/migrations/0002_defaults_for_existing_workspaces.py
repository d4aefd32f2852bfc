"""Every workspace now gets the onboarding settings and the default milestone plan when it is
created (provisioning); this creates them, in each workspace's language, for the workspaces that
existed before. Idempotent like onboarding.services.ensure_defaults."""

from django.conf import settings
from django.db import migrations
from django.utils import translation

from onboarding.defaults import milestone_templates


def create_defaults(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    OnboardingSettings = apps.get_model("onboarding", "OnboardingSettings")
    MilestoneTemplate = apps.get_model("onboarding", "MilestoneTemplate")
    have_settings = set(OnboardingSettings.all_workspaces.values_list("workspace_id", flat=True))
    OnboardingSettings.all_workspaces.bulk_create([
        OnboardingSettings(workspace_id=pk, required_fields=["why_bought", "objectives", "decision_maker"])
        for pk in Workspace.objects.exclude(pk__in=have_settings).values_list("pk", flat=True)])
    existing = set(MilestoneTemplate.all_workspaces.filter(tier="").values_list("workspace_id", "key"))
    for workspace in Workspace.objects.all():
        with translation.override(workspace.language or settings.LANGUAGE_CODE):
            rows = milestone_templates()
        MilestoneTemplate.all_workspaces.bulk_create([
            MilestoneTemplate(workspace=workspace, tier="", **row) for row in rows
            if (workspace.pk, row["key"]) not in existing])


class Migration(migrations.Migration):

    dependencies = [
        ("onboarding", "0001_initial"),
        ("workspaces", "0008_workspace_language_and_user_preference"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
