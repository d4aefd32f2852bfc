"""The playbook report's "renewed" outcome: enrolled accounts with a renewal recorded as renewed (flat,
up or down) due on a day in [day 0, day 0 + N], hand-counted, next to the comparison group."""

import datetime as dt

import pytest

from playbooks.reports import playbook_columns, playbook_report, playbook_rows

from .factories import AccountFactory, ContractFactory, RenewalOutcomeFactory
from .test_playbook_report import hold, item_of, playbook, run

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def renewal(acct, due_on, outcome="renewed"):
    line = ContractFactory(account=acct, start_date=due_on - 365 * DAY, end_date=due_on)
    return RenewalOutcomeFactory(line=line, outcome=outcome, new_mrr=None if outcome == "churned" else line.mrr)


def test_renewed_by_30_and_90_days(ws, csm):
    today = ws.today()
    book = playbook(ws, "Renewal outcome test")
    d = today - 100 * DAY  # day 0: +30 and +90 have both come
    a = [AccountFactory(workspace=ws, owner=csm, name=f"A{i}") for i in range(6)]
    for acct in a:
        run(book, acct, d)
    renewal(a[0], d)  # on day 0: renewed by +30 and +90
    renewal(a[1], d + 30 * DAY, "expanded")  # on its +30 day: counts at +30
    renewal(a[2], d + 31 * DAY, "contracted")  # the day after +30: only by +90
    renewal(a[3], d + 90 * DAY)  # on +90: by +90
    renewal(a[4], d + 20 * DAY, "churned")  # churned at renewal: not renewed
    renewal(a[5], d - DAY)  # the day before day 0: not counted
    renewal(a[5], d + 91 * DAY)  # after +90: not counted
    comparison = [AccountFactory(workspace=ws, owner=csm, name=f"C{i}") for i in range(5)]
    for acct in comparison:
        hold(book, acct, d, "limit")
    renewal(comparison[0], d + 10 * DAY)
    renewal(comparison[1], d + 60 * DAY)

    report = playbook_report(workspace=ws, start=d, end=today + DAY)
    outcomes = item_of(report, book)["outcomes"]
    at30, at90 = outcomes["enrolled"]
    # +30: a0, a1 = 2 of 6; +90: a0, a1, a2, a3 = 4 of 6.
    assert (at30["renewed"], at30["renewed_share"]) == (2, pytest.approx(2 / 6))
    assert (at90["renewed"], at90["renewed_share"]) == (4, pytest.approx(4 / 6))
    c30, c90 = outcomes["comparison"]
    assert (c30["renewed"], c30["renewed_share"], c90["renewed"], c90["renewed_share"]) == (1, 0.2, 2, 0.4)

    row = playbook_rows(report)[0]
    keys = [key for key, _header in playbook_columns()]
    assert "enrolled_30d_renewed" in keys and row["enrolled_90d_renewed"] == 4 and row["comparison_30d_renewed"] == 1


def test_renewed_not_shared_on_fewer_than_five(ws, csm):
    today = ws.today()
    book = playbook(ws, "Renewal outcome test")
    acct = AccountFactory(workspace=ws, owner=csm)
    run(book, acct, today - 40 * DAY)
    renewal(acct, today - 30 * DAY)
    at30 = item_of(playbook_report(workspace=ws, start=today - 40 * DAY, end=today + DAY), book)["outcomes"]["enrolled"][0]
    assert (at30["renewed"], at30["renewed_share"]) == (1, None)


def test_report_page_shows_the_renewed_row(ws, csm, login):
    book = playbook(ws, "Renewal outcome test")
    run(book, AccountFactory(workspace=ws, owner=csm), ws.today() - 40 * DAY)
    response = login(csm).get("/playbooks/report/")
    assert response.status_code == 200 and "Renewed by the day" in response.content.decode()
