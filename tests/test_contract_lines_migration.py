"""Contracts became contract lines with an exclusive end: the migration keeps every line running on
exactly the days it ran before (stored ends move one day on) and names the unit of the old seats."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from workspaces.models import Workspace

BEFORE = [("accounts", "0004_health_band_choices")]
AFTER = [("accounts", "0005_contract_lines")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_inclusive_ends_move_one_day_on_and_seats_become_a_quantity_of_seats():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE)
        Account = old.get_model("accounts", "Account")
        Contract = old.get_model("accounts", "Contract")
        workspace = Workspace.objects.create(name="Migrated", slug="migrated")  # workspaces stays migrated
        account = Account.all_workspaces.create(workspace_id=workspace.pk, name="Old KK")
        # Ran every day of March 2025, inclusive of the 31st; and an open-ended line without seats.
        Contract.all_workspaces.create(workspace_id=workspace.pk, account=account, product="Core", mrr=Decimal("1000"),
                                       seats=12, start_date=dt.date(2025, 3, 1), end_date=dt.date(2025, 3, 31))
        Contract.all_workspaces.create(workspace_id=workspace.pk, account=account, product="Add-on", mrr=Decimal("50"),
                                       seats=None, start_date=dt.date(2025, 4, 1), end_date=None)

        new = _migrate(AFTER)
        Contract = new.get_model("accounts", "Contract")
        lines = {c.product: c for c in Contract.all_workspaces.all()}
        assert (lines["Core"].end_date, lines["Core"].quantity, lines["Core"].unit) == (dt.date(2025, 4, 1), 12, "seats")
        assert (lines["Add-on"].end_date, lines["Add-on"].quantity, lines["Add-on"].unit) == (None, None, "")

        # And back: the reverse migration restores the inclusive end.
        old = _migrate(BEFORE)
        assert old.get_model("accounts", "Contract").all_workspaces.get(product="Core").end_date == dt.date(2025, 3, 31)
    finally:
        _migrate(latest)
