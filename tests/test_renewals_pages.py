"""The renewals page: 200 with figures by month and band, the bubble chart, past due first, the
empty state, Japanese, the CSV, and the record-outcome page (roles, errors on the field)."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from accounts.models import Contract
from renewals.forecast import overview
from renewals.models import RenewalOutcome

from .factories import AccountFactory, ContractFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def world(ws, csm, csm2):
    today = ws.today()
    red = AccountFactory(workspace=ws, owner=csm, name="Red Big KK", health_score=25, health_band="red")
    green = AccountFactory(workspace=ws, owner=csm2, name="Green KK", health_score=80, health_band="green")
    unknown = AccountFactory(workspace=ws, owner=csm, name="Unknown KK", health_score=None, health_band="")
    lines = {
        "red": ContractFactory(account=red, start_date=today - 300 * DAY, end_date=today + 10 * DAY,
                               mrr=Decimal("500000"), product="Enterprise"),
        "green": ContractFactory(account=green, start_date=today - 300 * DAY, end_date=today + 40 * DAY,
                                 mrr=Decimal("100000"), product="Core"),
        "unknown": ContractFactory(account=unknown, start_date=today - 300 * DAY, end_date=today + 40 * DAY,
                                   mrr=Decimal("20000"), product="Core"),
        "past": ContractFactory(account=green, start_date=today - 400 * DAY, end_date=today - 5 * DAY,
                                mrr=Decimal("7000"), product="Add-on"),
        "far": ContractFactory(account=green, start_date=today - 10 * DAY, end_date=today + 365 * DAY,
                               mrr=Decimal("1"), product="Later"),  # the window's end: not included
    }
    return today, lines


def test_overview_figures_by_month_and_band(ws, world):
    today, lines = world
    summary = overview(workspace=ws, today=today)
    # In the window: red 500,000 (today+10), green 100,000 and unknown 20,000 (today+40); not the past
    # one (before today) nor the one renewing on today+365.
    assert summary["totals"]["mrr"] == Decimal("620000") and summary["totals"]["count"] == 3
    assert summary["totals"]["at_risk"] == Decimal("520000")  # red + no health
    assert summary["totals"]["expected"] == Decimal("100000")
    assert summary["totals"]["by_band"] == {"green": Decimal("100000"), "yellow": 0, "red": Decimal("500000"),
                                            "na": Decimal("20000")}
    month = next(m for m in summary["months"] if m["month"] == (today + 10 * DAY).replace(day=1))
    assert month["by_band"]["red"] == Decimal("500000")
    bubbles = summary["bubbles"]["bubbles"]
    assert len(bubbles) == 3
    biggest = bubbles[0]  # drawn first: the largest ARR
    assert biggest["account"].name == "Red Big KK" and biggest["arr"] == Decimal("6000000")
    # area ∝ ARR: radius ∝ √ARR
    small = next(b for b in bubbles if b["account"].name == "Green KK")
    assert (small["r"] / biggest["r"]) ** 2 == pytest.approx(100000 / 500000)


def test_page_shows_chart_table_and_past_due_first(ws, csm, login, world):
    _today, lines = world
    response = login(csm).get(reverse("renewals:overview"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="chart renewal-bubbles"' in body and "<circle class=\"bubble fill-red\"" in body
    assert f'href="/accounts/{lines["red"].account_id}/"' in body
    assert "<title>Red Big KK: renews" in body
    for svg in re.findall(r"<svg viewBox=\"0 0 7\d\d.*?</svg>", body, re.S):  # both charts are well-formed SVG
        ElementTree.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
    rows = body.split('<table class="data renewals">')[1]
    assert rows.index("Add-on") < rows.index("Enterprise") < rows.index("Core")  # past due first, then by day
    assert reverse("renewals:record", args=[lines["red"].pk]) in body


def test_filters_and_bad_filter(ws, csm, login, world):
    client = login(csm)
    body = client.get(reverse("renewals:overview"), {"at_risk": "true"}).content.decode()
    rows = body.split('<table class="data renewals">')[1]
    assert "Red Big KK" in rows and "Unknown KK" in rows and "Green KK" not in rows
    response = client.get(reverse("renewals:overview"), {"due_from": "not-a-date"})
    assert response.status_code == 200 and "Some filters are not valid" in response.content.decode()
    assert client.get(reverse("renewals:export"), {"due_from": "x"}).status_code == 400


def test_empty_state(ws, csm, login):
    body = login(csm).get(reverse("renewals:overview")).content.decode()
    assert "No contract line comes up for renewal in the next 12 months." in body


def test_japanese(ws, csm, login, world):
    # The page's own words are Japanese once the catalogue holds them (tests/test_japanese_pages.py
    # checks every word); here: the page answers in Japanese with the shared words translated.
    response = login(csm).get(reverse("renewals:overview"), HTTP_ACCEPT_LANGUAGE="ja")
    body = response.content.decode()
    assert response.status_code == 200 and '<html lang="ja">' in body
    assert "検索" in body and "担当CSM" in body and "顧客" in body


def test_csv(ws, csm, login, world):
    _today, lines = world
    response = login(csm).get(reverse("renewals:export"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Line ID", "External ID", "Account ID", "Account"]
    assert [int(r[0]) for r in rows[1:]] == [lines[k].pk for k in ("past", "red", "green", "unknown")] or \
        [int(r[0]) for r in rows[1:]][:2] == [lines["past"].pk, lines["red"].pk]


def test_record_outcome_page(ws, csm, csm2, viewer, login, world):
    _today, lines = world
    url = reverse("renewals:record", args=[lines["red"].pk])
    assert login(viewer).get(url).status_code == 200
    assert login(viewer).post(url, {"outcome": "renewed", "new_mrr": "500000"}).status_code == 403
    assert login(csm2).post(url, {"outcome": "renewed", "new_mrr": "500000"}).status_code == 403
    client = login(csm)
    response = client.post(url, {"outcome": "expanded", "new_mrr": "400000"})
    assert response.status_code == 400 and "An expansion renews above the MRR before" in response.content.decode()
    response = client.post(url, {"outcome": "churned"})
    assert response.status_code == 400 and "Choose why the customer churned." in response.content.decode()
    response = client.post(url, {"outcome": "expanded", "new_mrr": "600000"})
    assert response.status_code == 302
    outcome = RenewalOutcome.objects.for_workspace(ws).get()
    assert outcome.successor.mrr == Decimal("600000")
    assert Contract.objects.for_workspace(ws).filter(account=lines["red"].account).count() == 2


def test_another_workspaces_line_is_404(ws, other_ws, outsider, csm, login, world):
    _today, lines = world
    assert login(outsider).get(reverse("renewals:record", args=[lines["red"].pk])).status_code == 404
    body = login(outsider).get(reverse("renewals:overview")).content.decode()
    assert "Red Big KK" not in body
