"""Every workspace now gets its health settings and default scorecard when it is created
(provisioning); those created before got them lazily, on first use. This creates them for any that
lack them, so that reads never have to. The default definition is the one of this release: the
scorecard's version 1, which managers then edit into new versions."""

from django.db import migrations

from healthscore.definition import default_definition, validate_definition


def create_missing_defaults(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    HealthSettings = apps.get_model("healthscore", "HealthSettings")
    Scorecard = apps.get_model("healthscore", "Scorecard")
    ScorecardVersion = apps.get_model("healthscore", "ScorecardVersion")
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        if not HealthSettings.all_workspaces.filter(workspace_id=workspace_id).exists():
            HealthSettings.all_workspaces.create(workspace_id=workspace_id)
        if not Scorecard.all_workspaces.filter(workspace_id=workspace_id, is_default=True).exists():
            card = Scorecard.all_workspaces.create(workspace_id=workspace_id, is_default=True,
                                                   name="Default scorecard", priority=1000)
            ScorecardVersion.all_workspaces.create(
                workspace_id=workspace_id, scorecard=card, number=1,
                definition=validate_definition(default_definition()), note="Default measures and weights",
            )


class Migration(migrations.Migration):

    dependencies = [
        ("healthscore", "0003_scoped_managers"),
        ("workspaces", "0003_audit_names_tokens_and_the_system"),
    ]

    operations = [migrations.RunPython(create_missing_defaults, migrations.RunPython.noop)]
