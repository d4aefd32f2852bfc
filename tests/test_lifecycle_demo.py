"""The demo shows a stage distribution against targets with twelve moving weekly points, stuck
accounts, and levels with their churn rates (and the counts they rest on)."""

import pytest

from cs_platform.demo import seed_demo
from lifecycle import selectors

pytestmark = pytest.mark.django_db


def test_demo_lifecycle(django_assert_max_num_queries):
    ws = seed_demo(slug="demo-lifecycle", accounts=200, seed=3).workspace
    today = ws.today()
    report = selectors.stage_distribution(workspace=ws, today=today)
    assert len(report["days"]) == 12
    assert all(row["target"] is not None for row in report["rows"])
    assert any(len({p["share"] for p in row["points"]}) > 1 for row in report["rows"])  # the points move
    assert selectors.stuck_accounts(workspace=ws, today=today)
    churn = selectors.level_churn(workspace=ws, today=today)
    assert sum(1 for r in churn["rows"] if r["rate"] is not None) >= 2
    assert any(r["churned"] for r in churn["rows"])
    # The report reads a few queries whatever the number of accounts and weeks.
    with django_assert_max_num_queries(12):
        selectors.stage_distribution(workspace=ws, today=today, weeks=26)
