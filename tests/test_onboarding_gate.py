"""The sales handoff gates the first lifecycle stage: page, API and import all refuse the move (on
the stage field) until the handoff is complete; the setting off lets it pass; required fields
decide completeness."""

import pytest
from django.urls import reverse

from accounts.models import Account, LifecycleStage
from accounts.services import update_account
from onboarding import selectors, services
from onboarding.models import Handoff
from tests.factories import AccountFactory, ContactFactory
from tests.imports_helpers import csv_bytes, run_import
from tests.test_account_pages import account_form_data
from workspaces.errors import DomainError

pytestmark = pytest.mark.django_db

GATE = "The sales handoff of this account is not complete"


def stages(ws):
    return list(LifecycleStage.objects.for_workspace(ws).order_by("position", "id"))


@pytest.fixture
def starting(ws, csm):
    first = stages(ws)[0]
    return AccountFactory(workspace=ws, owner=csm, name="Kaede Retail KK", external_id="crm-kaede", stage=first)


def complete(ws, actor, account):
    contact = ContactFactory(workspace=ws, account=account, name="Tanaka")
    return services.save_handoff(workspace=ws, actor=actor, account=account, why_bought="Manual reporting",
                                 objectives="Halve the reporting time", decision_maker=contact)


def test_the_service_refuses_the_move_on_the_stage_field_and_allows_it_once_complete(ws, manager, starting):
    second = stages(ws)[1]
    with pytest.raises(DomainError) as exc:
        update_account(account=starting, actor=manager, stage=second)
    assert exc.value.field == "stage" and GATE in exc.value.message
    starting.refresh_from_db()
    assert starting.stage == stages(ws)[0]
    complete(ws, manager, starting)
    update_account(account=Account.objects.for_workspace(ws).get(pk=starting.pk), actor=manager, stage=second)
    starting.refresh_from_db()
    assert starting.stage == second


def test_moves_within_or_into_the_first_stage_and_new_accounts_are_not_gated(ws, manager, csm):
    first, second, third = stages(ws)[:3]
    later = AccountFactory(workspace=ws, owner=csm, stage=second)
    update_account(account=later, actor=manager, stage=third)  # not leaving the first stage
    update_account(account=Account.objects.for_workspace(ws).get(pk=later.pk), actor=manager, stage=first)  # back into it
    assert Account.objects.for_workspace(ws).get(pk=later.pk).stage == first


def test_the_page_form_shows_the_gate_on_the_stage_field(ws, manager, starting, login):
    second = stages(ws)[1]
    data = account_form_data(starting, stage=str(second.pk), contract_start="2026-01-05")
    response = login(manager).post(reverse("accounts:edit", args=[starting.pk]), data)
    assert response.status_code == 400
    assert GATE in " ".join(response.context["form"].errors["stage"])
    assert Account.objects.for_workspace(ws).get(pk=starting.pk).stage == stages(ws)[0]


def test_the_api_answers_400_naming_the_stage(ws, manager, starting, api_for):
    second = stages(ws)[1]
    api = api_for(manager)
    response = api.patch(f"/api/v1/accounts/{starting.pk}/", {"stage": second.pk}, format="json")
    assert response.status_code == 400
    assert GATE in str(response.json())
    assert "stage" in str(response.json())
    complete(ws, manager, starting)
    assert api.patch(f"/api/v1/accounts/{starting.pk}/", {"stage": second.pk}, format="json").status_code == 200


def test_the_import_names_the_row_and_the_stage_column(ws, manager, starting, csm):
    second = stages(ws)[1]
    done = AccountFactory(workspace=ws, owner=csm, name="Done KK", external_id="crm-done", stage=stages(ws)[0])
    complete(ws, manager, done)
    data = csv_bytes([["external_id", "name", "stage"], ["crm-kaede", "Kaede Retail KK", second.name],
                      ["crm-done", "Done KK", second.name]])
    result = run_import(data, workspace=ws, actor=manager, valid_only=True)
    errors = result.errors if hasattr(result, "errors") else result["errors"]
    text = str(errors)
    assert GATE in text and "stage" in text
    assert Account.objects.for_workspace(ws).get(pk=starting.pk).stage == stages(ws)[0]
    assert Account.objects.for_workspace(ws).get(pk=done.pk).stage == second  # the complete one moved


def test_the_setting_off_lets_every_move_pass(ws, manager, starting):
    services.save_settings(workspace=ws, actor=manager, handoff_gates_stage=False)
    update_account(account=starting, actor=manager, stage=stages(ws)[1])
    assert Account.objects.for_workspace(ws).get(pk=starting.pk).stage == stages(ws)[1]


def test_required_fields_decide_completeness_and_changing_them_rechecks(ws, manager, starting):
    handoff = services.save_handoff(workspace=ws, actor=manager, account=starting, why_bought="Reports",
                                    objectives="Faster close")
    assert handoff.completed_at is None  # the decision maker is required by default
    assert selectors.incomplete_handoffs(workspace=ws).filter(pk=starting.pk).exists()
    services.save_settings(workspace=ws, actor=manager, required_fields=["why_bought", "objectives"])
    handoff.refresh_from_db()
    assert handoff.completed_at is not None
    assert not selectors.incomplete_handoffs(workspace=ws).filter(pk=starting.pk).exists()
    services.save_settings(workspace=ws, actor=manager, required_fields=["why_bought", "risks"])
    handoff.refresh_from_db()
    assert handoff.completed_at is None
    with pytest.raises(DomainError) as exc:
        services.save_settings(workspace=ws, actor=manager, required_fields=["nonsense"])
    assert exc.value.field == "required_fields"


def test_emptying_a_required_field_makes_it_incomplete_again(ws, manager, starting):
    handoff = complete(ws, manager, starting)
    assert handoff.completed_at is not None
    handoff = services.save_handoff(workspace=ws, actor=manager, account=starting, objectives="  ")
    assert handoff.completed_at is None
    assert Handoff.objects.for_workspace(ws).count() == 1


def test_a_contact_of_another_workspace_is_refused(ws, manager, starting, other_account):
    stranger = ContactFactory(workspace=other_account.workspace, account=other_account)
    with pytest.raises(DomainError) as exc:
        services.save_handoff(workspace=ws, actor=manager, account=starting, decision_maker=stranger)
    assert exc.value.field == "decision_maker"
