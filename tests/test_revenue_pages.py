"""The revenue pages: managers read them, the figures of the hand-computed case, drill-down, CSV, empty
state, Japanese."""

import datetime as dt

import pytest
from django.urls import reverse

from .revenue_case import build_case

pytestmark = pytest.mark.django_db
Q1 = "start=2026-01-01&end=2026-04-01"


@pytest.fixture
def case(ws, csm, csm2):
    return build_case(ws, csm=csm, csm2=csm2)


def test_a_manager_reads_the_window_and_its_previous(login, manager, case):
    response = login(manager).get(f"{reverse('revenue:overview')}?{Q1}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "¥7,900" in html and "¥5,250" in html  # start and end MRR
    assert "53%" in html  # NRR 4,200 / 7,900
    assert "¥8,300" in html  # start MRR of the quarter before
    assert 'id="waterfall-churn"' in html and "12 × that MRR" in html
    assert "Onboarding failure" in html and "70%" in html  # 3,000 of 4,300 churned MRR
    churn = html[html.index('id="churn-reasons"'):html.index('id="by-segment"')]
    assert "Budget cut" in churn and "¥400" in churn  # E's churn on 2026-01-01, in the quarter before


@pytest.mark.parametrize("role", ["csm", "viewer"])
def test_csms_and_viewers_are_refused(login, request, role, case):
    member = request.getfixturevalue(role)
    assert login(member).get(reverse("revenue:overview")).status_code == 403
    assert login(member).get(reverse("revenue:movements")).status_code == 403


def test_the_churn_drill_down_lists_accounts_reasons_and_notes(login, manager, case):
    html = login(manager).get(f"{reverse('revenue:movements')}?{Q1}&kind=churn").content.decode()
    for text in ("C Corp", "Onboarding failure", "Never went live.", "F Corp", "Price", "D Corp", "¥4,300"):
        assert text in html
    assert "A Corp" not in html


def test_bad_dates_name_the_field(login, manager, case):
    html = login(manager).get(f"{reverse('revenue:overview')}?start=2026-04-01&end=2026-01-01").content.decode()
    assert "The end must be after the start." in html
    response = login(manager).get(f"{reverse('revenue:export_movements')}?start=soon&end=2026-01-01")
    assert response.status_code == 400 and "start" in response.content.decode()


def test_csv_downloads(login, manager, case):
    body = login(manager).get(f"{reverse('revenue:export_movements')}?{Q1}&kind=churn").content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 4 and "Onboarding failure" in body and "Never went live." in body
    body = login(manager).get(f"{reverse('revenue:export_breakdown')}?{Q1}&by=tier").content.decode("utf-8-sig")
    assert "High touch" in body and "6000" in body


def test_sorted_breakdowns(login, manager, case):
    html = login(manager).get(f"{reverse('revenue:overview')}?{Q1}&sort=label").content.decode()
    section = html[html.index('id="by-tier"'):html.index('id="by-csm"')]
    assert section.index("High touch") < section.index("Low touch") < section.index("Tech touch")


def test_empty_workspace_says_so(login, manager):
    html = login(manager).get(reverse("revenue:overview")).content.decode()
    assert "No contract line has MRR in this window." in html
    html = login(manager).get(f"{reverse('revenue:movements')}?{Q1}&kind=churn").content.decode()
    assert "No account made this movement in this window." in html


def test_quarter_presets(login, manager, ws):
    today = ws.today()
    html = login(manager).get(f"{reverse('revenue:overview')}?preset=this_quarter").content.decode()
    first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    assert first.isoformat() in html


def test_japanese_renders(login, manager, case):
    response = login(manager).get(f"{reverse('revenue:overview')}?{Q1}", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200 and "7,900円" in response.content.decode()
    response = login(manager).get(f"{reverse('revenue:movements')}?{Q1}&kind=churn", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
