from django.db import migrations, models

# The rollups of the days computed before this migration, rewritten as coverage.computation
# writes them from now on: one row per day, owner, tier, cell and combination of segments (in
# plain SQL: a migration must not depend on code that will change).
REWRITE = [
    "DELETE FROM coverage_coveragerollup",
    """
    INSERT INTO coverage_coveragerollup
        (workspace_id, day, owner_id, tier, cell, segment_keys, in_scope_count, covered_count, in_scope_arr,
         covered_arr)
    SELECT workspace_id, day, owner_id, tier, cell, segment_keys, COUNT(*), SUM(CASE WHEN covered THEN 1 ELSE 0 END),
           SUM(arr), SUM(CASE WHEN covered THEN arr ELSE 0 END)
    FROM coverage_coveragesnapshot
    WHERE in_scope
    GROUP BY workspace_id, day, owner_id, tier, cell, segment_keys
    """,
]


class Migration(migrations.Migration):
    """The per-segment coverage report reads the rollup, which now keeps each row's segments."""

    dependencies = [
        ('coverage', '0006_matrix_users_and_broken_rules'),
    ]

    operations = [
        migrations.AddField(
            model_name='coveragerollup',
            name='segment_keys',
            field=models.CharField(blank=True, default='', max_length=500),
        ),
        migrations.RunSQL(REWRITE, reverse_sql=migrations.RunSQL.noop),
    ]
