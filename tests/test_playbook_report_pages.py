"""The playbook report's page, downloads and API: the same figures as playbooks.reports, for every
member of the workspace; bad input is a 400 naming the field; workspace B's rows never show."""

import csv
import datetime as dt
import io

import pytest

from .test_playbook_report import account, churn, coverage, days_ago, health, hold, playbook, run, task

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(ws, csm, csm2):
    """Renewal: 6 runs 40 days ago (health +10, +10, +10, -5, 0, +5: average 5.0), 5 held back (each -2);
    three tasks (one on time, one late, one overdue). Onboarding: one run, nothing else."""
    p, q = playbook(ws, "Renewal"), playbook(ws, "Onboarding push")
    d = days_ago(ws, 40)
    later = d + dt.timedelta(days=30)
    runs = []
    for change in (10, 10, 10, -5, 0, 5):
        acct = account(ws, csm)
        runs.append(run(p, acct, d))
        health(acct, d, 50), health(acct, later, 50 + change)
        coverage(acct, later, covered=change > 0)
    churn(runs[3].account, later)
    for _ in range(5):
        acct = account(ws, csm)
        hold(p, acct, d, "cooldown")
        health(acct, d, 60), health(acct, later, 58)
    task(runs[0], days_ago(ws, 10), status="done", completed_on=days_ago(ws, 10), assignee=csm)
    task(runs[1], days_ago(ws, 10), status="done", completed_on=days_ago(ws, 8), assignee=csm2)
    task(runs[2], days_ago(ws, 3), status="open", assignee=csm2)
    run(q, account(ws, csm), days_ago(ws, 5))
    return p, q


@pytest.mark.parametrize("persona", ["admin", "manager", "csm", "viewer"])
def test_every_member_reads_the_page(request, login, world, persona):
    client = login(request.getfixturevalue(persona))
    response = client.get("/playbooks/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Renewal" in html and "Onboarding" in html
    assert 'role="img"' in html  # the chart
    # Enrolled +30: average health change +5.0 on 6; comparison -2.0 on 5; churned 1 of 6 (17%).
    assert "+5.0" in html and "-2.0" in html
    assert "17%" in html and "(1/6)" in html
    assert "(2/3)" not in html


def test_the_page_says_n_too_small(login, viewer, ws, csm):
    p = playbook(ws, "Tiny")
    d = days_ago(ws, 40)
    for _ in range(3):
        acct = account(ws, csm)
        run(p, acct, d)
        health(acct, d, 50), health(acct, d + dt.timedelta(days=30), 60)
    html = login(viewer).get("/playbooks/report/").content.decode()
    assert "n too small" in html


def test_the_page_filters_by_playbook_and_period(login, viewer, ws, world):
    p, q = world
    client = login(viewer)
    html = client.get("/playbooks/report/", {"playbook": q.pk}).content.decode()
    assert f'id="playbook-{q.pk}"' in html and f'id="playbook-{p.pk}"' not in html
    # A period before anything started: no playbook shows.
    start, end = days_ago(ws, 400).isoformat(), days_ago(ws, 300).isoformat()
    html = client.get("/playbooks/report/", {"start": start, "end": end}).content.decode()
    assert "playbook-report" not in html and "No playbook started a run" in html


@pytest.mark.parametrize("query, field", [
    ({"start": "yesterday"}, "From"),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "Until (not included)"),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "Until (not included)"),
    ({"playbook": "abc"}, "Playbook"),
])
def test_bad_input_on_the_page_is_a_form_error(login, viewer, world, query, field):
    response = login(viewer).get("/playbooks/report/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "filter-errors" in html and f"<li>{field}:" in html
    assert "playbook-report" not in html


def _csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_per_playbook(login, viewer, ws, world):
    p, q = world
    rows = _csv(login(viewer).get("/playbooks/report/export.csv"))
    by_name = {row["Playbook"]: row for row in rows}
    assert set(by_name) == {"Renewal", "Onboarding push"}
    renewal = by_name["Renewal"]
    assert renewal["From"] == days_ago(ws, 89).isoformat() and renewal["Until (not included)"] == days_ago(
        ws, -1).isoformat()
    assert (renewal["Runs started"], renewal["Tasks due"], renewal["Done on time"], renewal["Done late"],
            renewal["Open, overdue"]) == ("6", "3", "1", "1", "1")
    assert renewal["On-time rate"] == "0.333"  # 1 of 3
    assert renewal["enrolled +30 days: accounts"] == "6"
    assert renewal["enrolled +30 days: average health change"] == "5.0"  # (10+10+10-5+0+5)/6
    assert renewal["enrolled +30 days: covered"] == "4"
    assert renewal["enrolled +30 days: churned"] == "1"
    assert renewal["comparison +30 days: average health change"] == "-2.0"
    assert renewal["enrolled +90 days: accounts"] == "0"
    assert renewal["enrolled +90 days: average health change"] == ""  # not given
    assert by_name["Onboarding push"]["Runs started"] == "1"
    only_q = _csv(login(viewer).get("/playbooks/report/export.csv", {"playbook": q.pk}))
    assert [row["Playbook"] for row in only_q] == ["Onboarding push"]


def test_csv_per_csm(login, viewer, csm, csm2, world):
    rows = {row["CSM"]: row for row in _csv(login(viewer).get("/playbooks/report/export-csm.csv"))}
    assert (rows["Kenji Test"]["Tasks due"], rows["Kenji Test"]["On-time rate"]) == ("1", "1.0")
    # csm2: one late, one overdue: 0 of 2.
    assert (rows["Yui Test"]["Tasks due"], rows["Yui Test"]["Done late"], rows["Yui Test"]["Open, overdue"],
            rows["Yui Test"]["On-time rate"]) == ("2", "1", "1", "0.0")


def test_a_bad_download_is_a_400_naming_the_field(login, viewer, world):
    response = login(viewer).get("/playbooks/report/export.csv", {"end": "not-a-day"})
    assert response.status_code == 400 and response.content.decode().startswith("end:")


def test_api(api_for, viewer, ws, world):
    p, _q = world
    response = api_for(viewer).get("/api/v1/playbook-report/")
    assert response.status_code == 200
    body = response.json()
    assert body["start"] == days_ago(ws, 89).isoformat() and body["end"] == days_ago(ws, -1).isoformat()
    assert body["min_n"] == 5
    renewal = next(item for item in body["playbooks"] if item["id"] == p.pk)
    assert renewal["runs"]["started"] == 6 and renewal["tasks"]["rated"] == 3
    assert renewal["enrolled"][0]["health_change"] == pytest.approx(5.0)
    assert renewal["comparison"][0]["health_change"] == pytest.approx(-2.0)
    assert renewal["enrolled"][0]["covered_share"] == pytest.approx(4 / 6)
    assert renewal["comparison_size"] == 5
    one = api_for(viewer).get("/api/v1/playbook-report/", {"playbook": p.pk}).json()
    assert [item["id"] for item in one["playbooks"]] == [p.pk] and one["playbook"] == p.pk


@pytest.mark.parametrize("query, field", [
    ({"start": "2026-13-01"}, "start"),
    ({"end": "soon"}, "end"),
    ({"start": "2026-03-01", "end": "2026-03-01"}, "end"),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "end"),
    ({"playbook": "abc"}, "playbook"),
    ({"playbook": "999999999"}, "playbook"),
])
def test_api_bad_input_is_a_400_naming_the_field(api_for, viewer, world, query, field):
    response = api_for(viewer).get("/api/v1/playbook-report/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_another_workspaces_playbook_is_a_400_and_its_rows_never_show(api_for, login, ws, other_ws, outsider, viewer,
                                                                       world):
    theirs = playbook(other_ws, "Hidden Play")
    acct = account(other_ws, outsider)
    the_run = run(theirs, acct, days_ago(ws, 10))
    task(the_run, days_ago(ws, 2), status="open", assignee=outsider)
    response = api_for(viewer).get("/api/v1/playbook-report/", {"playbook": theirs.pk})
    assert response.status_code == 400 and list(response.json()) == ["playbook"]
    body = api_for(viewer).get("/api/v1/playbook-report/").json()
    assert "Hidden Play" not in str(body) and "Olga" not in str(body)
    assert sum(item["runs"]["started"] for item in body["playbooks"]) == 7
    html = login(viewer).get("/playbooks/report/").content.decode()
    assert "Hidden Play" not in html and "Olga" not in html
    # And B's member sees only B's.
    b_body = api_for(outsider).get("/api/v1/playbook-report/").json()
    assert [item["name"] for item in b_body["playbooks"]] == ["Hidden Play"]
    assert b_body["csm_total"]["due"] == 1
