"""Values as people read them: custom attributes as label: value, channel codes as their labels,
money with the currency, the alert budget's sentence matching its figures, what-if charts on one
scale."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.attributes import attribute_rows
from accounts.models import Account
from accounts.templatetags.account_ui import channel_label, channel_labels
from healthscore.definition import default_definition
from healthscore.models import HealthAlert, HealthSettings, week_of
from healthscore.selectors import default_scorecard, group_labels
from tests.factories import AccountFactory
from tests.test_health_pages_api import _editor_post, scored  # noqa: F401  (the fixture)


def test_custom_attributes_read_as_label_and_value():
    rows = attribute_rows({"risk_flags": ["late_payment", "champion_left"], "nps": 42, "is_partner": True,
                           "contract": {"region": "kanto", "seats_total": 1200}, "note": "", "ratio": 0.75})
    assert [(label, value) for _key, label, value in rows] == [
        ("Contract", "Region: kanto, Seats total: 1,200"), ("Is partner", "Yes"), ("Note", "—"),
        ("NPS", "42"), ("Ratio", "0.75"), ("Risk flags", "late_payment, champion_left")]
    assert [key for key, _label, _value in rows][3] == "nps"
    assert attribute_rows(None) == [] and attribute_rows(["not", "a", "dict"]) == []
    # Japanese: the same rows, built from translated pieces (はい/いいえ and 、 with the catalogue).
    with translation.override("ja"):
        japanese = attribute_rows({"is_partner": False, "tags": ["a", "b"]})
    assert [label for _key, label, _value in japanese] == ["Is partner", "Tags"]


@pytest.mark.django_db
def test_account_page_shows_attributes_not_json(login, csm, account):
    Account.all_workspaces.filter(pk=account.pk).update(attributes={"risk_flags": ["late_payment"], "nps": 42})
    page = login(csm).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert '<dt title="risk_flags">Risk flags</dt><dd>late_payment</dd>' in page
    assert '<dt title="nps">NPS</dt><dd>42</dd>' in page
    assert "[&#x27;late_payment&#x27;]" not in page and "['late_payment']" not in page


def test_channel_codes_read_as_labels():
    assert channel_label("phone") == "Phone" and channel_label("in_app") == "In-app message"
    assert channel_label("carrier_pigeon") == "carrier_pigeon"
    assert channel_labels(["phone", "video_meeting"]) == "Phone, Video meeting"
    with translation.override("ja"):
        assert channel_label("phone") == "電話"
        assert channel_labels(["phone", "email"]).startswith("電話") and "メール" in channel_labels(["phone", "email"])


@pytest.mark.django_db
def test_cadence_policies_list_channel_labels(login, manager):
    page = login(manager).get(reverse("coverage:touch_model")).content.decode()
    cells = re.findall(r'<td class="small">([^<]*)</td>', page)
    assert any("Phone" in cell for cell in cells)
    assert not any(re.search(r"\b(phone|video_meeting|onsite_meeting)\b", cell) for cell in cells)


@pytest.mark.django_db
def test_alert_pages_show_money_and_a_budget_sentence_that_matches_the_figures(login, ws, csm):
    HealthSettings.all_workspaces.filter(workspace=ws).update(alert_weekly_budget=5)
    today, week = ws.today(), week_of(ws.today())
    accounts = [AccountFactory(workspace=ws, owner=csm, arr=Decimal("3400000")) for _ in range(5)]

    def alert(account, pushed, status="open", kind="drop"):
        return HealthAlert.all_workspaces.create(
            workspace=ws, account=account, owner=csm, kind=kind, reason="usage", opened_on=today,
            last_seen_on=today, week=week, pushed=pushed, score=30, previous_score=60, drop=30,
            arr_at_risk=3400000, status=status)

    alert(accounts[0], True)
    alert(accounts[0], True, kind="entered_red")  # a second alert of a pushed account costs nothing more
    alert(accounts[1], True)
    alert(accounts[2], True, status="closed")  # pushed this week, since dealt with: still counts
    alert(accounts[3], False)
    alert(accounts[4], False)
    page = login(csm).get(reverse("health:alerts")).content.decode()
    sentence = re.search(r'data-testid="alert-budget">(.*?)</p>', page, re.S).group(1)
    assert re.sub(r"\s+", " ", sentence).strip() == (
        f"Week {week:%Y-%m-%d} – {week + dt.timedelta(days=6):%Y-%m-%d}: 3 of 5 accounts pushed. "
        "2 alerts held for the digest.")
    assert "¥3,400,000" in page
    # The reason is the scorecard group's label, not its key; in the book too.
    assert '<span class="muted">Usage</span>' in page and '<span class="muted">usage</span>' not in page
    book = login(csm).get(reverse("my_book")).content.decode()
    assert "· Usage" in book and "· usage" not in book
    with translation.override("ja"):
        labels = group_labels(workspace=ws)
    assert labels["usage"] == "Usage"  # stored in the workspace's language (English here)

    HealthSettings.all_workspaces.filter(workspace=ws).update(alert_weekly_budget=1)
    HealthAlert.all_workspaces.filter(workspace=ws, pushed=False).exclude(account=accounts[3]).delete()
    page = login(csm).get(reverse("health:alerts")).content.decode()
    sentence = re.sub(r"\s+", " ", re.search(r'data-testid="alert-budget">(.*?)</p>', page, re.S).group(1))
    assert "3 of 1 account pushed." in sentence and "1 alert held for the digest." in sentence


@pytest.mark.django_db
def test_what_if_charts_share_one_scale_and_say_when_saving_applies(login, manager, scored):  # noqa: F811
    card = default_scorecard(workspace=scored.workspace)
    form = _editor_post(default_definition(), usage_weight="90")
    response = login(manager).post(f"/health/scorecards/{card.pk}/", {**form, "action": "preview"})
    preview = response.context["preview"]
    bars = preview["current_distribution"] + preview["new_distribution"]
    assert preview["chart_max"] == max(b["value"] for b in bars) > 0
    page = response.content.decode()
    section = page[page.index("health-compare"):page.index("</section>", page.index("health-compare"))]
    charts = re.findall(r"<svg.*?</svg>", section, re.S)
    assert len(charts) == 2
    # One scale: height per account is the same in both charts (and the tallest bar fills the plot).
    ratios = set()
    for chart in charts:
        for height, title in re.findall(r'<rect class="bar"[^>]*height="([\d.]+)"><title>[^:]*: ([\d.]+)</title>', chart):
            if float(title):
                ratios.add(round(float(height) / float(title), 1))
    assert len(ratios) == 1
    assert "next recompute" in page


def test_bar_charts_drawn_to_a_given_scale_compare_by_height():
    from ui.templatetags.charts import bar_chart

    def height(svg):
        return float(re.search(r'<rect class="bar"[^>]*height="([\d.]+)"', svg).group(1))

    full = height(bar_chart([{"label": "0", "value": 4}], y_max=4))
    assert height(bar_chart([{"label": "0", "value": 2}], y_max=4)) == pytest.approx(full / 2)
    assert height(bar_chart([{"label": "0", "value": 2}])) == pytest.approx(full)  # alone, its own scale
    assert height(bar_chart([{"label": "0", "value": 8}], y_max=4)) == pytest.approx(full)  # never clipped
