"""The 403, 404 and 500 pages with DEBUG off: styled, translated, with a way home; the API keeps
answering 404 in JSON; the favicon is linked and /favicon.ico does not 404."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def test_404_page_is_styled_and_links_home(login, csm):
    response = login(csm).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'href="/"' in page and "css/app.css" in page
    assert 'rel="icon"' in page


def test_404_page_for_a_visitor_who_is_not_signed_in(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_api_404_stays_json(client):
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json() == {"detail": "Not found."}


def test_403_page_says_why_and_links_home(login, csm):
    response = login(csm).get(reverse("segments:create"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "You do not have access to this page" in page and 'href="/"' in page and "css/app.css" in page
    assert "Only managers change segments." in page  # the policy's reason


def test_403_page_in_japanese(login, csm):
    response = login(csm).get(reverse("segments:create"), HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="ja">' in page
    # The policy's reason is already in the catalogue; the page's own sentences are translated once
    # the integrator compiles this branch's messages.
    assert "セグメントを変更できるのはマネージャーだけです。" in page
    assert "Only managers change segments." not in page


def test_500_page_renders_without_the_database_or_context(settings, django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page and 'href="/"' in page and "css/app.css" in page


def test_500_page_when_a_page_fails(settings, csm):
    settings.ROOT_URLCONF = "tests.error_urls"
    client = Client(raise_request_exception=False)
    client.force_login(csm.user)
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500 and "Something went wrong" in response.content.decode()


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert client.get(response["Location"]).status_code == 200
