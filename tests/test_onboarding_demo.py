"""The demo shows onboarding at every step: complete and incomplete handoffs of recent accounts,
milestones done and late, and first values spread over cohorts."""

import pytest

from onboarding import selectors
from onboarding.models import AccountMilestone, Handoff
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_onboarding_at_every_step():
    from cs_platform.demo import seed_demo

    seed_demo(slug="demo", accounts=80, seed=7)
    ws = Workspace.objects.get(slug="demo")
    today = ws.today()
    handoffs = Handoff.objects.for_workspace(ws)
    assert handoffs.filter(completed_at__isnull=False).count() > 40
    assert selectors.incomplete_handoffs(workspace=ws).exists()
    assert AccountMilestone.objects.for_workspace(ws).filter(key="first_success").exists()
    assert selectors.late_milestones(workspace=ws, as_of=today)
    report = selectors.onboarding_report(workspace=ws, as_of=today, months=12)
    assert sum(1 for row in report["cohorts"] if row["median"] is not None) >= 3
