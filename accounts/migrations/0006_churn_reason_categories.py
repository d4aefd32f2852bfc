"""Churn reasons become each workspace's own list (ChurnReasonCategory) instead of fixed choices.

Every existing workspace gets the ten reasons the fixed list had, with the same codes, named in the
workspace's language, so every account keeps its reason as it is. A code an account holds that the
list never had (written around the choices) becomes an archived reason named by its code, so that
history still names it. The names are spelled out here: a migration must not depend on code (or
translations) that will change.
"""

import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

# (code, English name, Japanese name, English description, Japanese description, onboarding failure)
DEFAULTS = [
    ("onboarding_failure", "Onboarding failure", "オンボーディング失敗",
     "Never went live, or never reached the first value.", "本稼働に至らなかった、または最初の価値に届かなかった。", True),
    ("low_usage", "Low usage / no value seen", "低利用・価値を感じていない",
     "Live, but too few users or too little use to see the value.", "稼働したが、利用者や利用が少なく価値を感じられなかった。",
     False),
    ("champion_left", "Champion left", "推進者の離任",
     "The person who drove the product left or changed role.", "製品を推進していた人が退職・異動した。", False),
    ("budget", "Budget cut", "予算削減",
     "The customer cut spending; the product was not the problem.", "顧客側の予算削減（製品に問題があったわけではない）。", False),
    ("price", "Price", "価格", "The price was too high for the value they saw.", "感じた価値に対して価格が高すぎた。", False),
    ("competitor", "Moved to a competitor", "競合への乗り換え", "Replaced by another vendor's product.",
     "他社製品に置き換えられた。", False),
    ("product_gap", "Missing features", "機能不足", "Needed something the product does not do.",
     "製品にない機能が必要だった。", False),
    ("support", "Support experience", "サポートへの不満", "Unhappy with support or service.",
     "サポートやサービスに不満があった。", False),
    ("business_closed", "Business closed or acquired", "事業終了・買収",
     "The customer's business closed, merged or was acquired.", "顧客の事業が終了・合併・買収された。", False),
    ("other", "Other", "その他", "Any other reason: say which in the churn note.", "その他の理由（解約メモに具体的に記入）。",
     False),
]


def create_reasons(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    Account = apps.get_model("accounts", "Account")
    Reason = apps.get_model("accounts", "ChurnReasonCategory")
    for workspace in Workspace.objects.all():
        existing = set(Reason.all_workspaces.filter(workspace=workspace).values_list("code", flat=True))
        japanese = (workspace.language or settings.LANGUAGE_CODE).startswith("ja")
        rows = [
            Reason(workspace=workspace, code=code, name=ja if japanese else en,
                   description=ja_description if japanese else en_description,
                   counts_as_onboarding_failure=onboarding, position=i)
            for i, (code, en, ja, en_description, ja_description, onboarding) in enumerate(DEFAULTS)
            if code not in existing
        ]
        known = existing | {row.code for row in rows}
        used = set(Account.all_workspaces.filter(workspace=workspace).exclude(churn_reason="")
                   .values_list("churn_reason", flat=True).distinct())
        rows += [Reason(workspace=workspace, code=code, name=code, position=len(DEFAULTS) + i, archived=True)
                 for i, code in enumerate(sorted(used - known))]
        Reason.all_workspaces.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_contract_lines'),
        ('workspaces', '0008_workspace_language_and_user_preference'),
    ]

    operations = [
        migrations.AlterField(
            model_name='account',
            name='churn_reason',
            field=models.CharField(blank=True, max_length=30, verbose_name='churn reason'),
        ),
        migrations.CreateModel(
            name='ChurnReasonCategory',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(help_text='What accounts, imports and the API store and send, e.g. budget. It cannot change.', max_length=30, verbose_name='code')),
                ('name', models.CharField(max_length=80, verbose_name='name')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('counts_as_onboarding_failure', models.BooleanField(default=False, help_text='Churn with this reason counts in the share of churn caused by failed onboarding.', verbose_name='counts as onboarding failure')),
                ('position', models.PositiveSmallIntegerField(default=0, verbose_name='position')),
                ('archived', models.BooleanField(default=False, help_text='Not offered for new churns; accounts that churned with it keep it.', verbose_name='archived')),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workspaces.workspace')),
            ],
            options={
                'ordering': ['position', 'id'],
                'constraints': [models.UniqueConstraint(fields=('workspace', 'code'), name='churn_reason_unique_code_per_workspace', violation_error_message='A churn reason with this code already exists.')],
            },
            managers=[
                ('all_workspaces', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(create_reasons, migrations.RunPython.noop),
    ]
