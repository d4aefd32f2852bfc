"""Segment pages: list, editor (create/edit with validation), detail with members, roles and tenancy."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from segments.models import Segment
from segments.services import save_segment
from tests.factories import AccountFactory


@pytest.mark.django_db
def test_manager_creates_a_segment_and_sees_its_members(login, manager, ws):
    AccountFactory(workspace=ws, name="Large KK", arr=Decimal("20000000"))
    AccountFactory(workspace=ws, name="Small KK", arr=Decimal("100000"))
    client = login(manager)
    form = client.get(reverse("segments:create"))
    assert form.status_code == 200 and b"segment-editor-config" in form.content
    rules = {"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 10000000}]}
    response = client.post(reverse("segments:create"), {"name": "Enterprise", "rules": json.dumps(rules)})
    segment = Segment.all_workspaces.get(workspace=ws, name="Enterprise")
    assert response.status_code == 302 and response["Location"] == reverse("segments:detail", args=[segment.pk])
    detail = client.get(response["Location"])
    assert [m.account.name for m in detail.context["page_obj"].object_list] == ["Large KK"]
    assert "Entered" in detail.content.decode()
    assert "Enterprise" in client.get(reverse("segments:list")).content.decode()


@pytest.mark.django_db
def test_editor_shows_which_condition_is_wrong(login, manager, ws):
    rules = {"conditions": [{"field": "arr", "op": "gte", "value": 1}, {"field": "tenure_months", "op": "gte",
                                                                         "value": "soon"}]}
    response = login(manager).post(reverse("segments:create"), {"name": "Bad", "rules": json.dumps(rules)})
    assert response.status_code == 400
    assert "rules.conditions[1] (tenure_months gte): the value must be a number" in response.content.decode()
    not_json = login(manager).post(reverse("segments:create"), {"name": "Bad", "rules": "{arr > 1"})
    assert not_json.status_code == 400 and "not valid JSON (line 1, column 2)" in not_json.content.decode()
    assert not Segment.all_workspaces.filter(workspace=ws).exists()


@pytest.mark.django_db
def test_csms_read_segments_but_do_not_edit_them(login, manager, csm, ws):
    segment = save_segment(workspace=ws, actor=manager, name="Mid market", rules={})
    client = login(csm)
    assert client.get(reverse("segments:detail", args=[segment.pk])).status_code == 200
    assert client.get(reverse("segments:edit", args=[segment.pk])).status_code == 403
    assert client.post(reverse("segments:delete", args=[segment.pk])).status_code == 403
    assert client.post(reverse("segments:recompute_segment", args=[segment.pk])).status_code == 403
    assert Segment.all_workspaces.filter(pk=segment.pk).exists()


@pytest.mark.django_db
def test_another_workspace_gets_404_for_our_segments(login, manager, outsider, ws):
    segment = save_segment(workspace=ws, actor=manager, name="Secret", rules={})
    client = login(outsider)
    assert client.get(reverse("segments:detail", args=[segment.pk])).status_code == 404
    assert client.post(reverse("segments:delete", args=[segment.pk])).status_code == 404
    assert b"Secret" not in client.get(reverse("segments:list")).content
    assert Segment.all_workspaces.filter(pk=segment.pk).exists()
