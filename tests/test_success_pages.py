"""Success pages: the plan page and its workflow buttons, the plans list, the account page's entry, the
printable report card (figures by hand), level definitions and KPT notes (comparison, who edits)."""

import datetime as dt
import re

import pytest
from django.conf import settings

from healthscore.models import HealthSettings
from success import services
from success.models import KptNote, PlanStatus, SuccessPlan
from success.selectors import kpt_comparison
from tests.factories import TouchpointFactory
from usage.models import DailyAccountUsage
from workspaces.errors import NotAllowed


@pytest.fixture
def plan(ws, csm, account):
    plan = services.create_plan(workspace=ws, actor=csm, account=account)
    services.save_objective(plan=plan, actor=csm, text="Every rep logs visits", kpi="weekly active reps",
                            objective_level=3, achievement_level=1, target_date=ws.today() + dt.timedelta(days=30))
    services.save_objective(plan=plan, actor=csm, text="Monthly report in one hour", objective_level=2,
                            achievement_level=2)
    return plan


def test_plan_page_for_csm_manager_and_viewer(ws, csm, manager, viewer, account, plan, login):
    page = login(csm).get(f"/success/accounts/{account.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Every rep logs visits" in html and "Submit for approval" in html and "Approve" not in html
    assert "Getting started" in html  # the level definitions are on the page
    assert 'class="plan-gap">2<' in html  # 3-1 = 2, 2-2 = 0
    page = login(manager).get(f"/success/accounts/{account.pk}/")
    assert page.status_code == 200
    page = login(viewer).get(f"/success/accounts/{account.pk}/")
    assert page.status_code == 200 and "Add an objective" not in page.content.decode()
    assert login(viewer).post(f"/success/accounts/{account.pk}/submit/").status_code == 403


def test_workflow_through_the_pages(ws, csm, manager, account, plan, login):
    client = login(csm)
    assert client.post(f"/success/accounts/{account.pk}/submit/", {"comment": "Ready"}).status_code == 302
    assert client.post(f"/success/accounts/{account.pk}/approve/").status_code == 403
    client = login(manager)
    page = client.get(f"/success/accounts/{account.pk}/").content.decode()
    assert "Approve" in page and "Request changes" in page
    response = client.post(f"/success/accounts/{account.pk}/request-changes/", {"comment": ""})
    assert response.status_code == 400
    client.post(f"/success/accounts/{account.pk}/request-changes/", {"comment": "Which KPI for the report?"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CHANGES_REQUESTED
    history = client.get(f"/success/accounts/{account.pk}/").content.decode()
    assert "Which KPI for the report?" in history and "Changes requested" in history


def test_edit_objective_via_page_and_approved_notice(ws, csm, manager, account, plan, login):
    services.submit_plan(plan=plan, actor=csm)
    services.approve_plan(plan=plan, actor=manager)
    client = login(csm)
    assert "Editing it returns it to draft" in client.get(f"/success/accounts/{account.pk}/").content.decode()
    objective = plan.objectives.order_by("id").first()
    prefix = f"o{objective.pk}"
    response = client.post(f"/success/objectives/{objective.pk}/", {
        f"{prefix}-text": objective.text, f"{prefix}-kpi": "", f"{prefix}-target_date": "",
        f"{prefix}-objective_level": "3", f"{prefix}-achievement_level": "3"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_create_plan_from_the_page_and_empty_state(ws, csm, account, login):
    client = login(csm)
    page = client.get(f"/success/accounts/{account.pk}/").content.decode()
    assert "This account has no success plan yet." in page
    assert client.post(f"/success/accounts/{account.pk}/create/").status_code == 302
    assert SuccessPlan.objects.for_workspace(ws).filter(account=account).exists()


def test_plan_list_submitted_first_filter_and_csv(ws, csm, manager, account, plan, login):
    client = login(manager)
    empty = client.get("/success/?status=approved").content.decode()
    assert "No success plan matches these filters." in empty
    services.submit_plan(plan=plan, actor=csm)
    page = client.get("/success/").content.decode()
    assert account.name in page and "Submitted" in page
    csv = client.get("/success/plans.csv").content.decode("utf-8-sig")
    assert account.name in csv and "Submitted" in csv


def test_empty_list_and_account_panel(ws, csm, account, login):
    client = login(csm)
    assert "No success plans yet." in client.get("/success/").content.decode()
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Success plan" in page and f"/success/accounts/{account.pk}/report-card/" in page


def test_report_card_figures_by_hand_and_print_stylesheet(ws, csm, account, plan, login):
    today = ws.today()
    HealthSettings.objects.for_workspace(ws).update(key_features=["report.export", "dashboard.view"])
    DailyAccountUsage.objects.create(workspace=ws, account=account, day=today - dt.timedelta(days=2), events=5,
                                     active_users=2, event_counts={"report.export": 3, "login": 2})
    DailyAccountUsage.objects.create(workspace=ws, account=account, day=today - dt.timedelta(days=10), events=4,
                                     active_users=3, event_counts={"login": 4})
    DailyAccountUsage.objects.create(workspace=ws, account=account, day=today - dt.timedelta(days=100), events=7,
                                     active_users=9, event_counts={"dashboard.view": 7})  # before the 90 days
    TouchpointFactory(account=account, occurred_at=ws.day_start(today - dt.timedelta(days=5)) + dt.timedelta(hours=9),
                      summary="Quarterly review held")
    TouchpointFactory(account=account, occurred_at=ws.day_start(today - dt.timedelta(days=120)),
                      summary="Old call outside")
    page = login(csm).get(f"/success/accounts/{account.pk}/report-card/")
    assert page.status_code == 200
    html = page.content.decode()
    # The print style sheet is a file of the site (the content security policy refuses inline styles).
    assert "css/report_card.css" in html and "<style" not in html
    css = (settings.BASE_DIR / "static" / "css" / "report_card.css").read_text()
    assert "@media print" in css and ".topbar" in css
    # 5 + 4 events on 2 active days in the last 90 (the 7 from day -100 are outside); 3 users at most.
    assert re.search(r'class="rc-events">9<', html)
    assert re.search(r'class="rc-active-days">2<', html)
    assert re.search(r'class="rc-peak">3<', html)
    assert re.search(r'class="rc-key">1 / 2<', html)  # report.export used, dashboard.view not in the period
    assert re.search(r'class="rc-gap">2<', html)
    assert "Quarterly review held" in html and "Old call outside" not in html
    assert "Every rep logs visits" in html and "<svg" in html
    # A chosen period: only day -100.
    start = (today - dt.timedelta(days=101)).isoformat()
    end = (today - dt.timedelta(days=99)).isoformat()
    html = login(csm).get(f"/success/accounts/{account.pk}/report-card/?start={start}&end={end}").content.decode()
    assert re.search(r'class="rc-events">7<', html) and re.search(r'class="rc-key">1 / 2<', html)
    # A bad date falls back to the default period, never a 500.
    assert login(csm).get(f"/success/accounts/{account.pk}/report-card/?start=2026-13-45").status_code == 200


def test_report_card_of_another_workspace_is_404(ws, csm, other_account, login):
    assert login(csm).get(f"/success/accounts/{other_account.pk}/report-card/").status_code == 404
    assert login(csm).get(f"/success/accounts/{other_account.pk}/").status_code == 404


def test_pages_render_in_japanese(ws, manager, account, plan, login):
    client = login(manager)
    for url in ("/success/", f"/success/accounts/{account.pk}/", f"/success/accounts/{account.pk}/report-card/",
                "/success/kpt/", "/success/levels/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        assert response.status_code == 200, url
        assert 'lang="ja"' in response.content.decode()


def test_levels_page_managers_edit(ws, csm, manager, login):
    data = {}
    for n in (1, 2, 3, 4):
        data.update({f"l{n}-name": f"Level {n}", f"l{n}-description": ""})
    assert login(csm).post("/success/levels/", data).status_code == 403
    assert login(manager).post("/success/levels/", data).status_code == 302
    assert "Level 3" in login(csm).get("/success/levels/").content.decode()


# --- KPT ----------------------------------------------------------------------------------------------
def test_kpt_comparison_this_period_beside_the_last(ws, csm, manager):
    day = dt.date(2026, 11, 18)
    services.save_note(workspace=ws, actor=csm, period_kind="month", period_start=dt.date(2026, 11, 5), kind="keep",
                       text="Kickoffs on time")
    services.save_note(workspace=ws, actor=csm, period_kind="month", period_start=dt.date(2026, 10, 31),
                       kind="problem", text="Late designs")
    services.save_note(workspace=ws, actor=manager, period_kind="month", period_start=dt.date(2026, 9, 1),
                       kind="try", text="Too old")
    services.save_note(workspace=ws, actor=csm, period_kind="week", period_start=dt.date(2026, 11, 18),
                       kind="try", text="Weekly")
    cmp = kpt_comparison(workspace=ws, period_kind="month", day=day)
    assert cmp["start"] == dt.date(2026, 11, 1) and cmp["previous"] == dt.date(2026, 10, 1)
    rows = {r["kind"]: r for r in cmp["rows"]}
    assert [n.text for n in rows["keep"]["this"]] == ["Kickoffs on time"]
    assert [n.text for n in rows["problem"]["last"]] == ["Late designs"]
    assert rows["try"]["this"] == [] and rows["try"]["last"] == []
    week = kpt_comparison(workspace=ws, period_kind="week", day=dt.date(2026, 11, 22))
    assert week["start"] == dt.date(2026, 11, 16)  # a Monday
    assert [n.text for r in week["rows"] for n in r["this"]] == ["Weekly"]


def test_kpt_author_or_manager_edits(ws, csm, csm2, manager, viewer, login):
    note = services.save_note(workspace=ws, actor=viewer, period_kind="month", period_start=ws.today(), kind="keep",
                              text="Any member writes")
    with pytest.raises(NotAllowed):
        services.save_note(workspace=ws, actor=csm2, note=note, text="Not mine")
    services.save_note(workspace=ws, actor=manager, note=note, text="Edited by the manager")
    assert login(csm2).get(f"/success/kpt/{note.pk}/").status_code == 403
    assert login(viewer).get(f"/success/kpt/{note.pk}/").status_code == 200


def test_kpt_page_and_api(ws, csm, manager, login, api_for):
    client = login(csm)
    assert "No KPT notes for this period" in client.get("/success/kpt/").content.decode()
    response = client.post("/success/kpt/", {"period_kind": "month", "period_start": ws.today().isoformat(),
                                             "kind": "try", "text": "Book the first success review"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Book the first success review" in page
    api = api_for(csm)
    response = api.post("/api/v1/kpt-notes/", {"period_kind": "week", "period_start": "2026-11-19", "kind": "keep",
                                               "text": "From the API"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["period_start"] == "2026-11-16"
    response = api.post("/api/v1/kpt-notes/", {"period_kind": "week", "period_start": "2026-11-19", "kind": "keep",
                                               "text": "x", "playbook": 999999}, format="json")
    assert response.status_code == 400 and "playbook" in response.json()
    note_id = KptNote.objects.for_workspace(ws).get(text="From the API").pk
    assert api_for(manager).patch(f"/api/v1/kpt-notes/{note_id}/", {"text": "ok"}, format="json").status_code == 200


def test_kpt_tenancy(ws, csm, outsider, api_for):
    note = services.save_note(workspace=ws, actor=csm, period_kind="month", period_start=ws.today(), kind="keep",
                              text="Ours")
    theirs = api_for(outsider)
    assert theirs.get("/api/v1/kpt-notes/").json()["count"] == 0
    assert theirs.get(f"/api/v1/kpt-notes/{note.pk}/").status_code == 404
    assert theirs.delete(f"/api/v1/kpt-notes/{note.pk}/").status_code == 404
