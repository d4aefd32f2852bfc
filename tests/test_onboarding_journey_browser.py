"""The onboarding journey in a real browser, in English and in Japanese (issue 16's browser test).

A new account arrives with an incomplete sales handoff; the manager sees it listed. The CSM completes
the handoff, which enrols the account in the onboarding playbook at once ("handoff received"), runs
the kickoff task (logging the meeting) and records the kickoff milestone, sets an objective at level 3
and submits the success plan; the manager approves it; the report card prints.

As in the other journeys, pages are reached by URL, id and form field names, never by English words;
the language is the signed-in person's saved preference.
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import LifecycleStage
from onboarding.models import AccountMilestone, Handoff
from playbooks.models import Task, TaskStatus
from success.models import SuccessPlan

from .factories import AccountFactory, ContactFactory
from .playbook_engine_helpers import make_playbook
from .test_journeys_browser import LANGUAGES, Camera, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONBOARDING = {"trigger": {"kind": "new_account", "on": "handoff", "within_days": 14}, "steps": [
    {"kind": "task", "type": "meeting", "title": "Kickoff meeting with {account}", "due_days": 7}]}


@pytest.mark.parametrize("language", LANGUAGES)
def test_from_an_incomplete_handoff_to_a_printed_report_card(browser_login, page, ws, manager, csm, language):
    today = ws.today()
    first_stage = LifecycleStage.objects.for_workspace(ws).order_by("position", "id").first()
    make_playbook(ws, ONBOARDING, name="Handoff to kickoff")
    account = AccountFactory(workspace=ws, owner=csm, name="Kaede Retail KK", stage=first_stage,
                             arr=Decimal(6_000_000), licensed_seats=20, contract_start=today - dt.timedelta(days=3))
    tanaka = ContactFactory(workspace=ws, account=account, name="Tanaka Hiroshi")
    shot = Camera(page, "onboarding", language)

    # The manager sees the new account among the incomplete handoffs.
    start(browser_login, page, manager, language)
    page.goto("/onboarding/")
    expect(page.locator("table.data")).to_contain_text(account.name)
    shot("incomplete-handoffs")

    # The CSM completes the handoff: the account leaves the list and enrols in onboarding at once.
    page.context.clear_cookies()
    start(browser_login, page, csm, language)
    page.goto(f"/onboarding/accounts/{account.pk}/handoff/")
    form = page.locator("form.form")
    form.locator("textarea[name=why_bought]").fill("月次レポート作成に毎月3日かかっていた")
    form.locator("textarea[name=objectives]").fill("レポート作成を半日に短縮する")
    form.locator("select[name=decision_maker]").select_option(str(tanaka.pk))
    shot("handoff")
    form.locator("button[type=submit]").click()
    expect(page.locator("ul.messages")).to_be_visible()
    handoff = Handoff.objects.for_workspace(ws).get(account=account)
    assert handoff.completed_at is not None and handoff.decision_maker == tanaka
    page.goto("/onboarding/")
    expect(page.locator("main")).not_to_contain_text(account.name)
    kickoff = Task.objects.for_workspace(ws).get(account=account, run__playbook__name="Handoff to kickoff")
    assert kickoff.assignee == csm and kickoff.title == f"Kickoff meeting with {account.name}"

    # The CSM runs the kickoff: completes the task by logging the meeting, records the milestone.
    page.goto(f"/tasks/{kickoff.pk}/complete/")
    complete = page.locator("form.task-complete")
    complete.locator("textarea[name=outcome]").fill("キックオフ実施。目標とスケジュールを合意")
    complete.locator("button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/complete/$"))
    kickoff.refresh_from_db()
    assert kickoff.status == TaskStatus.DONE and kickoff.touchpoint is not None
    page.goto(f"/accounts/{account.pk}/")
    milestone_form = page.locator("form[action$='/milestones/']", has=page.locator("input[name=key][value=kickoff]"))
    milestone_form.locator("input[name=done_on]").fill(today.isoformat())
    milestone_form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{account.pk}/"))
    assert AccountMilestone.objects.for_workspace(ws).get(account=account, key="kickoff").done_on == today
    shot("account")

    # The CSM writes the success plan: one objective at level 3, then submits it.
    page.goto(f"/success/accounts/{account.pk}/")
    page.locator(f"form[action='/success/accounts/{account.pk}/create/'] button[type=submit]").click()
    page.locator(f"details:has(form[action='/success/accounts/{account.pk}/objectives/']) > summary").click()
    objective = page.locator(f"form[action='/success/accounts/{account.pk}/objectives/']")
    objective.locator("input[name=text]").fill("月次レポートを半日で作成できる")
    objective.locator("input[name=kpi]").fill("作成時間")
    objective.locator("select[name=objective_level]").select_option("3")
    objective.locator("select[name=achievement_level]").select_option("1")
    objective.locator("button[type=submit]").click()
    page.locator(f"button[formaction='/success/accounts/{account.pk}/submit/']").click()
    plan = SuccessPlan.objects.for_workspace(ws).get(account=account)
    assert plan.status == "submitted"
    assert [(o.objective_level, o.achievement_level) for o in plan.objectives.all()] == [(3, 1)]
    expect(page.locator(f"button[formaction='/success/accounts/{account.pk}/approve/']")).to_have_count(0)
    shot("plan-submitted")

    # The manager approves it.
    page.context.clear_cookies()
    start(browser_login, page, manager, language)
    page.goto(f"/success/accounts/{account.pk}/")
    page.locator(f"button[formaction='/success/accounts/{account.pk}/approve/']").click()
    plan.refresh_from_db()
    assert plan.status == "approved"

    # The report card prints: no navigation or buttons on paper, the objective and the touch on it.
    page.goto(f"/success/accounts/{account.pk}/report-card/")
    expect(page.locator("main")).to_contain_text("月次レポートを半日で作成できる")
    page.emulate_media(media="print")
    expect(page.locator("header nav, nav.sectionnav").first).to_be_hidden()
    expect(page.locator("main")).to_contain_text(account.name)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    shot("report-card-print")
