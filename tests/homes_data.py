"""A small team with stored history, written straight into the tables the nightly run fills.

Workspace `ws`, today T (the workspace's today):

| account | owner | ARR       | band (T / T-7) | 30-day change | renews | coverage on T             |
|---------|-------|-----------|----------------|---------------|--------|---------------------------|
| A1      | csm   | 1,000,000 | red / yellow   | -15           | T+30   | 14 days overdue (video meeting) |
| A2      | csm   | 2,000,000 | green / green  | +2            | T+200  | covered                   |
| B1      | csm2  |   500,000 | yellow / green | -12           | T+60   | covered, due T+5          |
| B2      | csm2  | 3,000,000 | red / red      | 0             | T+300  | covered                   |
| U1      | —     |   400,000 | green / green  | 0             | T+10   | never touched             |
| C1      | csm   |    99,999 | (churned)      |               |        |                           |

Coverage rollups (in scope, covered, ARR, covered ARR) per owner:
    T:   csm 2, 1, 3.0M, 2.0M   csm2 2, 2, 3.5M, 3.5M   none 1, 0, 0.4M, 0
    T-7: csm 2, 0, 3.0M, 0      csm2 2, 1, 3.5M, 3.0M   none 1, 1, 0.4M, 0.4M
A snapshot day between the period ends (T-3) is all red: the week's figures must not read it.
A2 moved from the first stage to the second yesterday; the second stage's target share is 30%.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from accounts.models import AccountStatus, LifecycleStage, StageChange
from coverage.models import CoverageRollup, CoverageSnapshot
from healthscore.models import HealthAlert, HealthSnapshot, week_of
from healthscore.selectors import default_scorecard, latest_version

from .factories import AccountFactory


def rollup(ws, day, owner, n, covered, arr, arr_covered):
    CoverageRollup.objects.create(workspace=ws, day=day, owner=owner, tier="high", cell="",
                                  in_scope_count=n, covered_count=covered, in_scope_arr=Decimal(arr),
                                  covered_arr=Decimal(arr_covered))


def health(ws, account, day, band, total=None):
    version = latest_version(default_scorecard(workspace=ws))
    HealthSnapshot.objects.create(workspace=ws, account=account, day=day, version=version, band=band,
                                  total=total if total is not None else {"red": 30, "yellow": 55, "green": 80}[band])


def coverage_row(ws, account, day, *, covered, overdue_days=None, due_date=None, broken_rule="", fix_channel=""):
    CoverageSnapshot.objects.create(workspace=ws, day=day, account=account, owner=account.owner, tier="high",
                                    arr=account.arr, in_scope=True, covered=covered, overdue_days=overdue_days,
                                    due_date=due_date, broken_rule=broken_rule, fix_channel=fix_channel)


def open_alert(ws, account, day, kind="entered_red"):
    return HealthAlert.objects.create(workspace=ws, account=account, owner=account.owner, kind=kind, reason="usage",
                                      opened_on=day, last_seen_on=day, score=account.health_score,
                                      week=week_of(day), pushed=True)


def team(ws, csm, csm2):
    T = ws.today()
    days = lambda n: T + dt.timedelta(days=n)  # noqa: E731
    first, second = list(LifecycleStage.objects.for_workspace(ws).order_by("position", "id"))[:2]
    second.target_share = Decimal("30")
    second.save()
    spec = dict(stage=first)
    a1 = AccountFactory(workspace=ws, owner=csm, name="A1 Red Renewing KK", arr=Decimal("1000000"), health_band="red",
                        health_score=30, health_change_30d=-15, renewal_date=days(30), **spec)
    a2 = AccountFactory(workspace=ws, owner=csm, name="A2 Green KK", arr=Decimal("2000000"), health_band="green",
                        health_score=80, health_change_30d=2, renewal_date=days(200), stage=second)
    b1 = AccountFactory(workspace=ws, owner=csm2, name="B1 Falling KK", arr=Decimal("500000"), health_band="yellow",
                        health_score=55, health_change_30d=-12, renewal_date=days(60), **spec)
    b2 = AccountFactory(workspace=ws, owner=csm2, name="B2 Big Red KK", arr=Decimal("3000000"), health_band="red",
                        health_score=30, health_change_30d=0, renewal_date=days(300), **spec)
    u1 = AccountFactory(workspace=ws, owner=None, name="U1 Nobody's KK", arr=Decimal("400000"), health_band="green",
                        health_score=80, health_change_30d=0, renewal_date=days(10), **spec)
    c1 = AccountFactory(workspace=ws, owner=csm, name="C1 Churned KK", arr=Decimal("99999"), health_band="red",
                        status=AccountStatus.CHURNED, churned_on=days(-20), renewal_date=days(5), **spec)
    StageChange.objects.create(workspace=ws, account=a2, from_stage=first, to_stage=second,
                               changed_at=timezone.now() - dt.timedelta(days=1))
    StageChange.objects.create(workspace=ws, account=b2, from_stage=second, to_stage=first,
                               changed_at=timezone.now() - dt.timedelta(days=40))  # before the period

    rollup(ws, T, csm, 2, 1, "3000000", "2000000")
    rollup(ws, T, csm2, 2, 2, "3500000", "3500000")
    rollup(ws, T, None, 1, 0, "400000", "0")
    rollup(ws, days(-7), csm, 2, 0, "3000000", "0")
    rollup(ws, days(-7), csm2, 2, 1, "3500000", "3000000")
    rollup(ws, days(-7), None, 1, 1, "400000", "400000")

    for account, now, before in [(a1, "red", "yellow"), (a2, "green", "green"), (b1, "yellow", "green"),
                                 (b2, "red", "red"), (u1, "green", "green")]:
        health(ws, account, T, now)
        health(ws, account, days(-7), before)
        health(ws, account, days(-3), "red")

    coverage_row(ws, a1, T, covered=False, overdue_days=14, broken_rule="cadence", fix_channel="video_meeting")
    coverage_row(ws, a2, T, covered=True, due_date=days(40))
    coverage_row(ws, b1, T, covered=True, due_date=days(5), fix_channel="phone")
    coverage_row(ws, b2, T, covered=True, due_date=days(30))
    coverage_row(ws, u1, T, covered=False, broken_rule="never", fix_channel="email")
    # A week ago, as the rollups of that day say: only B2 and U1 were covered.
    for account in (a1, a2, b1):
        coverage_row(ws, account, days(-7), covered=False, overdue_days=3, broken_rule="cadence")
    for account in (b2, u1):
        coverage_row(ws, account, days(-7), covered=True, due_date=days(20))
    alert = open_alert(ws, a1, days(-2))
    return SimpleNamespace(today=T, a1=a1, a2=a2, b1=b1, b2=b2, u1=u1, c1=c1, first=first, second=second,
                           alert=alert)
