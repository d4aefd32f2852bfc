"""Japanese first: a person's saved language, else the browser's, else the deployment's (LANGUAGE_CODE);
a workspace's language for the names the platform writes for it; money, numbers and dates per language.

The suite's default language is English (tests/conftest.py); these tests ask for Japanese explicitly.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from accounts.models import LifecycleStage
from coverage.models import CadencePolicy
from cs_platform.provisioning import create_workspace
from healthscore.models import Scorecard
from ui.templatetags.formatting import money, number
from workspaces.errors import DomainError
from workspaces.models import UserPreference, Workspace
from workspaces.services import set_user_language

from .factories import AccountFactory

pytestmark = pytest.mark.django_db

SWITCH = reverse("workspaces:language")
PROFILE = reverse("workspaces:profile")

JA_STAGES = ["オンボーディング", "定着", "安定", "拡大", "更新"]
EN_STAGES = ["Onboarding", "Adoption", "Established", "Expansion", "Renewal"]


def prefer(membership, language):
    UserPreference.objects.update_or_create(user=membership.user, defaults={"language": language})


def page_language(response):
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


# --- formatting ------------------------------------------------------------------------------------
def test_money_is_yen_after_the_amount_in_japanese_and_a_symbol_in_english():
    with translation.override("ja"):
        assert money(Decimal("1234567"), "JPY") == "1,234,567円"
        assert money(-1234, "JPY") == "-1,234円"
        assert money("1234.5", "USD") == "$1,234.50"
        assert money(1234, "CHF") == "1,234.00 CHF"
        assert money(None, "JPY") == "—"
    with translation.override("en"):
        assert money(Decimal("1234567"), "JPY") == "¥1,234,567"
        assert money(-1234, "JPY") == "-¥1,234"
        assert money("1234.5", "EUR") == "€1,234.50"


def test_number_groups_thousands_whatever_the_language():
    for language in ("ja", "en"):
        with translation.override(language):
            assert number(1234567) == "1,234,567"
            assert number("12345.678", 1) == "12,345.7"
            assert number(None) == "—"
            assert number("n/a") == "n/a"


def test_dates_follow_the_language_and_machine_formats_stay_iso():
    template = Template('{{ d|date }}|{{ d|date:"SHORT_DATE_FORMAT" }}|{{ d|date:"Y-m-d" }}')
    day = dt.date(2026, 4, 1)
    with translation.override("ja"):
        assert template.render(Context({"d": day})) == "2026年4月1日|2026/04/01|2026-04-01"
    with translation.override("en"):
        assert template.render(Context({"d": day})) == "1 Apr 2026|2026-04-01|2026-04-01"


def test_ids_are_never_grouped_in_templates():
    """USE_THOUSAND_SEPARATOR stays off: an id in a URL or data attribute must not read 12,345."""
    assert not django_settings.USE_THOUSAND_SEPARATOR
    with translation.override("ja"):
        assert Template("{{ pk }}").render(Context({"pk": 12345})) == "12345"


# --- the workspace's language for what the platform writes --------------------------------------------
def defaults_of(workspace):
    stages = list(LifecycleStage.objects.for_workspace(workspace).order_by("position").values_list("name", flat=True))
    policies = set(CadencePolicy.objects.for_workspace(workspace).values_list("name", flat=True))
    card = Scorecard.objects.for_workspace(workspace).get(is_default=True)
    groups = [group["label"] for group in card.versions.get().definition["groups"]]
    return stages, policies, card.name, groups


def test_a_japanese_workspace_gets_japanese_defaults_whatever_the_request_language():
    with translation.override("en"):
        workspace = create_workspace(name="日本のチーム", slug="jp-team", language="ja")
    stages, policies, card, groups = defaults_of(workspace)
    assert stages == JA_STAGES
    assert policies == {"ハイタッチ: 30日ごと", "ロータッチ: 90日ごと", "テックタッチ: 180日ごと"}
    assert card == "デフォルトのスコアカード"
    assert groups == ["利用状況", "関係性", "契約"]
    assert translation.get_language() != "ja"  # provisioning leaves the caller's language alone


def test_an_english_workspace_gets_english_defaults_whatever_the_request_language():
    with translation.override("ja"):
        workspace = create_workspace(name="UK team", slug="uk-team", language="en")
    stages, policies, card, groups = defaults_of(workspace)
    assert stages == EN_STAGES
    assert policies == {"High touch: every 30 days", "Low touch: every 90 days", "Tech touch: every 180 days"}
    assert card == "Default scorecard"
    assert groups == ["Usage", "Relationship", "Commercial"]


def test_a_workspace_defaults_to_the_deployment_language(settings):
    settings.LANGUAGE_CODE = "ja"
    workspace = create_workspace(name="Default", slug="default-lang")
    assert workspace.language == "ja"
    assert defaults_of(workspace)[0] == JA_STAGES


def test_the_default_names_stay_editable_rows():
    workspace = create_workspace(name="日本のチーム", slug="jp-team", language="ja")
    stage = LifecycleStage.objects.for_workspace(workspace).get(position=0)
    stage.name = "導入"
    stage.save()
    assert LifecycleStage.objects.for_workspace(workspace).get(position=0).name == "導入"


def test_a_workspace_language_must_be_offered():
    workspace = Workspace(name="X", slug="x-lang", language="fr")
    with pytest.raises(Exception, match="language"):
        workspace.full_clean()


# --- which language a page speaks ----------------------------------------------------------------------
def test_without_a_saved_language_pages_follow_the_browser_then_the_deployment(login, csm, settings):
    client = login(csm)
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="ja")) == "ja"
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")) == "en"
    settings.LANGUAGE_CODE = "ja"
    assert page_language(client.get("/")) == "ja"  # a fresh browser that says nothing: Japanese first


def test_a_fresh_browser_sees_the_sign_in_page_in_the_deployment_language(client, settings):
    settings.LANGUAGE_CODE = "ja"
    response = client.get(reverse("login"))
    assert page_language(response) == "ja"
    assert "ログイン" in response.content.decode()


def test_a_saved_language_wins_over_the_browser(login, csm):
    prefer(csm, "ja")
    client = login(csm)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page_language(response) == "ja"
    assert response["Content-Language"] == "ja"
    # Saved elsewhere (another device): this session reads it at its next sign-in.
    prefer(csm, "en")
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="ja")) == "ja"
    client = login(csm)
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="ja")) == "en"


def test_a_saved_language_is_the_users_in_every_workspace(login, csm, other_ws):
    from .factories import MembershipFactory

    MembershipFactory(workspace=other_ws, user=csm.user)
    prefer(csm, "ja")
    client = login(csm)
    client.post(reverse("workspaces:switch"), {"workspace": other_ws.pk})
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "ja"


# --- the API -------------------------------------------------------------------------------------------
def test_the_api_follows_accept_language_without_a_saved_language(api_for, csm):
    api = api_for(csm)
    response = api.get("/api/v1/accounts/999999/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 404
    assert response["Content-Language"] == "ja"
    assert api.get("/api/v1/accounts/999999/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"


def test_the_api_speaks_the_token_owners_saved_language(api_for, csm):
    prefer(csm, "ja")
    api = api_for(csm)
    response = api.get("/api/v1/accounts/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Language"] == "ja"
    assert response.json()["detail"] != "Not found."
    prefer(csm, "en")
    assert api.get("/api/v1/accounts/999999/", HTTP_ACCEPT_LANGUAGE="ja")["Content-Language"] == "en"


def test_a_wrong_token_is_refused_in_the_browsers_language(client):
    response = client.get("/api/v1/accounts/", HTTP_AUTHORIZATION="Token nope", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 401
    assert response["Content-Language"] == "ja"


# --- the switcher and the profile page ---------------------------------------------------------------
def test_the_nav_offers_each_language_in_its_own_name_and_the_profile(login, manager):
    body = login(manager).get("/").content.decode()
    assert 'action="/workspace/language/"' in body
    assert ">日本語</option>" in body and ">English</option>" in body
    assert f'href="{PROFILE}"' in body
    for link in ("workspaces:members", "workspaces:tokens", "audit_log"):
        assert f'href="{reverse(link)}"' in body


def test_the_switcher_saves_the_choice_sets_the_cookie_and_goes_back(login, csm):
    client = login(csm)
    response = client.post(SWITCH, {"language": "ja", "next": "/accounts/?q=sakura"})
    assert response.status_code == 302 and response["Location"] == "/accounts/?q=sakura"
    assert UserPreference.objects.get(user=csm.user).language == "ja"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert page_language(client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="en")) == "ja"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_switcher_never_sends_anyone_off_site(login, csm, target):
    response = login(csm).post(SWITCH, {"language": "en", "next": target})
    assert response["Location"] == reverse("home")


def test_the_switcher_ignores_a_language_it_does_not_offer(login, csm):
    prefer(csm, "ja")
    client = login(csm)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = client.post(SWITCH, {"language": "xx", "next": "/accounts/"})
    assert response["Location"] == "/accounts/"
    assert UserPreference.objects.get(user=csm.user).language == "ja"
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_signed_out_the_switcher_only_sets_the_cookie(client):
    response = client.post(SWITCH, {"language": "ja", "next": "/login/"})
    assert response["Location"] == "/login/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert not UserPreference.objects.exists()
    assert page_language(client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")) == "ja"


def test_the_switcher_takes_posts_only(login, csm):
    assert login(csm).get(SWITCH).status_code == 405


def test_the_profile_page_saves_the_language_and_the_cookie(login, viewer):
    client = login(viewer)
    page = client.get(PROFILE)
    assert page.status_code == 200
    assert 'name="language"' in page.content.decode()
    response = client.post(PROFILE, {"language": "ja"})
    assert response.status_code == 302 and response["Location"] == PROFILE
    assert UserPreference.objects.get(user=viewer.user).language == "ja"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert page_language(client.get(PROFILE, HTTP_ACCEPT_LANGUAGE="en")) == "ja"
    # Back to the browser's language: the preference is cleared and the cookie removed.
    response = client.post(PROFILE, {"language": ""})
    assert UserPreference.objects.get(user=viewer.user).language == ""
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == ""
    assert page_language(client.get(PROFILE, HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_the_profile_page_refuses_an_unknown_language(login, viewer):
    response = login(viewer).post(PROFILE, {"language": "xx"})
    assert response.status_code == 400
    assert not UserPreference.objects.filter(user=viewer.user).exists()


def test_the_profile_needs_a_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_one_user_sets_only_their_own_language(login, csm, csm2):
    login(csm).post(PROFILE, {"language": "ja"})
    assert not UserPreference.objects.filter(user=csm2.user).exists()


def test_the_service_refuses_a_language_not_offered(csm):
    with pytest.raises(DomainError):
        set_user_language(user=csm.user, language="de")
    assert set_user_language(user=csm.user, language="ja").language == "ja"


# --- the account pages in Japanese -------------------------------------------------------------------
def test_a_japanese_user_sees_yen_and_japanese_dates_on_the_account_pages(login, manager, ws, csm):
    prefer(manager, "ja")
    account = AccountFactory(workspace=ws, owner=csm, name="Sakura Logistics KK", arr=Decimal("3600000"),
                             renewal_date=dt.date(2027, 3, 31), contract_start=dt.date(2025, 4, 1))
    client = login(manager)
    listing = client.get(reverse("accounts:list")).content.decode()
    assert "3,600,000円" in listing and "2027/03/31" in listing
    detail = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "3,600,000円" in detail
    assert "2027年3月31日" in detail and "2025年4月1日" in detail
    assert "¥" not in detail


def test_an_english_user_sees_the_yen_sign_and_english_dates(login, manager, ws, csm):
    prefer(manager, "en")
    account = AccountFactory(workspace=ws, owner=csm, arr=Decimal("3600000"), renewal_date=dt.date(2027, 3, 31))
    client = login(manager)
    assert "2027-03-31" in client.get(reverse("accounts:list")).content.decode()
    detail = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "¥3,600,000" in detail and "31 Mar 2027" in detail


def test_signing_in_elsewhere_brings_the_cookie_so_the_sign_in_page_follows(login, csm):
    prefer(csm, "ja")
    client = login(csm)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert django_settings.LANGUAGE_COOKIE_NAME not in client.get("/").cookies  # set once, not every page
    client.post(reverse("logout"))
    assert page_language(client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")) == "ja"


def test_switching_is_not_undone_by_the_previous_choice(login, csm):
    prefer(csm, "en")
    client = login(csm)
    response = client.post(SWITCH, {"language": "ja", "next": "/"})
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ja"
