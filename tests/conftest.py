"""Shared fixtures: two workspaces and named personas in each (see the style notes on personas).

Workspace A ("acme-cs") has admin, manager, csm, csm2 and viewer; workspace B ("other-cs") has
`outsider`, an admin there and nothing in A. A test that leaks B's data to A must fail.
"""

import os

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from cs_platform.celery import app as celery_app
from workspaces.models import Role
from workspaces.services import issue_token

from .factories import AccountFactory, MembershipFactory, UserFactory, WorkspaceFactory

PASSWORD = "pass-word-123"

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be allowed.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Tasks run in-process in tests even when REDIS_URL is set; tests/test_celery_worker.py covers the
# real broker and worker path once.
celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Full-strength password hashing is the slowest thing in page tests and proves nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The deployment default is Japanese (settings.LANGUAGE_CODE "ja"); the suite asserts English text, so
# it runs with English as the default language. Tests of Japanese ask for it (a saved preference,
# Accept-Language, translation.override or settings.LANGUAGE_CODE = "ja"). The environment variable
# reaches the servers and workers some tests start as processes; the fixture, this process (whose
# settings pytest-django has loaded before this file).
os.environ["LANGUAGE_CODE"] = "en"


@pytest.fixture(autouse=True)
def _default_language(settings):
    """English by default (above). And a test request with Accept-Language activates that language in
    the test's own thread, where it would outlive the test (and turn a later test's English messages
    Japanese)."""
    settings.LANGUAGE_CODE = "en"
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_api_throttles(settings):
    """API throttles count in the cache, which outlives a test (and, in Redis, the run): the suite runs
    without them; tests/test_api_throttles.py sets its own rates."""
    settings.API_THROTTLE_RATES = {scope: None for scope in settings.API_THROTTLE_RATES}


@pytest.fixture
def ws(db):
    return WorkspaceFactory(name="Acme CS", slug="acme-cs")


@pytest.fixture
def other_ws(db):
    return WorkspaceFactory(name="Other CS", slug="other-cs")


def _member(workspace, username, role, first_name):
    user = UserFactory(username=username, first_name=first_name, last_name="Test")
    return MembershipFactory(workspace=workspace, user=user, role=role)


@pytest.fixture
def admin(ws):
    return _member(ws, "admin", Role.ADMIN, "Aiko")


@pytest.fixture
def manager(ws):
    return _member(ws, "manager", Role.MANAGER, "Mei")


@pytest.fixture
def csm(ws):
    return _member(ws, "csm", Role.CSM, "Kenji")


@pytest.fixture
def csm2(ws):
    return _member(ws, "csm2", Role.CSM, "Yui")


@pytest.fixture
def viewer(ws):
    return _member(ws, "viewer", Role.VIEWER, "Sora")


@pytest.fixture
def outsider(other_ws):
    return _member(other_ws, "outsider", Role.ADMIN, "Olga")


@pytest.fixture
def account(ws, csm):
    return AccountFactory(workspace=ws, owner=csm, name="Sakura Logistics KK", external_id="crm-sakura")


@pytest.fixture
def other_account(other_ws, outsider):
    return AccountFactory(workspace=other_ws, owner=outsider, name="Hidden Other Corp", external_id="crm-hidden")


@pytest.fixture
def login(client):
    """login(membership) → a Django test client signed in as that member, in that workspace."""

    def _login(membership):
        client.force_login(membership.user)
        session = client.session
        session["workspace_id"] = membership.workspace_id
        session.save()
        return client

    return _login


@pytest.fixture
def api_for():
    """api_for(membership) → an APIClient authenticated with a fresh token of that membership."""

    def _api_for(membership):
        _, key = issue_token(membership=membership, name="test")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api

    return _api_for


# --- Browser tests -------------------------------------------------------------------------------
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def _browser():
    """One headless Debian Chromium for the session, driven by Playwright.

    Missing Chromium skips browser tests locally, but fails them when REQUIRE_BROWSER is set (CI).
    """
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM} and REQUIRE_BROWSER is set")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_browser, live_server):
    context = _browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    """browser_login(membership) signs in through the real login form."""

    def _login(membership):
        page.goto("/login/")
        page.fill("input[name=username]", membership.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login
