"""One policy: who may do what is asked of workspaces.policy, the same way everywhere."""

import re
from pathlib import Path

import pytest

from accounts.services import create_account, delete_account, log_touchpoint, update_account
from tests.factories import AccountFactory, TouchpointFactory
from workspaces.errors import NotAllowed
from workspaces.models import AuditEvent
from workspaces.policy import RULES, SYSTEM, SystemActor, allows, authorize

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
APPS = ["workspaces", "accounts", "usage", "imports", "segments", "coverage", "healthscore", "webhooks", "playbooks",
        "renewals", "expansion", "revenue", "voice", "programmes", "lifecycle", "cs_platform"]


def test_there_is_no_anonymous_actor(account):
    with pytest.raises(TypeError):
        authorize(None, "accounts.change", account)
    with pytest.raises(TypeError):
        update_account(account=account, actor=None, name="Renamed")


def test_the_system_is_allowed_and_named(ws, account):
    authorize(SYSTEM, "accounts.delete", account)
    update_account(account=account, actor=SystemActor("nightly"), plan="Pro")
    event = AuditEvent.objects.for_workspace(ws).get(action="account.updated")
    assert (event.actor, event.token, event.system_actor) == (None, None, "nightly")
    assert event.actor_label == "system: nightly"


def test_roles(ws, admin, manager, csm, csm2, viewer, account):
    theirs = AccountFactory(workspace=ws, owner=csm2)
    assert allows(csm, "accounts.change", account) and not allows(csm, "accounts.change", theirs)
    assert allows(manager, "accounts.change", theirs) and allows(admin, "accounts.delete", theirs)
    assert not allows(csm, "accounts.delete", account) and not allows(viewer, "accounts.change", account)
    assert allows(csm, "touchpoints.log", theirs) and not allows(viewer, "touchpoints.log", account)
    assert allows(admin, "members.manage") and not allows(manager, "members.manage")
    assert allows(manager, "health.backtest") and not allows(csm, "health.backtest")
    assert allows(manager, "revenue.view") and allows(admin, "revenue.view") and not allows(csm, "revenue.view")
    assert allows(manager, "programmes.manage") and not allows(csm, "programmes.manage")
    assert allows(manager, "programmes.import_attendance") and not allows(csm, "programmes.import_attendance")


def test_a_deactivated_member_may_nothing(manager, account):
    manager.is_active = False
    assert not allows(manager, "accounts.change", account)


def test_an_object_of_another_workspace_is_refused_whatever_the_role(admin, other_account):
    with pytest.raises(NotAllowed, match="Not found in this workspace"):
        authorize(admin, "accounts.change", other_account)


def test_services_refuse_with_the_field_the_refusal_is_about(ws, csm, csm2, manager, account):
    with pytest.raises(NotAllowed) as refused:
        create_account(workspace=ws, actor=csm, name="For someone else", owner=csm2)
    assert refused.value.field == "owner"
    mine = create_account(workspace=ws, actor=csm, name="Mine")  # a CSM's new account is theirs
    assert mine.owner == csm
    with pytest.raises(NotAllowed) as refused:
        update_account(account=account, actor=csm, owner=csm2)
    assert refused.value.field == "owner"
    with pytest.raises(NotAllowed):
        delete_account(account=account, actor=csm)
    with pytest.raises(NotAllowed) as refused:
        log_touchpoint(account=account, actor=csm, author=csm2, channel="phone")
    assert refused.value.field == "author"
    log_touchpoint(account=account, actor=manager, author=csm2, channel="phone")


def test_a_token_is_named_in_the_audit(ws, manager):
    from rest_framework.test import APIClient

    from workspaces.services import issue_token

    token, key = issue_token(membership=manager, name="test")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post("/api/v1/accounts/", {"name": "Via the CRM"})
    assert response.status_code == 201
    event = AuditEvent.objects.for_workspace(ws).get(action="account.created")
    assert (event.actor, event.token) == (manager, token)
    assert event.actor_label == f"{manager.display_name} (API token “test”)"


def test_a_touchpoint_author_cannot_be_taken_over_by_a_csm(csm, csm2, manager, account):
    theirs = TouchpointFactory(account=account, author=csm2)
    from accounts.services import update_touchpoint

    with pytest.raises(NotAllowed):
        update_touchpoint(touchpoint=theirs, actor=csm, author=csm)
    update_touchpoint(touchpoint=theirs, actor=csm, summary="Typo fixed")  # editing is fine
    update_touchpoint(touchpoint=theirs, actor=manager, author=csm)


def _named_actions():
    """Every action the code asks the policy about, read from the source."""
    pattern = re.compile(r"""(?:authorize|allows|allowed)\([^,()]+,\s*f?"([\w.{}]+)"|required_action = "([\w.]+)"|"""
                         r"""may\("([\w.]+)"\)|allows:"([\w.]+)\"""")
    found = set()
    for path in [*(p for app in APPS for p in (ROOT / app).rglob("*.py")), *(ROOT / "templates").rglob("*.html"),
                 *(ROOT / "healthscore").rglob("*.html")]:
        for match in pattern.finditer(path.read_text()):
            found.add(next(group for group in match.groups() if group))
    return found


def test_every_action_the_code_names_is_in_the_table_and_every_rule_is_used():
    from tests.access_endpoints import api_endpoints, page_endpoints

    # What pages and viewsets declare (the bases check it) counts as named too.
    named = _named_actions() | {e.action for e in [*page_endpoints()[0], *api_endpoints()[0]] if e.action}
    imports = {a for a in named if a.startswith("imports.{")}
    named = (named - imports) | ({f"imports.{t}" for t in ("accounts", "contacts", "contracts", "touchpoints")}
                                 if imports else set())
    assert named - set(RULES) == set()
    assert set(RULES) - named == set()


def test_the_system_writes_what_members_write_and_is_recorded_as_itself(ws, csm):
    """Columns that name a member (changed by, author…) stay empty when the platform acted."""
    from accounts.models import Account, LifecycleStage, StageChange
    from tests.imports_helpers import csv_bytes, run_import

    stage = LifecycleStage.objects.for_workspace(ws).order_by("position")[1]
    created = create_account(workspace=ws, actor=SystemActor("import_data command"), name="Made by a script",
                             stage=stage)
    assert StageChange.objects.for_workspace(ws).get(account=created).changed_by is None
    data = csv_bytes([["external_id", "name", "stage"], ["x-1", "Imported", stage.name]])
    result = run_import(data, workspace=ws, actor=SystemActor("import_data command"))
    assert result.committed and result.created == 1
    imported = Account.objects.for_workspace(ws).get(external_id="x-1")
    assert StageChange.objects.for_workspace(ws).get(account=imported).changed_by is None
    touchpoint = log_touchpoint(account=imported, actor=SYSTEM, channel="newsletter")
    assert touchpoint.author is None


def test_a_refusal_is_told_in_the_members_language(api_for, viewer, account):
    response = api_for(viewer).patch(f"/api/v1/accounts/{account.pk}/", {"plan": "X"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 403
    assert response.json()["detail"] == "あなたの役割ではこの顧客を編集できません。"
