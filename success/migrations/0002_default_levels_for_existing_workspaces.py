"""Every workspace now gets the four level definitions when it is created (provisioning); this writes
them, in each workspace's language, for the workspaces that existed before. Idempotent like
success.services.ensure_defaults: a level already written is kept."""

from django.conf import settings
from django.db import migrations
from django.utils import translation

from success.services import default_levels


def create_levels(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    LevelDefinition = apps.get_model("success", "LevelDefinition")
    for workspace in Workspace.objects.all():
        have = set(LevelDefinition.all_workspaces.filter(workspace=workspace).values_list("level", flat=True))
        with translation.override(workspace.language or settings.LANGUAGE_CODE):
            entries = [(level, str(name), str(description)) for level, name, description in default_levels()]
        for level, name, description in entries:
            if level not in have:
                LevelDefinition.all_workspaces.create(workspace=workspace, level=level, name=name,
                                                      description=description)


class Migration(migrations.Migration):

    dependencies = [
        ("success", "0001_initial"),
        ("workspaces", "0008_workspace_language_and_user_preference"),
    ]

    operations = [migrations.RunPython(create_levels, migrations.RunPython.noop)]
