import pytest

from accounts.models import Account


@pytest.mark.django_db
def test_default_stages_and_scoping(ws, other_ws, account, other_account):
    assert [s.name for s in ws_stages(ws)] == ["Onboarding", "Adoption", "Established", "Expansion", "Renewal"]
    assert list(Account.objects.for_workspace(ws)) == [account]


def ws_stages(ws):
    from accounts.selectors import stages

    return stages(workspace=ws)
