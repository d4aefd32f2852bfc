"""Contracts become contract lines: quantity and unit (seats was the only unit), a renewal date, and
an exclusive end date.

Nothing is lost: seats are renamed to quantity with the unit "seats", and the end dates stored until
now (the last day the line ran, inclusive) move one day on, so that every line runs on exactly the
days it ran before.
"""

import datetime as dt

from django.db import migrations, models


def end_dates_become_exclusive(apps, schema_editor):
    Contract = apps.get_model("accounts", "Contract")
    for contract in Contract.all_workspaces.exclude(end_date=None).only("pk", "end_date").iterator():
        Contract.all_workspaces.filter(pk=contract.pk).update(end_date=contract.end_date + dt.timedelta(days=1))
    Contract.all_workspaces.exclude(quantity=None).update(unit="seats")


def end_dates_become_inclusive(apps, schema_editor):
    Contract = apps.get_model("accounts", "Contract")
    for contract in Contract.all_workspaces.exclude(end_date=None).only("pk", "end_date").iterator():
        Contract.all_workspaces.filter(pk=contract.pk).update(end_date=contract.end_date - dt.timedelta(days=1))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_health_band_choices'),
    ]

    operations = [
        migrations.RenameField(model_name='contract', old_name='seats', new_name='quantity'),
        migrations.AlterField(
            model_name='contract',
            name='quantity',
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name='quantity'),
        ),
        migrations.AddField(
            model_name='contract',
            name='renewal_date',
            field=models.DateField(blank=True, help_text='When the line comes up for renewal. Empty: its end date.', null=True, verbose_name='renewal date'),
        ),
        migrations.AddField(
            model_name='contract',
            name='unit',
            field=models.CharField(blank=True, help_text='What the quantity counts, e.g. seats.', max_length=40, verbose_name='unit'),
        ),
        migrations.AlterField(
            model_name='contract',
            name='end_date',
            field=models.DateField(blank=True, help_text='The first day the line no longer runs (exclusive). Empty: open-ended.', null=True, verbose_name='end'),
        ),
        migrations.RunPython(end_dates_become_exclusive, end_dates_become_inclusive),
    ]
