"""The demo's one-to-many programmes: a monthly webinar and a newsletter every other week over the
last 12 months, with attendance from the demo's contacts imported as a webinar or mail tool would.

Engaged customers come more often (a fifth of the accounts are regulars), so that the effect
report has attendees to compare; who attends is still chance, as in life.
"""

import datetime as dt

from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Contact
from programmes.models import Programme
from programmes.services import import_attendance, save_programme, save_session


def _sessions(workspace, programme, actor, days, title, hour):
    tz = workspace.tz
    return [
        save_session(workspace=workspace, actor=actor, programme=programme,
                     title=title % {"n": n}, starts_at=timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), tz))
        for n, day in enumerate(days, start=1)
    ]


def seed_programmes(workspace, rng, today, actor):
    """Two programmes with sessions and attendance; returns the number of attendance rows."""
    Programme.objects.for_workspace(workspace).delete()  # a refresh regenerates them
    contacts = list(Contact.objects.for_workspace(workspace).filter(
        account__status="active", left_on__isnull=True).exclude(email="").order_by("pk")
        .values_list("pk", "email", "account_id"))
    if not contacts:
        return 0
    accounts = sorted({account_id for _pk, _email, account_id in contacts})
    regulars = set(rng.sample(accounts, k=max(1, len(accounts) // 5)))
    with translation.override(workspace.language):
        webinar = save_programme(workspace=workspace, actor=actor, name=gettext("Monthly product webinar"),
                                 kind="webinar", description=gettext(
                                     "New features and customers' best practices, every month, 45 minutes."))
        newsletter = save_programme(workspace=workspace, actor=actor, name=gettext("Success newsletter"),
                                    kind="newsletter", description=gettext(
                                        "Tips for each lifecycle stage, every other week. Opening it counts."))
        webinars = _sessions(workspace, webinar, actor, [today - dt.timedelta(days=30 * k + 5) for k in range(12, 0, -1)],
                             gettext("Webinar #%(n)d"), 15)
        issues = _sessions(workspace, newsletter, actor, [today - dt.timedelta(days=14 * k + 2) for k in range(26, 0, -1)],
                           gettext("Issue #%(n)d"), 10)
    rows = 0
    for sessions, regular_rate, other_rate, no_show in ((webinars, 0.12, 0.015, 0.4), (issues, 0.10, 0.02, 0.0)):
        for session in sessions:
            lines = []
            for _pk, email, account_id in contacts:
                if rng.random() < (regular_rate if account_id in regulars else other_rate):
                    status = "registered" if rng.random() < no_show else "attended"
                    lines.append((len(lines) + 2, {"email": email, "status": status}))
            if lines:
                import_attendance(session=session, actor=actor, rows=lines)
                rows += len(lines)
    return rows
