"""The four default usage levels for workspaces that existed before levels did (new ones get them
when they are created: cs_platform.provisioning)."""

from django.db import migrations

LEVELS = {
    "en": [(1, "Onboarding", "Everything else: not yet using the product regularly.", {}),
           (2, "Established", "Used on 8 or more days in 30.", {"min_days_active": 8}),
           (3, "Adopted", "Used on 15 or more days in 30 by half the seats.",
            {"min_days_active": 15, "min_users_per_seat": 0.5}),
           (4, "Expanding", "Used on 20 or more days in 30 by 80 percent of the seats.",
            {"min_days_active": 20, "min_users_per_seat": 0.8})],
    "ja": [(1, "導入", "それ以外のすべて：まだ定常的に使われていない。", {}),
           (2, "定着", "30日中8日以上利用。", {"min_days_active": 8}),
           (3, "活用", "30日中15日以上、席数の半分以上が利用。", {"min_days_active": 15, "min_users_per_seat": 0.5}),
           (4, "拡大", "30日中20日以上、席数の80パーセント以上が利用。",
            {"min_days_active": 20, "min_users_per_seat": 0.8})],
}


def add_levels(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    UsageLevel = apps.get_model("lifecycle", "UsageLevel")
    for workspace in Workspace.objects.all():
        if UsageLevel._default_manager.filter(workspace=workspace).exists():
            continue
        levels = LEVELS["ja" if (workspace.language or "").startswith("ja") else "en"]
        UsageLevel._default_manager.bulk_create(UsageLevel(workspace=workspace, number=n, name=name, description=text, rules=rules)
                                       for n, name, text, rules in levels)


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial"), ("workspaces", "0008_workspace_language_and_user_preference")]
    operations = [migrations.RunPython(add_levels, migrations.RunPython.noop)]
