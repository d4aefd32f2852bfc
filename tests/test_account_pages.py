"""Account pages as users meet them: list, account page, quick touchpoint log, forms, stages.

Tenancy and every role rule are checked at page level: another workspace's account is a 404
everywhere, and the list never shows or counts it.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountStatus, LifecycleStage, StageChange, Touchpoint
from onboarding.models import OnboardingSettings
from workspaces.models import AuditEvent

from .factories import AccountFactory, ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:list")


def detail(account):
    return reverse("accounts:detail", args=[account.pk])


def names(response):
    return [a.name for a in response.context["accounts"]]


def account_form_data(account=None, **overrides):
    """A complete, valid POST for the account form (starting from `account` when given)."""
    data = {
        "name": "Hinode Foods KK", "external_id": "", "domain": "hinode.example", "arr": "3600000",
        "plan": "Pro", "licensed_seats": "25", "contract_start": "2025-04-01", "renewal_date": "2026-03-31",
        "stage": "", "status": "active", "churned_on": "", "churn_reason": "", "churn_note": "", "tags": "",
        "attributes": "{}",
    }
    if account is not None:
        data.update(
            name=account.name, external_id=account.external_id, domain=account.domain, arr=str(account.arr),
            stage=str(account.stage_id or ""), owner=str(account.owner_id or ""),
        )
    data.update(overrides)
    return data


# --- Tenancy -------------------------------------------------------------------------------------
def test_other_workspace_account_is_404_on_every_page(login, manager, account, other_account):
    client = login(manager)
    pk = other_account.pk
    assert client.get(reverse("accounts:detail", args=[pk])).status_code == 404
    assert client.get(reverse("accounts:edit", args=[pk])).status_code == 404
    assert client.post(reverse("accounts:edit", args=[pk]), account_form_data()).status_code == 404
    assert client.get(reverse("accounts:delete", args=[pk])).status_code == 404
    assert client.post(reverse("accounts:delete", args=[pk])).status_code == 404
    assert client.get(reverse("accounts:contact_add", args=[pk])).status_code == 404
    response = client.post(reverse("accounts:log_touchpoint", args=[pk]), {
        "channel": "phone", "occurred_at": "2026-01-05T10:00", "sentiment": "neutral", "summary": "x",
    })
    assert response.status_code == 404
    assert not Touchpoint.all_workspaces.filter(account=other_account).exists()
    assert Account.all_workspaces.filter(pk=pk).exists()


def test_other_workspace_contact_is_404_through_my_account(login, manager, account, other_account):
    other_contact = ContactFactory(account=other_account)
    url = reverse("accounts:contact_edit", args=[account.pk, other_contact.pk])
    assert login(manager).get(url).status_code == 404


def test_list_and_count_never_include_other_workspace(login, csm, account, other_account):
    response = login(csm).get(LIST)
    assert response.status_code == 200
    assert names(response) == ["Sakura Logistics KK"]
    assert response.context["total"] == 1
    assert b"Hidden Other Corp" not in response.content


def test_filter_by_other_workspace_owner_is_rejected_without_leak(login, manager, account, other_account, outsider):
    response = login(manager).get(LIST, {"owner": outsider.pk})
    assert response.status_code == 200
    assert names(response) == []
    assert response.context["total"] == 0
    assert "owner" in response.context["filter_form"].errors
    assert b"Hidden Other Corp" not in response.content
    assert outsider.display_name.encode() not in response.content


def test_filter_by_other_workspace_stage_is_rejected(login, manager, account, other_ws):
    other_stage = LifecycleStage.objects.for_workspace(other_ws).first()
    response = login(manager).get(LIST, {"stage": other_stage.pk})
    assert names(response) == []
    assert "stage" in response.context["filter_form"].errors


def test_owner_filter_choices_are_this_workspace_only(login, manager, csm, outsider):
    form = login(manager).get(LIST).context["filter_form"]
    owners = list(form.fields["owner"].queryset)
    assert csm in owners and manager in owners
    assert outsider not in owners


def test_anonymous_is_sent_to_login(client, account):
    response = client.get(detail(account))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- List: filters, sort, pagination -------------------------------------------------------------
@pytest.fixture
def book(ws, csm, csm2):
    """A small book of accounts across owners, stages, tiers, bands and ARR."""
    stages = list(LifecycleStage.objects.for_workspace(ws))
    return {
        "alpha": AccountFactory(workspace=ws, name="Alpha KK", owner=csm, arr=Decimal("500000"), stage=stages[0],
                                touch_tier="tech", health_score=35, health_band="red",
                                renewal_date=dt.date(2026, 6, 1)),
        "bravo": AccountFactory(workspace=ws, name="Bravo KK", owner=csm2, arr=Decimal("12000000"),
                                stage=stages[1], touch_tier="high", health_score=82, health_band="green",
                                renewal_date=dt.date(2026, 2, 1)),
        "charlie": AccountFactory(workspace=ws, name="Charlie KK", owner=csm, arr=Decimal("2400000"),
                                  stage=stages[1], touch_tier="low", health_score=60, health_band="yellow",
                                  renewal_date=dt.date(2026, 9, 1)),
        "delta": AccountFactory(workspace=ws, name="Delta KK", owner=csm2, arr=Decimal("900000"), stage=stages[2],
                                status=AccountStatus.CHURNED, churned_on=dt.date(2025, 12, 1),
                                renewal_date=None),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Alpha KK", "Bravo KK", "Charlie KK", "Delta KK"]),
        ({"q": "rav"}, ["Bravo KK"]),
        ({"status": "churned"}, ["Delta KK"]),
        ({"touch_tier": "low"}, ["Charlie KK"]),
        ({"health_band": "red"}, ["Alpha KK"]),
        ({"arr_min": "1000000"}, ["Bravo KK", "Charlie KK"]),
        ({"arr_min": "600000", "arr_max": "3000000"}, ["Charlie KK", "Delta KK"]),
    ],
)
def test_list_filters(login, viewer, book, params, expected):
    response = login(viewer).get(LIST, params)
    assert names(response) == expected
    assert response.context["total"] == len(expected)


def test_list_filters_by_owner_and_stage(login, viewer, book, csm, ws):
    client = login(viewer)
    assert names(client.get(LIST, {"owner": csm.pk})) == ["Alpha KK", "Charlie KK"]
    adoption = LifecycleStage.objects.for_workspace(ws).get(name="Adoption")
    assert names(client.get(LIST, {"stage": adoption.pk, "owner": csm.pk})) == ["Charlie KK"]


def test_list_sort_and_headers_keep_filters(login, viewer, book):
    client = login(viewer)
    assert names(client.get(LIST, {"sort": "-arr"})) == ["Bravo KK", "Charlie KK", "Delta KK", "Alpha KK"]
    assert names(client.get(LIST, {"sort": "renewal_date", "status": "active"})) == [
        "Bravo KK", "Alpha KK", "Charlie KK",
    ]
    assert names(client.get(LIST, {"sort": "health_score", "status": "active"})) == [
        "Alpha KK", "Charlie KK", "Bravo KK",
    ]
    # An unknown sort falls back to name instead of failing.
    assert names(client.get(LIST, {"sort": "password"}))[0] == "Alpha KK"
    # The ARR header link keeps the filter and flips the direction.
    response = client.get(LIST, {"status": "active", "sort": "-arr"})
    assert b'href="?status=active&amp;sort=arr"' in response.content


def test_list_paginates_by_50_and_pages_keep_filters(login, viewer, ws, csm):
    for i in range(55):
        AccountFactory(workspace=ws, owner=csm, name=f"Bulk {i:03d}", touch_tier="tech")
    AccountFactory(workspace=ws, owner=csm, name="Not tech", touch_tier="high")
    client = login(viewer)
    first = client.get(LIST, {"touch_tier": "tech"})
    assert len(first.context["accounts"]) == 50
    assert first.context["total"] == 55
    assert b'href="?touch_tier=tech&amp;page=2"' in first.content
    second = client.get(LIST, {"touch_tier": "tech", "page": 2})
    assert names(second) == [f"Bulk {i:03d}" for i in range(50, 55)]


def test_list_shows_money_in_workspace_currency_and_health_badges(login, viewer, book, ws):
    content = login(viewer).get(LIST).content.decode()
    assert "¥12,000,000" in content
    assert 'class="badge band-red"' in content
    ws.currency = "USD"
    ws.save()
    assert "$12,000,000.00" in login(viewer).get(LIST).content.decode()


def test_list_empty_states(login, viewer, manager, ws):
    response = login(viewer).get(LIST)
    assert b"No accounts yet." in response.content
    assert b"Create the first account" not in response.content
    assert b"No accounts match these filters." in login(viewer).get(LIST, {"q": "zzz"}).content
    assert b"Create the first account" in login(manager).get(LIST).content


def test_list_query_count_does_not_grow_with_rows(login, manager, ws, csm, csm2, django_assert_max_num_queries):
    client = login(manager)
    for i in range(10):
        AccountFactory(workspace=ws, owner=csm if i % 2 else csm2, name=f"Few {i}")
    with django_assert_max_num_queries(12):
        client.get(LIST, {"status": "active", "sort": "-arr"})
    for i in range(60):
        AccountFactory(workspace=ws, owner=csm if i % 2 else csm2, name=f"Many {i}")
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"status": "active", "sort": "-arr", "owner": csm.pk})
    assert response.status_code == 200


def test_new_account_button_for_roles_that_may_create(login, viewer, csm, manager):
    assert b"New account" not in login(viewer).get(LIST).content
    assert b"New account" in login(csm).get(LIST).content
    assert b"New account" in login(manager).get(LIST).content


# --- Account page and quick log ------------------------------------------------------------------
def test_account_page_shows_facts_contacts_timeline_and_history(login, viewer, account, csm):
    ContactFactory(account=account, name="Haruto Sato", role="champion", is_key_person=True)
    ContactFactory(account=account, name="Left Person", left_on=dt.date(2025, 10, 1))
    older = TouchpointFactory(account=account, author=csm, summary="Older call",
                              occurred_at=timezone.now() - dt.timedelta(days=3))
    newer = TouchpointFactory(account=account, author=csm, summary="Newer call", channel="email")
    account.attributes = {"nps": 42}
    account.save()
    response = login(viewer).get(detail(account))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Haruto Sato" in content and "Champion" in content and "Left 1 Oct 2025" in content
    assert [t.pk for t in response.context["timeline"]] == [newer.pk, older.pk]
    assert content.index("Newer call") < content.index("Older call")
    assert "nps" in content and "42" in content
    assert response.context["touchpoint_form"] is None
    assert b"Log a touchpoint" not in response.content


def test_account_page_shows_time_in_stage(login, viewer, account):
    account.stage_entered_at = timezone.now() - dt.timedelta(days=15)
    account.save()
    content = login(viewer).get(detail(account)).content.decode()
    assert "for 2\xa0weeks" in content


def test_quick_log_records_touchpoint_and_redirects_with_message(login, csm2, account):
    contact = ContactFactory(account=account, name="Haruto Sato")
    client = login(csm2)  # a CSM logs on any account of the workspace, not only their own
    response = client.post(reverse("accounts:log_touchpoint", args=[account.pk]), {
        "channel": "video_meeting", "occurred_at": "2026-01-05T10:30", "contacts": [contact.pk],
        "summary": "Kickoff with the champion", "sentiment": "positive",
    })
    assert response.status_code == 302
    assert response["Location"] == detail(account) + "#timeline"
    touchpoint = Touchpoint.all_workspaces.get(account=account)
    assert touchpoint.author == csm2
    assert list(touchpoint.contacts.all()) == [contact]
    assert touchpoint.channel == "video_meeting" and touchpoint.sentiment == "positive"
    # "When" is read in the workspace's time zone (Asia/Tokyo, UTC+9).
    assert touchpoint.occurred_at == dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC)
    page = client.get(response["Location"])
    assert b"Touchpoint logged." in page.content
    assert page.context["timeline"][0] == touchpoint


def test_quick_log_rejects_contact_of_another_account(login, csm, account, ws):
    stranger = ContactFactory(account=AccountFactory(workspace=ws))
    response = login(csm).post(reverse("accounts:log_touchpoint", args=[account.pk]), {
        "channel": "phone", "occurred_at": "2026-01-05T10:30", "contacts": [stranger.pk], "sentiment": "neutral",
    })
    assert response.status_code == 400
    assert "contacts" in response.context["touchpoint_form"].errors
    assert not Touchpoint.all_workspaces.exists()


def test_quick_log_bad_input_names_the_field(login, csm, account):
    response = login(csm).post(reverse("accounts:log_touchpoint", args=[account.pk]), {
        "channel": "carrier_pigeon", "occurred_at": "not a date", "sentiment": "neutral",
    })
    assert response.status_code == 400
    errors = response.context["touchpoint_form"].errors
    assert set(errors) == {"channel", "occurred_at"}
    assert not Touchpoint.all_workspaces.exists()


def test_viewer_cannot_log_touchpoints(login, viewer, account):
    response = login(viewer).post(reverse("accounts:log_touchpoint", args=[account.pk]), {
        "channel": "phone", "occurred_at": "2026-01-05T10:30", "sentiment": "neutral",
    })
    assert response.status_code == 403
    assert not Touchpoint.all_workspaces.exists()


# --- Roles on create / edit / delete -------------------------------------------------------------
def test_viewer_cannot_create_or_edit(login, viewer, account):
    client = login(viewer)
    assert client.get(reverse("accounts:create")).status_code == 403
    assert client.post(reverse("accounts:create"), account_form_data()).status_code == 403
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == 403
    assert client.post(reverse("accounts:edit", args=[account.pk]),
                       account_form_data(account, name="Renamed")).status_code == 403
    assert client.get(reverse("accounts:contact_add", args=[account.pk])).status_code == 403
    account.refresh_from_db()
    assert account.name == "Sakura Logistics KK"
    assert Account.all_workspaces.count() == 1
    page = client.get(detail(account))
    assert b">Edit<" not in page.content


def test_csm_edits_own_account_and_stage_change_is_recorded(login, csm, account, ws):
    OnboardingSettings.objects.for_workspace(ws).update(handoff_gates_stage=False)  # not the handoff gate's test
    established = LifecycleStage.objects.for_workspace(ws).get(name="Established")
    response = login(csm).post(reverse("accounts:edit", args=[account.pk]), account_form_data(
        account, name="Sakura Logistics Holdings", stage=established.pk, tags="enterprise, pilot",
        attributes='{"nps": 40}',
    ))
    assert response.status_code == 302, response.context["form"].errors
    account.refresh_from_db()
    assert account.name == "Sakura Logistics Holdings"
    assert account.stage == established
    assert account.stage_entered_at is not None
    assert sorted(t.name for t in account.tags.all()) == ["enterprise", "pilot"]
    assert account.attributes == {"nps": 40}
    assert StageChange.all_workspaces.filter(account=account, to_stage=established, changed_by=csm).exists()
    assert AuditEvent.all_workspaces.filter(action="account.updated", object_id=str(account.pk), actor=csm).exists()


def test_csm_cannot_edit_someone_elses_account(login, csm2, account):
    client = login(csm2)
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == 403
    response = client.post(reverse("accounts:edit", args=[account.pk]), account_form_data(account, name="Hijack"))
    assert response.status_code == 403
    assert client.get(reverse("accounts:contact_add", args=[account.pk])).status_code == 403
    account.refresh_from_db()
    assert account.name == "Sakura Logistics KK"
    assert b">Edit<" not in client.get(detail(account)).content


def test_csm_cannot_reassign_own_account(login, csm, csm2, account):
    response = login(csm).post(reverse("accounts:edit", args=[account.pk]),
                               account_form_data(account, owner=csm2.pk))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == csm


def test_csm_creates_account_owned_by_themselves(login, csm, csm2):
    response = login(csm).post(reverse("accounts:create"), account_form_data(owner=csm2.pk))
    assert response.status_code == 302
    created = Account.all_workspaces.get(name="Hinode Foods KK")
    assert created.owner == csm
    assert response["Location"] == detail(created)


def test_manager_edits_any_account_and_reassigns(login, manager, csm2, account):
    response = login(manager).post(reverse("accounts:edit", args=[account.pk]),
                                   account_form_data(account, owner=csm2.pk, status="churned",
                                                     churn_reason="budget", churned_on="2026-01-10"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == csm2
    assert account.status == "churned" and account.churned_on == dt.date(2026, 1, 10)


def test_owner_choices_are_active_members_of_this_workspace(login, manager, csm, viewer, outsider, account):
    form = login(manager).get(reverse("accounts:edit", args=[account.pk])).context["form"]
    owners = list(form.fields["owner"].queryset)
    assert csm in owners and manager in owners
    assert viewer not in owners and outsider not in owners
    response = login(manager).post(reverse("accounts:edit", args=[account.pk]),
                                   account_form_data(account, owner=outsider.pk))
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors
    account.refresh_from_db()
    assert account.owner == csm


def test_account_form_errors_name_the_field(login, manager, account, ws):
    AccountFactory(workspace=ws, external_id="crm-taken")
    client = login(manager)
    response = client.post(reverse("accounts:create"), account_form_data(arr="-5", name=""))
    assert response.status_code == 400
    assert {"arr", "name"} <= set(response.context["form"].errors)
    response = client.post(reverse("accounts:create"), account_form_data(external_id="crm-taken"))
    assert response.status_code == 400
    assert b"already has this external ID" in response.content
    assert not Account.all_workspaces.filter(name="Hinode Foods KK").exists()


def test_only_managers_delete_with_confirmation(login, csm, manager, account):
    assert login(csm).get(reverse("accounts:delete", args=[account.pk])).status_code == 403
    assert login(csm).post(reverse("accounts:delete", args=[account.pk])).status_code == 403
    client = login(manager)
    confirm = client.get(reverse("accounts:delete", args=[account.pk]))
    assert confirm.status_code == 200 and b"cannot be undone" in confirm.content
    assert Account.all_workspaces.filter(pk=account.pk).exists()
    response = client.post(reverse("accounts:delete", args=[account.pk]))
    assert response.status_code == 302
    assert not Account.all_workspaces.filter(pk=account.pk).exists()
    assert AuditEvent.all_workspaces.filter(action="account.deleted").exists()


# --- Contacts ------------------------------------------------------------------------------------
def test_owner_adds_and_edits_contacts(login, csm, account):
    client = login(csm)
    response = client.post(reverse("accounts:contact_add", args=[account.pk]), {
        "name": "Yuki Tanaka", "email": "yuki@sakura.example", "title": "IT lead", "role": "decision_maker",
        "is_key_person": "on", "left_on": "",
    })
    assert response.status_code == 302
    contact = account.contacts.get()
    assert contact.is_key_person and contact.role == "decision_maker"
    response = client.post(reverse("accounts:contact_edit", args=[account.pk, contact.pk]), {
        "name": "Yuki Tanaka", "email": "yuki@sakura.example", "title": "IT lead", "role": "decision_maker",
        "left_on": "2026-01-31",
    })
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.left_on == dt.date(2026, 1, 31) and not contact.is_key_person


def test_contact_form_rejects_bad_email(login, manager, account):
    response = login(manager).post(reverse("accounts:contact_add", args=[account.pk]), {
        "name": "X", "email": "not-an-email", "role": "end_user",
    })
    assert response.status_code == 400
    assert "email" in response.context["form"].errors


# --- Lifecycle stages ----------------------------------------------------------------------------
def stage_post(stages, extra=None):
    data = {"stages-TOTAL_FORMS": str(len(stages) + 1), "stages-INITIAL_FORMS": str(len(stages)),
            "stages-MIN_NUM_FORMS": "0", "stages-MAX_NUM_FORMS": "1000"}
    for i, stage in enumerate(stages):
        data.update({f"stages-{i}-id": str(stage["id"]), f"stages-{i}-name": stage["name"],
                     f"stages-{i}-position": str(stage["position"]),
                     f"stages-{i}-target_share": "" if stage["target_share"] is None else str(stage["target_share"])})
    n = len(stages)
    data.update({f"stages-{n}-name": "", f"stages-{n}-position": "0", f"stages-{n}-target_share": ""})
    for key, value in (extra or {}).items():
        data[f"stages-{n}-{key}"] = value
    return data


def current_stages(ws):
    return list(LifecycleStage.objects.for_workspace(ws).values("id", "name", "position", "target_share"))


def test_manager_renames_reorders_and_adds_stages(login, manager, ws):
    stages = current_stages(ws)
    stages[0]["name"] = "Kickoff"
    stages[0]["position"] = 9
    stages[1]["target_share"] = 20
    response = login(manager).post(reverse("accounts:stages"),
                                   stage_post(stages, {"name": "Advocacy", "position": "5", "target_share": "5"}))
    assert response.status_code == 302, response.context["formset"].errors
    after = list(LifecycleStage.objects.for_workspace(ws).values_list("name", flat=True))
    assert after == ["Adoption", "Established", "Expansion", "Renewal", "Advocacy", "Kickoff"]
    assert LifecycleStage.objects.for_workspace(ws).get(name="Adoption").target_share == 20


def test_stage_targets_over_100_percent_are_rejected(login, manager, ws):
    stages = current_stages(ws)
    stages[0]["target_share"] = 90
    response = login(manager).post(reverse("accounts:stages"), stage_post(stages))
    assert response.status_code == 400
    assert b"must not exceed 100%" in response.content
    assert LifecycleStage.objects.for_workspace(ws).get(pk=stages[0]["id"]).target_share == 15


def test_stage_ids_of_another_workspace_are_rejected(login, manager, ws, other_ws):
    stages = current_stages(ws)
    other = LifecycleStage.objects.for_workspace(other_ws).first()
    stages[0]["id"] = other.pk
    stages[0]["name"] = "Pwned"
    response = login(manager).post(reverse("accounts:stages"), stage_post(stages))
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.name != "Pwned"


def test_only_managers_manage_stages(login, csm, viewer, admin):
    assert login(csm).get(reverse("accounts:stages")).status_code == 403
    assert login(viewer).get(reverse("accounts:stages")).status_code == 403
    assert login(admin).get(reverse("accounts:stages")).status_code == 200


def test_pages_speak_japanese_when_the_browser_asks(login, csm, account):
    client = login(csm)
    content = client.get(LIST, headers={"accept-language": "ja"}).content.decode()
    assert "新規顧客" in content and "1件" in content
    content = client.get(detail(account), headers={"accept-language": "ja"}).content.decode()
    assert "接触を記録" in content and "オンライン会議" in content


def test_filter_selects_offer_any(login, viewer):
    content = login(viewer).get(LIST).content.decode()
    assert "---------" not in content
