"""Every workspace now gets its ingestion settings when it is created (provisioning); before, a
workspace without a row used unsaved defaults. This creates the row for any that lack it."""

from django.db import migrations


def create_missing_defaults(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    IngestSettings = apps.get_model("usage", "IngestSettings")
    have = set(IngestSettings.all_workspaces.values_list("workspace_id", flat=True))
    IngestSettings.all_workspaces.bulk_create([
        IngestSettings(workspace_id=workspace_id)
        for workspace_id in Workspace.objects.values_list("pk", flat=True) if workspace_id not in have
    ])


class Migration(migrations.Migration):

    dependencies = [
        ("usage", "0008_ingest_settings_is_workspace_owned"),
    ]

    operations = [migrations.RunPython(create_missing_defaults, migrations.RunPython.noop)]
