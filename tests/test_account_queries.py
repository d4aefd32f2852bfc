"""The account list API and the account page at scale: a fixed number of queries whatever the data,
and the fast paths give exactly what the plain ones gave.

The API list reads its page as plain rows (accounts.selectors.account_rows), the detail as a model
instance; the page reads a 90-day health trend as plain rows and only two snapshots in full.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account, LifecycleStage
from accounts.services import update_account
from healthscore.definition import default_definition
from healthscore.models import HealthSnapshot
from healthscore.selectors import account_health, default_scorecard, trend_chart
from healthscore.services import rate_sentiment, save_scorecard
from workspaces.policy import SYSTEM

from .factories import AccountFactory, ContactFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def varied_book(ws, owners):
    """Accounts covering what a row can hold: no owner or stage, tags, JSON, nulls, churn."""
    stages = list(LifecycleStage.objects.for_workspace(ws))
    accounts = []
    for i in range(12):
        account = AccountFactory(
            workspace=ws, owner=owners[i % len(owners)] if i % 4 else None,
            stage=stages[i % len(stages)] if i % 5 else None,
            arr=Decimal("1234567.89") * i, licensed_seats=None if i % 3 == 0 else 10 + i,
            attributes={"nps": i, "segment": ["a", "b"]} if i % 2 else {}, domain=f"c{i}.example" if i % 2 else "",
        )
        if i % 3:
            update_account(account=account, actor=SYSTEM, tags=["zeta", f"t{i}", "alpha"][: i % 4 + 1])
        accounts.append(account)
    Account.all_workspaces.filter(pk=accounts[1].pk).update(health_score=72.5, health_band="green", health_change_30d=-3.25,
                                                     touch_tier="high")
    Account.all_workspaces.filter(pk=accounts[2].pk).update(status="churned", churned_on=dt.date(2025, 9, 30),
                                                     churn_reason="budget", touch_tier="low")
    return accounts


# --- API list ------------------------------------------------------------------------------------
def test_list_rows_are_the_detail_rows(api_for, manager, csm, csm2, ws):
    varied_book(ws, [csm, csm2])
    api = api_for(manager)
    rows = api.get("/api/v1/accounts/?page_size=100&ordering=-arr").json()["results"]
    assert len(rows) == 12
    for row in rows:
        assert row == api.get(f"/api/v1/accounts/{row['id']}/").json()


def test_list_rows_keep_the_order_across_pages(api_for, manager, csm, ws):
    varied_book(ws, [csm])
    api = api_for(manager)
    pages = [api.get(f"/api/v1/accounts/?page_size=5&page={n}&ordering=-health_score").json() for n in (1, 2, 3)]
    listed = [row["id"] for page in pages for row in page["results"]]
    expected = list(Account.objects.for_workspace(ws).order_by("-health_score", "-id").values_list("id", flat=True))
    assert listed == expected and pages[0]["count"] == 12


def test_list_query_count_does_not_grow_with_rows_owners_or_tags(api_for, manager, csm, csm2, ws,
                                                                 django_assert_max_num_queries):
    api = api_for(manager)
    api.get("/api/v1/me/")  # the token's first use writes last_used_at; keep that out of the count
    varied_book(ws, [csm])
    # token, owner filter's check, count, page of ids, rows, tag names
    with django_assert_max_num_queries(6):
        assert api.get(f"/api/v1/accounts/?owner={csm.pk}&ordering=-health_score").status_code == 200
    varied_book(ws, [csm, csm2, manager])
    with django_assert_max_num_queries(6):
        assert api.get(f"/api/v1/accounts/?owner={csm.pk}&ordering=-health_score").status_code == 200
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/accounts/?page_size=100").status_code == 200


def test_list_of_an_empty_page_and_filter(api_for, manager):
    body = api_for(manager).get("/api/v1/accounts/?q=nothing-matches").json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_detail_query_count(api_for, manager, csm, ws, django_assert_max_num_queries):
    account = varied_book(ws, [csm])[5]
    api = api_for(manager)
    api.get("/api/v1/me/")
    # token, account with owner and stage, tags
    with django_assert_max_num_queries(3):
        assert api.get(f"/api/v1/accounts/{account.pk}/").status_code == 200


# --- Account page ----------------------------------------------------------------------------------
def with_history(account, days):
    """`days` daily snapshots up to today, cloned from a real nightly one."""
    from healthscore.nightly import step as nightly_health

    ws = account.workspace
    today = ws.today()
    nightly_health(workspace=ws, as_of=today)
    latest = HealthSnapshot.all_workspaces.get(account=account, day=today)
    HealthSnapshot.all_workspaces.bulk_create([
        HealthSnapshot(workspace=ws, account=account, day=today - dt.timedelta(days=back), version=latest.version,
                       total=50 + back % 7, band="yellow", available_weight=1, groups=latest.groups,
                       measures=latest.measures)
        for back in range(1, days)
    ])
    return today


def test_health_trend_is_the_last_90_days_with_two_snapshots_explained(ws, csm, account):
    today = with_history(account, 120)
    HealthSnapshot.all_workspaces.filter(account=account, day=today - dt.timedelta(days=3)).delete()  # a missed night
    health = account_health(account=account)
    assert health["current"].day == today and health["current"].measures
    assert health["week_ago"].day == today - dt.timedelta(days=7) and health["week_ago"].measures
    in_window = list(HealthSnapshot.all_workspaces.filter(account=account, day__gt=today - dt.timedelta(days=90))
                     .select_related("version").order_by("day"))
    assert health["chart"] == trend_chart(in_window)
    points = health["chart"]["series"][0]["points"]
    assert len(points) == 90 and points[-4] is None and points[-1] == health["current"].total


def test_health_trend_marks_a_new_scorecard_version(ws, manager, account):
    today = with_history(account, 10)
    card = default_scorecard(workspace=ws)
    definition = default_definition()
    definition["groups"][0]["weight"] = 70
    _card, version = save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition, note="v2")
    HealthSnapshot.all_workspaces.filter(account=account, day__gte=today - dt.timedelta(days=1)).update(version=version)
    assert account_health(account=account)["chart"]["markers"] == [{"index": 8, "label": "v2"}]


def test_account_page_query_count_does_not_grow(login, manager, csm, ws, account, django_assert_max_num_queries):
    client = login(manager)
    update_account(account=account, actor=SYSTEM, tags=["vip", "kanto"])
    update_account(account=account, actor=manager, plan="Pro")
    rate_sentiment(account=account, actor=csm, rating=4)
    with_history(account, 5)
    contact = ContactFactory(account=account)
    TouchpointFactory(account=account, author=csm).contacts.set([contact])
    url = reverse("accounts:detail", args=[account.pk])
    # session, user, membership, the user's memberships and its user (base.html); account, contacts
    # (twice: list and quick-log form), touchpoints, their contacts, tags, audit events; tier pin,
    # coverage row; health trend, the two explained snapshots, sentiment and its settings; tasks, runs;
    # the toss-ups panel; the voice panel (feature requests, latest survey answers); the onboarding panel
    # (handoff, settings, milestone plan, done days); the lifecycle panel; the success plan panel
    with django_assert_max_num_queries(29):
        assert client.get(url).status_code == 200
    for _ in range(30):
        TouchpointFactory(account=account, author=csm).contacts.set([ContactFactory(account=account)])
    with_history(AccountFactory(workspace=ws, owner=csm), 3)
    latest = HealthSnapshot.all_workspaces.filter(account=account).first()
    HealthSnapshot.all_workspaces.bulk_create([
        HealthSnapshot(workspace=ws, account=account, day=latest.day - dt.timedelta(days=back), version=latest.version,
                       total=60, band="yellow", available_weight=1, groups=latest.groups, measures=latest.measures)
        for back in range(10, 100)
    ])
    with django_assert_max_num_queries(29):
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["timeline"]) == 31


def test_account_page_labels_match_the_model_displays(login, viewer, csm, account):
    ContactFactory(account=account, role="champion")
    TouchpointFactory(account=account, author=csm, channel="onsite_meeting", sentiment="positive")
    response = login(viewer).get(reverse("accounts:detail", args=[account.pk]))
    touchpoint = response.context["timeline"][0]
    assert (touchpoint.channel_label, touchpoint.sentiment_label) == (
        touchpoint.get_channel_display(), touchpoint.get_sentiment_display())
    contact = response.context["contacts"][0]
    assert contact.role_label == contact.get_role_display() == "Champion"
    content = response.content.decode()
    assert touchpoint.get_channel_display() in content and "Positive" in content
