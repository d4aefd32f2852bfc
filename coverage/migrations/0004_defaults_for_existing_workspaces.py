"""Every workspace now gets its touch model and tier cadence policies when it is created (provisioning);
those created before got them lazily, on first use. This creates them for any that lack them, so
that reads never have to. The defaults are written out here: a migration must not depend on code
that will change."""

from django.db import migrations

ONE_TO_ONE = ["phone", "video_meeting", "onsite_meeting", "email", "chat"]
EVERY_CHANNEL = [*ONE_TO_ONE, "webinar", "seminar", "newsletter", "in_app", "user_event"]
DEFAULT_POLICIES = [
    ("high", "High touch: every 30 days", 30, ONE_TO_ONE),
    ("low", "Low touch: every 90 days", 90, ONE_TO_ONE),
    ("tech", "Tech touch: every 180 days", 180, EVERY_CHANNEL),
]


def create_missing_defaults(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    TouchModel = apps.get_model("coverage", "TouchModel")
    CadencePolicy = apps.get_model("coverage", "CadencePolicy")
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        if not TouchModel.all_workspaces.filter(workspace_id=workspace_id).exists():
            TouchModel.all_workspaces.create(workspace_id=workspace_id)
        existing = set(CadencePolicy.all_workspaces.filter(workspace_id=workspace_id).exclude(tier="")
                       .values_list("tier", flat=True))
        CadencePolicy.all_workspaces.bulk_create([
            CadencePolicy(workspace_id=workspace_id, tier=tier, name=name, max_gap_days=days, channels=channels)
            for tier, name, days, channels in DEFAULT_POLICIES if tier not in existing
        ])


class Migration(migrations.Migration):

    dependencies = [
        ("coverage", "0003_scoped_managers"),
        ("workspaces", "0003_audit_names_tokens_and_the_system"),
    ]

    operations = [migrations.RunPython(create_missing_defaults, migrations.RunPython.noop)]
