"""The invitation journey in a real browser: an admin invites, a new colleague creates a login from
the link and lands in the workspace — under the strict Content-Security-Policy, without a violation."""

import pytest
from playwright.sync_api import expect

from workspaces.models import Membership, Role

from .test_csp_browser import watched  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_invites_and_the_colleague_joins_with_a_new_login(watched, browser_login, admin, ws):  # noqa: F811
    page, violations = watched
    browser_login(admin)
    page.goto("/workspace/members/")
    invite = page.locator("form[action='/workspace/members/invite/']")
    invite.get_by_label("E-mail").fill("haruka@example.com")
    invite.get_by_label("Role").select_option("manager")
    invite.get_by_role("button", name="Send invitation").click()
    result = page.locator(".invitation-result")
    expect(result).to_contain_text("haruka@example.com can join with this link until")
    link = page.locator("#invitation-link").input_value()
    assert "/workspace/join/" in link
    expect(page.locator("table.invitations")).to_contain_text("haruka@example.com")
    found = violations()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Acme CS")
    expect(page.locator(".join-box")).to_contain_text("Aiko Test invited haruka@example.com to join Acme CS as Manager.")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Create login and join"))
    form.get_by_label("Username").fill("haruka")
    form.get_by_label("First name").fill("Haruka")
    form.get_by_label("Last name").fill("Ito")
    form.locator("input[name=password1]").fill("Sakura-blossom-2026")
    form.get_by_label("Password confirmation").fill("Sakura-blossom-2026")
    found += violations()
    form.get_by_role("button", name="Create login and join").click()

    expect(page.locator(".message-success")).to_contain_text("Welcome to Acme CS.")
    expect(page.locator(".topbar .who")).to_contain_text("Haruka Ito · Manager")
    membership = Membership.all_workspaces.get(workspace=ws, user__username="haruka")
    assert membership.role == Role.MANAGER
    found += violations()
    assert found == []
