"""Accounts added to a segment by hand or by a playbook step ("add to a segment").

A segment counts additions only where its rules say "Added by hand or by a playbook: yes"; the rest
of the rules still apply ("added, and ARR over 1M"). Adding goes through segments' service from the
page, the API and the playbook engine alike, and membership follows at once.
"""

import datetime as dt
from decimal import Decimal

import pytest

from playbooks.engine import evaluate_playbooks
from playbooks.models import PlaybookRun, RunAction
from playbooks.services import save_playbook
from segments.models import (
    MembershipEventKind,
    Segment,
    SegmentAddition,
    SegmentMembership,
    SegmentMembershipEvent,
)
from segments.rules import segment_accounts, uses_additions, validate_rules
from segments.services import add_to_segment, remove_from_segment, save_segment
from workspaces.errors import DomainError, NotAllowed
from workspaces.policy import SYSTEM

from .factories import AccountFactory
from .playbook_engine_helpers import make_playbook

ADDED = {"field": "added", "op": "yes"}
WATCH_RULES = {"op": "and", "conditions": [ADDED, {"field": "arr", "op": "gte", "value": 1000000}]}


def members(segment):
    return set(SegmentMembership.objects.for_workspace(segment.workspace).filter(segment=segment)
               .values_list("account_id", flat=True))


@pytest.fixture
def watch(ws):
    return save_segment(workspace=ws, actor=SYSTEM, name="Renewal watch", rules=WATCH_RULES)


@pytest.fixture
def big(ws, csm):
    return AccountFactory(workspace=ws, owner=csm, name="Big KK", arr=Decimal("5000000"))


@pytest.fixture
def small(ws, csm):
    return AccountFactory(workspace=ws, owner=csm, name="Small KK", arr=Decimal("300000"), external_id="crm-small")


# --- rules ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_added_condition_validates_without_a_value_and_refuses_other_ops(ws):
    assert validate_rules({"op": "and", "conditions": [{"field": "added", "op": "yes", "value": 3}]},
                          workspace=ws) == {"op": "and", "conditions": [ADDED]}
    with pytest.raises(DomainError) as error:
        validate_rules({"op": "and", "conditions": [{"field": "added", "op": "in", "value": [1]}]}, workspace=ws)
    assert "yes, no" in error.value.message
    assert uses_additions(WATCH_RULES)
    assert not uses_additions({"op": "and", "conditions": [{"field": "added", "op": "no"}]})


@pytest.mark.django_db
def test_rules_count_the_segments_own_additions_only(ws, watch, big, small):
    other = save_segment(workspace=ws, actor=SYSTEM, name="Other", rules={"op": "and", "conditions": [ADDED]})
    SegmentAddition.objects.create(workspace=ws, segment=other, account=big)
    rules = validate_rules(WATCH_RULES, workspace=ws)
    assert set(segment_accounts(workspace=ws, rules=rules, as_of=ws.today(), segment_id=watch.pk)) == set()
    SegmentAddition.objects.create(workspace=ws, segment=watch, account=big)
    SegmentAddition.objects.create(workspace=ws, segment=watch, account=small)
    # "added" and ARR ≥ 1M: the small account is added but fails the ARR rule.
    assert set(segment_accounts(workspace=ws, rules=rules, as_of=ws.today(), segment_id=watch.pk)) == {big}
    # Rules of no saved segment (a preview, a playbook condition) have no additions.
    assert not segment_accounts(workspace=ws, rules=rules, as_of=ws.today()).exists()
    not_added = validate_rules({"op": "and", "conditions": [{"field": "added", "op": "no"}]}, workspace=ws)
    assert set(segment_accounts(workspace=ws, rules=not_added, as_of=ws.today(), segment_id=watch.pk)) == set()
    assert set(segment_accounts(workspace=ws, rules=not_added, as_of=ws.today(), segment_id=other.pk)) == {small}


# --- the service ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_makes_a_member_today_once_and_taking_out_leaves(ws, watch, big, manager):
    today = ws.today()
    result = add_to_segment(segment=watch, account_ids=[big.pk], actor=manager)
    assert result == {"added": 1, "already": 0, "members": 1}
    assert members(watch) == {big.pk}
    assert list(SegmentMembershipEvent.objects.for_workspace(ws).filter(segment=watch)
                .values_list("account_id", "day", "kind")) == [(big.pk, today, MembershipEventKind.ENTERED)]
    again = add_to_segment(segment=watch, account_ids=[big.pk], actor=manager)
    assert again == {"added": 0, "already": 1, "members": 1}
    assert SegmentAddition.objects.for_workspace(ws).count() == 1
    addition = SegmentAddition.objects.for_workspace(ws).get()
    assert (addition.source, addition.added_by) == ("hand", manager)
    out = remove_from_segment(segment=watch, account_ids=[big.pk], actor=manager)
    assert out == {"removed": 1, "members": 0}
    assert members(watch) == set()
    watch.refresh_from_db()
    assert watch.member_count == 0


@pytest.mark.django_db
def test_a_segment_of_rules_only_refuses_additions_and_says_what_to_change(ws, big, manager):
    rules_only = save_segment(workspace=ws, actor=SYSTEM, name="Enterprise",
                              rules={"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 1}]})
    with pytest.raises(DomainError) as error:
        add_to_segment(segment=rules_only, account_ids=[big.pk], actor=manager)
    assert "Added by hand or by a playbook: yes" in error.value.message
    assert not SegmentAddition.objects.for_workspace(ws).exists()


@pytest.mark.django_db
def test_csms_may_not_add_and_another_workspaces_account_is_not_found(ws, watch, big, csm, other_account, manager):
    with pytest.raises(NotAllowed):
        add_to_segment(segment=watch, account_ids=[big.pk], actor=csm)
    with pytest.raises(DomainError) as error:
        add_to_segment(segment=watch, account_ids=[big.pk, other_account.pk], actor=manager)
    assert str(other_account.pk) in error.value.message
    assert not SegmentAddition.all_workspaces.exists()  # nothing half-done


# --- API -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_adds_lists_and_removes(api_for, manager, viewer, ws, watch, big, small):
    api = api_for(manager)
    response = api.post(f"/api/v1/segments/{watch.pk}/add-accounts/", {"accounts": [big.pk, small.pk]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"added": 2, "already": 0, "members": 1}
    listed = api.get(f"/api/v1/segments/{watch.pk}/additions/").json()
    assert {row["account"] for row in listed["results"]} == {big.pk, small.pk}
    assert api.get(f"/api/v1/segments/{watch.pk}/members/").json()["count"] == 1
    removed = api.post(f"/api/v1/segments/{watch.pk}/remove-accounts/", {"accounts": [big.pk]}, format="json")
    assert removed.json() == {"removed": 1, "members": 0}
    assert api_for(viewer).post(f"/api/v1/segments/{watch.pk}/add-accounts/", {"accounts": [big.pk]},
                                format="json").status_code == 403


@pytest.mark.django_db
def test_api_bad_payloads_get_400s_that_name_the_problem(api_for, manager, ws, watch, other_account):
    api = api_for(manager)
    empty = api.post(f"/api/v1/segments/{watch.pk}/add-accounts/", {"accounts": []}, format="json")
    assert empty.status_code == 400 and "accounts" in empty.json()
    foreign = api.post(f"/api/v1/segments/{watch.pk}/add-accounts/", {"accounts": [other_account.pk]}, format="json")
    assert foreign.status_code == 400 and str(other_account.pk) in str(foreign.json())
    rules_only = save_segment(workspace=ws, actor=SYSTEM, name="Rules only", rules={})
    refused = api.post(f"/api/v1/segments/{rules_only.pk}/add-accounts/", {"accounts": [1]}, format="json")
    assert refused.status_code == 400


@pytest.mark.django_db
def test_another_workspace_cannot_see_or_add_to_our_segment(api_for, outsider, watch, other_account):
    api = api_for(outsider)
    assert api.get(f"/api/v1/segments/{watch.pk}/additions/").status_code == 404
    assert api.post(f"/api/v1/segments/{watch.pk}/add-accounts/", {"accounts": [other_account.pk]},
                    format="json").status_code == 404
    assert not SegmentAddition.all_workspaces.exists()


# --- page ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_adds_by_name_or_external_id_and_takes_out(login, manager, ws, watch, big, small):
    client = login(manager)
    page = client.get(f"/segments/{watch.pk}/")
    assert "Added by hand or by a playbook" in page.content.decode()
    client.post(f"/segments/{watch.pk}/add/", {"account": "Big KK"})
    client.post(f"/segments/{watch.pk}/add/", {"account": "crm-small"})
    assert set(SegmentAddition.objects.for_workspace(ws).values_list("account_id", flat=True)) == {big.pk, small.pk}
    missing = client.post(f"/segments/{watch.pk}/add/", {"account": "Nobody KK"}, follow=True)
    assert "Nobody KK" in missing.content.decode()
    page = client.get(f"/segments/{watch.pk}/").content.decode()
    assert "Big KK" in page and "Small KK" in page
    client.post(f"/segments/{watch.pk}/remove/{small.pk}/")
    assert set(SegmentAddition.objects.for_workspace(ws).values_list("account_id", flat=True)) == {big.pk}


@pytest.mark.django_db
def test_the_page_speaks_japanese(login, manager, ws, watch, big):
    add_to_segment(segment=watch, account_ids=[big.pk], actor=manager)
    client = login(manager)
    page = client.get(f"/segments/{watch.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "手動またはプレイブックで追加" in page


@pytest.mark.django_db
def test_csms_see_additions_but_no_add_form(login, csm, ws, watch, big, manager):
    add_to_segment(segment=watch, account_ids=[big.pk], actor=manager)
    page = login(csm).get(f"/segments/{watch.pk}/").content.decode()
    assert "Big KK" in page and 'name="account"' not in page
    assert login(csm).post(f"/segments/{watch.pk}/add/", {"account": "Big KK"}).status_code == 403


# --- the playbook step ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_playbook_step_adds_the_enrolled_accounts_in_one_write_per_segment(ws, csm, watch):
    today = ws.today()
    soon = [AccountFactory(workspace=ws, owner=csm, arr=Decimal("2000000"), renewal_date=today + dt.timedelta(days=5))
            for _ in range(3)]
    later = AccountFactory(workspace=ws, owner=csm, arr=Decimal("2000000"), renewal_date=today + dt.timedelta(days=400))
    make_playbook(ws, {"trigger": {"kind": "renewal_within"}, "steps": [
        {"kind": "add_to_segment", "segment": watch.pk}], "exit": {"when_trigger_clears": False}})
    evaluate_playbooks(workspace=ws, as_of=today)
    assert members(watch) == {a.pk for a in soon}
    assert later.pk not in set(SegmentAddition.objects.for_workspace(ws).values_list("account_id", flat=True))
    assert set(SegmentAddition.objects.for_workspace(ws).values_list("source", flat=True)) == {"playbook"}
    assert [a.result for a in RunAction.objects.for_workspace(ws)] == [{"segment": watch.pk}] * 3
    evaluate_playbooks(workspace=ws, as_of=today)  # a second night adds nothing twice
    assert SegmentAddition.objects.for_workspace(ws).count() == 3 and RunAction.objects.for_workspace(ws).count() == 3


@pytest.mark.django_db
def test_a_step_whose_segment_stopped_taking_additions_records_why_and_the_run_goes_on(ws, csm, watch):
    today = ws.today()
    AccountFactory(workspace=ws, owner=csm, arr=Decimal("2000000"), renewal_date=today + dt.timedelta(days=5))
    make_playbook(ws, {"trigger": {"kind": "renewal_within"}, "steps": [
        {"kind": "add_to_segment", "segment": watch.pk}, {"kind": "task", "title": "Call"}],
        "exit": {"when_trigger_clears": False}})
    Segment.objects.for_workspace(ws).filter(pk=watch.pk).update(rules={"op": "and", "conditions": []})
    evaluate_playbooks(workspace=ws, as_of=today)
    action = RunAction.objects.for_workspace(ws).get()
    assert "selects by its rules only" in action.result["error"]
    assert PlaybookRun.objects.for_workspace(ws).get().tasks.count() == 1


@pytest.mark.django_db
def test_the_designer_refuses_a_segment_that_does_not_take_additions(ws, manager, watch):
    rules_only = save_segment(workspace=ws, actor=SYSTEM, name="Rules only", rules={})
    definition = {"trigger": {"kind": "manual"}, "steps": [{"kind": "add_to_segment", "segment": rules_only.pk}]}
    with pytest.raises(DomainError) as error:
        save_playbook(workspace=ws, actor=manager, name="Watch", definition=definition)
    assert error.value.message.startswith("steps[1].segment: ")
    definition["steps"][0]["segment"] = watch.pk
    playbook = save_playbook(workspace=ws, actor=manager, name="Watch", definition=definition)
    assert playbook.versions.get().definition["steps"][0]["segment"] == watch.pk


@pytest.mark.django_db
def test_the_designer_page_offers_only_segments_that_take_additions(login, manager, ws, watch):
    save_segment(workspace=ws, actor=SYSTEM, name="Rules only", rules={})
    page = login(manager).get("/playbooks/new/").content.decode()
    assert "Add to a segment" in page
    step_select = page.split('name="steps-0-segment"')[1].split("</select>")[0]
    assert f'<option value="{watch.pk}">Renewal watch</option>' in step_select
    assert ">Rules only</option>" not in step_select
