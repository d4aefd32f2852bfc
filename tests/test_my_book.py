import datetime as dt

import pytest

from cs_platform.nightly import run_nightly

from .factories import AccountFactory


@pytest.mark.django_db
def test_my_book_lists_my_risks_and_renewals_only(ws, csm, csm2, other_ws, outsider, login):
    today = ws.today()
    AccountFactory(workspace=ws, owner=csm, name="Red Renewing KK", health_score=22, health_band="red",
                   renewal_date=today + dt.timedelta(days=30))
    AccountFactory(workspace=ws, owner=csm, name="Falling Fast KK", health_score=55, health_band="yellow",
                   health_change_30d=-18, renewal_date=today + dt.timedelta(days=300))
    AccountFactory(workspace=ws, owner=csm, name="Healthy Steady KK", health_score=85, health_band="green",
                   health_change_30d=2, renewal_date=today + dt.timedelta(days=300))
    AccountFactory(workspace=ws, owner=csm2, name="Someone Elses KK", health_score=10, health_band="red")
    AccountFactory(workspace=other_ws, owner=outsider, name="Other Tenant KK", health_band="red")

    html = login(csm).get("/").content.decode()

    assert "Red Renewing KK" in html and "Falling Fast KK" in html
    assert "Healthy Steady KK" not in html  # neither at risk nor renewing within 90 days
    assert "Someone Elses KK" not in html and "Other Tenant KK" not in html
    assert "Coverage has not been computed yet." in html


@pytest.mark.django_db
def test_my_book_shows_accounts_breaking_coverage_after_the_nightly_run(ws, csm, login):
    AccountFactory(workspace=ws, owner=csm, name="Never Touched KK")
    run_nightly(workspace=ws, as_of=ws.today())

    html = login(csm).get("/").content.decode()

    assert "Never Touched KK" in html
    assert "Coverage has not been computed yet." not in html


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")
