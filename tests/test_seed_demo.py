import pytest
from django.core.management import call_command

from accounts.models import Account, AccountStatus, Touchpoint
from coverage.models import CoverageSnapshot
from cs_platform.demo import seed_demo
from healthscore.models import HealthSnapshot
from usage.models import UsageEvent
from workspaces.models import ApiToken, Membership, Role


def _snapshot(workspace):
    return list(
        Account.objects.for_workspace(workspace).order_by("external_id").values_list(
            "external_id", "name", "arr", "status", "churned_on", "owner__user__username"
        )
    )


@pytest.mark.django_db
def test_demo_is_realistic_and_deterministic():
    first = seed_demo(slug="demo", accounts=60, seed=7)
    ws = first.workspace
    accounts = Account.objects.for_workspace(ws)
    assert accounts.count() == 60
    arrs = sorted(accounts.values_list("arr", flat=True))
    assert arrs[-1] / arrs[0] > 100  # the field's spread between smallest and largest contract
    churned = accounts.filter(status=AccountStatus.CHURNED)
    assert churned.exists() and not churned.filter(churn_reason="").exists()
    roles = Membership.objects.for_workspace(ws).values_list("role", flat=True)
    assert list(roles).count(Role.MANAGER) == 2 and list(roles).count(Role.CSM) == 6
    assert Touchpoint.objects.for_workspace(ws).count() > 60
    assert UsageEvent.objects.for_workspace(ws).exists()
    assert ApiToken.objects.active().filter(key_hash=ApiToken.hash_key(first.api_token)).exists()

    before = _snapshot(ws)
    again = seed_demo(slug="demo", accounts=60, seed=7)  # a refresh regenerates the same book
    assert again.workspace.pk == ws.pk
    assert _snapshot(ws) == before
    # The refreshed token replaces the old one.
    assert not ApiToken.objects.active().filter(key_hash=ApiToken.hash_key(first.api_token)).exists()


@pytest.mark.django_db
def test_seed_command_prints_logins_and_token(capsys):
    call_command("seed_demo", "--workspace", "other", "--accounts", "30", "--seed", "3")
    out = capsys.readouterr().out
    assert "other-manager1" in out and "API token" in out and "csp_" in out


@pytest.mark.django_db
def test_recompute_command_runs_every_registered_step(capsys):
    result = seed_demo(slug="demo", accounts=30, seed=1)
    call_command("recompute", "--workspace", "demo")
    day = result.workspace.today()
    assert capsys.readouterr().out.strip() == f"demo {day}: usage, tiers, segments, coverage, health, lifecycle, playbooks"
    assert CoverageSnapshot.objects.for_workspace(result.workspace).filter(day=day).count() == 30
    assert HealthSnapshot.objects.for_workspace(result.workspace).filter(day=day).exists()
