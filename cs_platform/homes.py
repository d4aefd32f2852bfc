"""The home pages: what a member sees first. They read every capability, so they live on the top floor."""

import datetime as dt

from django.db.models import Q

from accounts.models import Account, AccountStatus
from coverage.selectors import due_list, latest_day
from healthscore.selectors import my_alerts


def my_book(*, membership, renewal_days=90, risk_drop=10):
    """What a member opens every morning: due touches, accounts at risk, renewals, open alerts.

    Reads the stored nightly results (coverage snapshots, health on the account row, alerts), so
    the page costs a handful of queries whatever the size of the book.
    """



    workspace = membership.workspace
    today = workspace.today()
    mine = Account.objects.for_workspace(workspace).filter(owner=membership, status=AccountStatus.ACTIVE)
    day = latest_day(workspace=workspace, on_or_before=today)
    due = list(due_list(workspace=workspace, owner=membership, day=day)[:15]) if day else []
    at_risk = mine.filter(Q(health_band="red") | Q(health_change_30d__lte=-risk_drop)).order_by(
        "health_score", "-arr", "id"
    )
    renewals = mine.filter(renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=renewal_days))
    pushed, digest, _week = my_alerts(membership=membership)
    return {
        "today": today,
        "coverage_day": day,
        "book_size": mine.count(),
        "due": due,
        "overdue_count": sum(1 for row in due if not row.covered),
        "at_risk": list(at_risk.select_related("stage")[:15]),
        "renewals": list(renewals.order_by("renewal_date", "id").select_related("stage")[:15]),
        "alerts": list(pushed[:10]),
        "digest_count": digest.count(),
    }
