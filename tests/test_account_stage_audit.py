"""A stage move's audit row names the stage the account left, not the one it entered."""

import pytest

from accounts.models import LifecycleStage
from accounts.services import update_account
from onboarding.models import OnboardingSettings
from workspaces.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_audit_of_a_stage_move_names_the_old_and_the_new_stage(ws, manager, account):
    OnboardingSettings.objects.for_workspace(ws).update(handoff_gates_stage=False)  # not the handoff gate's test
    first, second = LifecycleStage.objects.for_workspace(ws).order_by("position")[:2]
    update_account(account=account, actor=manager, stage=first)
    update_account(account=account, actor=manager, stage=second)
    event = AuditEvent.objects.for_workspace(ws).filter(action="account.updated", object_id=str(account.pk)).latest("pk")
    assert event.changes["stage"] == [first.name, second.name]
