"""The main pages pass axe-core (the engine behind most accessibility checkers) with no serious or
critical violation, in English and in Japanese, on a small realistic workspace (the demo's data)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

from accounts.models import Account
from cs_platform.demo import DEMO_PASSWORD, seed_demo
from cs_platform.tasks import recompute_workspace
from segments.models import Segment
from segments.services import save_segment
from workspaces.policy import SYSTEM

BLOCKING = {"serious", "critical"}

# The pages a manager opens in a week; {account} and {segment} are filled in from the data.
PAGES = [
    "/",
    "/accounts/",
    "/accounts/{account}/",
    "/coverage/",
    "/coverage/accounts/",
    "/coverage/due/",
    "/coverage/matrix/",
    "/coverage/touch-model/",
    "/segments/",
    "/segments/{segment}/",
    "/health/",
    "/health/alerts/",
    "/health/backtest/",
    "/imports/",
]


def blocking_violations(page):
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}x): {violation['help']}; "
        + " | ".join(f"{node['target']} {node['failureSummary'].splitlines()[-1].strip()}"
                     for node in violation["nodes"][:3])
        for violation in results.response["violations"] if violation["impact"] in BLOCKING
    ]


@pytest.fixture
def demo(transactional_db):
    result = seed_demo(slug="a11y", accounts=40, seed=5)
    save_segment(workspace=result.workspace, actor=SYSTEM, name="Enterprise", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 3_000_000}]})
    recompute_workspace.apply(args=[result.workspace.pk]).get()
    return result.workspace


def in_language(page, live_server, language):
    """A fresh visitor whose chosen language is `language` (no session)."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])


def sign_in(page, username):
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_main_pages_have_no_serious_accessibility_violations(page, live_server, demo, language):
    in_language(page, live_server, language)
    page.goto("/login/")
    assert page.locator("html").get_attribute("lang") == language
    found = {"/login/": blocking_violations(page)}
    sign_in(page, "a11y-manager1")
    account = Account.objects.for_workspace(demo).order_by("-arr").first()
    segment = Segment.objects.for_workspace(demo).get()
    for path in PAGES:
        url = path.format(account=account.pk, segment=segment.pk)
        response = page.goto(url)
        assert response.status == 200, url
        found[url] = blocking_violations(page)
    # A CSM's morning page holds their own due touches and alerts.
    in_language(page, live_server, language)
    sign_in(page, "a11y-csm1")
    found["/ (CSM)"] = blocking_violations(page)
    failures = {url: violations for url, violations in found.items() if violations}
    assert not failures, "\n".join(f"{url}\n  " + "\n  ".join(v) for url, v in failures.items())
