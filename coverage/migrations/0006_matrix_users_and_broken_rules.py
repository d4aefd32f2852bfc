from django.db import migrations, models


class Migration(migrations.Migration):
    """The matrix's IDs axis becomes a setting (existing workspaces keep licensed seats, new ones
    count active users), and a snapshot row lists every broken rule, not only the first."""

    dependencies = [
        ('coverage', '0005_the_night_holds_the_lock'),
    ]

    operations = [
        migrations.AddField(
            model_name='touchmodel',
            name='matrix_users',
            field=models.CharField(choices=[('active_users', 'Active users (30 days)'), ('seats', 'Licensed seats')],
                                   default='seats', max_length=20, verbose_name='matrix IDs count'),
        ),
        migrations.AlterField(
            model_name='touchmodel',
            name='matrix_users',
            field=models.CharField(choices=[('active_users', 'Active users (30 days)'), ('seats', 'Licensed seats')],
                                   default='active_users', max_length=20, verbose_name='matrix IDs count'),
        ),
        migrations.AddField(
            model_name='coveragesnapshot',
            name='broken_rules',
            field=models.JSONField(blank=True, default=list),
        ),
    ]
