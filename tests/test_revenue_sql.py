"""The revenue figures of a window equal an independent computation of the definitions in plain SQL
over accounts_contract, on a few hundred random lines (several per account, open and closed ends,
ends on the window's days, zero-MRR lines), in two workspaces."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import Contract
from revenue.selectors import window_metrics

from .factories import AccountFactory

pytestmark = pytest.mark.django_db

# MRR per account on a day, straight from the definition: start <= day < end (or no end), MRR > 0.
MRR_ON = """
    SELECT account_id, SUM(mrr) AS mrr FROM accounts_contract
    WHERE workspace_id = %(ws)s AND start_date <= %(day)s AND (end_date IS NULL OR end_date > %(day)s)
    GROUP BY account_id HAVING SUM(mrr) > 0
"""

WINDOW = f"""
    WITH s AS ({MRR_ON.replace('%(day)s', '%(start)s')}),
         e AS ({MRR_ON.replace('%(day)s', '%(end)s')})
    SELECT
        (SELECT COALESCE(SUM(mrr), 0) FROM s),
        (SELECT COUNT(*) FROM s),
        (SELECT COALESCE(SUM(e.mrr), 0) FROM s JOIN e ON e.account_id = s.account_id),
        (SELECT COUNT(*) FROM s WHERE s.account_id NOT IN (SELECT account_id FROM e)),
        (SELECT COALESCE(SUM(s.mrr), 0) FROM s WHERE s.account_id NOT IN (SELECT account_id FROM e)),
        (SELECT COALESCE(SUM(s.mrr - e.mrr), 0) FROM s JOIN e ON e.account_id = s.account_id WHERE e.mrr < s.mrr),
        (SELECT COALESCE(SUM(mrr), 0) FROM e),
        (SELECT COUNT(*) FROM e)
"""


def sql_window(ws, start, end):
    with connection.cursor() as cursor:
        cursor.execute(WINDOW, {"ws": ws.pk, "start": start.isoformat(), "end": end.isoformat()})
        start_mrr, start_logos, retained, churned, churned_mrr, downsell, end_mrr, end_logos = cursor.fetchone()
    start_mrr, retained, churned_mrr, downsell, end_mrr = (
        Decimal(str(v)).quantize(Decimal("0.01")) for v in (start_mrr, retained, churned_mrr, downsell, end_mrr))
    lost = churned_mrr + downsell
    return {
        "start_mrr": start_mrr, "start_logos": start_logos, "end_mrr": end_mrr, "end_logos": end_logos,
        "nrr": retained / start_mrr if start_mrr else None,
        "logo_churn": Decimal(churned) / Decimal(start_logos) if start_logos else None,
        "mrr_churn": lost / start_mrr if start_mrr else None,
        "grr": 1 - lost / start_mrr if start_mrr else None,
    }


def random_lines(ws, rng, accounts, start, end):
    days = [start, end, start - dt.timedelta(days=1), end - dt.timedelta(days=1)]
    lines = []
    for _ in range(accounts):
        account = AccountFactory(workspace=ws)
        for _ in range(rng.randint(1, 5)):
            begin = rng.choice(days + [start + dt.timedelta(days=rng.randint(-400, 200)) for _ in range(4)])
            finish = rng.choice([None, *days, begin + dt.timedelta(days=rng.randint(0, 500))])
            if finish is not None and finish < begin:
                finish = begin
            mrr = Decimal(rng.choice([0, rng.randint(1, 500000)])) / rng.choice([1, 100])
            lines.append(Contract(workspace=ws, account=account, product="Plan", mrr=mrr.quantize(Decimal("0.01")),
                                  start_date=begin, end_date=finish))
    Contract.all_workspaces.bulk_create(lines)
    return len(lines)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_service_equals_the_sql_of_the_definitions(ws, other_ws, seed):
    rng = random.Random(seed)
    start, end = dt.date(2026, 1, 1), dt.date(2026, 4, 1)
    assert random_lines(ws, rng, 120, start, end) > 200
    random_lines(other_ws, rng, 30, start, end)  # never counted in ws
    for window in ((start, end), (dt.date(2025, 11, 15), dt.date(2026, 2, 3))):
        service = window_metrics(ws, *window)
        expected = sql_window(ws, *window)
        assert expected["start_logos"] > 10
        for key, value in expected.items():
            assert service[key] == value, (window, key, service[key], value)
