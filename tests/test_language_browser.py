"""The language switcher in a real browser: switching in the nav turns the page Japanese, the choice
outlives the session (a new browser, whose language is English, signs in to Japanese pages), and the
bar fits a 1280 px screen in both languages with the settings links one keyboard step away."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from workspaces.models import UserPreference

from .conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ja(message):
    """The Japanese of a message, as the catalogue has it."""
    with translation.override("ja"):
        return translation.gettext(message)


def bar_fits(page):
    """The top bar is one row (every nav link on the same line) and nothing scrolls sideways."""
    height = page.locator(".topbar").bounding_box()["height"]
    width = page.evaluate("document.documentElement.scrollWidth")
    link_rows = set(page.evaluate("[...document.querySelectorAll('.mainnav a')].map(a => a.offsetTop)"))
    return height < 70 and width <= 1280 and len(link_rows) == 1


def test_switching_the_language_in_the_nav_persists_across_a_new_login(_browser, live_server, page,
                                                                      browser_login, manager):
    page.set_viewport_size({"width": 1280, "height": 800})
    browser_login(manager)
    page.goto("/accounts/?q=x")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accounts")
    assert bar_fits(page)

    page.get_by_label("Language").select_option("ja")  # data-autosubmit: the form posts on change
    page.wait_for_url("**/accounts/?q=x")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ja("Accounts"))
    expect(page.get_by_label(ja("Language"))).to_have_value("ja")
    assert bar_fits(page)
    assert UserPreference.objects.get(user=manager.user).language == "ja"

    # The settings links sit in a menu under the user's name, opened from the keyboard.
    page.locator(".settingsmenu summary").focus()
    page.keyboard.press("Enter")
    menu = page.locator(".settingsmenu .menu")
    expect(menu.get_by_role("link", name=ja("Profile"))).to_be_visible()
    expect(menu.get_by_role("link", name=ja("Members"))).to_be_visible()

    # A new browser, in English, without the cookie: signing in brings the saved language back.
    context = _browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        other = context.new_page()
        other.goto("/login/")
        expect(other.locator("html")).to_have_attribute("lang", "en")
        other.fill("input[name=username]", manager.user.username)
        other.fill("input[name=password]", PASSWORD)
        other.click("button[type=submit]")
        other.wait_for_load_state()
        expect(other.locator("html")).to_have_attribute("lang", "ja")
        expect(other.get_by_role("button", name=ja("Log out"))).to_be_visible()
        # And back to English from the profile page.
        other.goto("/workspace/profile/")
        other.locator("#id_language").select_option("en")
        other.get_by_role("button", name=ja("Save")).click()
        expect(other.locator("html")).to_have_attribute("lang", "en")
        expect(other.locator(".message-success")).to_contain_text("Your profile is saved.")
    finally:
        context.close()
    assert UserPreference.objects.get(user=manager.user).language == "en"
