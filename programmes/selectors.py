"""Reads of programmes: lists with attendance counts, attendees, and the effect report.

The effect report compares attendees' accounts with comparable accounts that did not attend. It is
a comparison, not proof: accounts that come to a webinar may differ from those that do not in ways
the matching does not see (their enthusiasm, first of all). See docs/programmes.md.

Definitions (all days are the workspace's days):
- a unit is an account and a reference day d. Attendees: every account with a contact who
  *attended* a session of the programme (for a session's report, that session), at its first such
  session. Comparison: every account no contact of which attended any session of the programme, at
  the first session (in time) where, on d, it was active and had the same touch tier and lifecycle
  stage as at least one of that session's new attendees' accounts;
- sessions less than 60 days old are left out (their 60 days have not passed);
- progressed: the account moved to a later lifecycle stage (a higher position) in (d, d + 60];
- usage: product events in the 30 days [d + 60, d + 90) against the 30 days [d − 30, d); only units
  whose d + 90 is on or before today count. The group's usage change is
  (sum after − sum before) / sum before over those units; "grew" counts units with after > before;
- a figure resting on fewer than MIN_GROUP accounts is None ("not enough data").
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict

from django.db.models import Count, Max, Q

from accounts.models import Account, AccountStatus, LifecycleStage, StageChange
from coverage.selectors import tiers_as_of
from usage.selectors import usage_per_account

from .filtersets import AttendanceFilterSet, ProgrammeFilterSet
from .models import Attendance, AttendanceStatus, Programme, ProgrammeSession

MIN_GROUP = 10
PROGRESSION_DAYS = 60
USAGE_OFFSET_DAYS = 60
USAGE_WINDOW_DAYS = 30

PROGRAMME_ORDERINGS = {
    "name": ["name", "id"], "-name": ["-name", "-id"],
    "kind": ["kind", "name", "id"], "-kind": ["-kind", "name", "id"],
    "sessions": ["session_count", "id"], "-sessions": ["-session_count", "-id"],
    "attended": ["attended_count", "id"], "-attended": ["-attended_count", "-id"],
    "last_session": ["last_session", "id"], "-last_session": ["-last_session", "-id"],
}
ATTENDEE_ORDERINGS = {
    "contact": ["contact__name", "id"], "-contact": ["-contact__name", "-id"],
    "account": ["contact__account__name", "contact__name", "id"],
    "-account": ["-contact__account__name", "contact__name", "id"],
    "status": ["status", "contact__name", "id"], "-status": ["-status", "contact__name", "id"],
}


def _attended(prefix=""):
    return Q(**{f"{prefix}status": AttendanceStatus.ATTENDED})


def programme_list(*, workspace, filters=None, request=None, ordering="name"):
    programmes = Programme.objects.for_workspace(workspace).annotate(
        session_count=Count("sessions", distinct=True),
        attended_count=Count("sessions__attendances", filter=_attended("sessions__attendances__"), distinct=True),
        last_session=Max("sessions__starts_at"),
    )
    if filters is not None:
        programmes = ProgrammeFilterSet(filters, queryset=programmes, request=request).qs
    return programmes.order_by(*PROGRAMME_ORDERINGS.get(ordering, PROGRAMME_ORDERINGS["name"]))


def programme_sessions(*, programme):
    """The programme's sessions, newest first, with their registered and attended counts."""
    return ProgrammeSession.objects.for_workspace(programme.workspace).filter(programme=programme).annotate(
        registered_count=Count("attendances", filter=Q(attendances__status=AttendanceStatus.REGISTERED)),
        attended_count=Count("attendances", filter=_attended("attendances__")),
    ).order_by("-starts_at", "-id")


def session_attendees(*, session, filters=None, request=None, ordering="contact"):
    rows = Attendance.objects.for_workspace(session.workspace).filter(session=session).select_related(
        "contact__account", "touchpoint")
    if filters is not None:
        rows = AttendanceFilterSet(filters, queryset=rows, request=request).qs
    return rows.order_by(*ATTENDEE_ORDERINGS.get(ordering, ATTENDEE_ORDERINGS["contact"]))


def attendance_rows(*, workspace, programme=None, session=None):
    """Attendance for the CSV export and the API: of one programme, one session, or all."""
    rows = Attendance.objects.for_workspace(workspace).select_related(
        "session__programme", "contact__account", "touchpoint")
    if session is not None:
        rows = rows.filter(session=session)
    elif programme is not None:
        rows = rows.filter(session__programme=programme)
    return rows.order_by("-session__starts_at", "session_id", "contact__name", "id")


# --- the effect report -----------------------------------------------------------------------------
class _StageHistory:
    """Each account's lifecycle stage on any day, and its moves, from the StageChange history
    (one query). Before an account's first recorded move it was in that move's from-stage; an
    account that never moved was always in its current stage."""

    def __init__(self, workspace, accounts):
        self.workspace = workspace
        self.current = {a["id"]: a["stage_id"] for a in accounts}
        self.moves = defaultdict(list)  # account -> [(day, from, to)] in time order
        rows = (StageChange.objects.for_workspace(workspace).order_by("account_id", "changed_at", "id")
                .values_list("account_id", "changed_at", "from_stage_id", "to_stage_id"))
        for account_id, changed_at, from_stage, to_stage in rows.iterator(chunk_size=5000):
            self.moves[account_id].append((workspace.local_day(changed_at), from_stage, to_stage))
        self.days = {account_id: [m[0] for m in moves] for account_id, moves in self.moves.items()}
        self.position = dict(LifecycleStage.objects.for_workspace(workspace).values_list("id", "position"))

    def stage_on(self, account_id, day):
        moves = self.moves.get(account_id)
        if not moves:
            return self.current.get(account_id)
        i = bisect_right(self.days[account_id], day)
        return moves[i - 1][2] if i else moves[0][1]

    def progressed(self, account_id, day, days=PROGRESSION_DAYS):
        """Whether the account moved to a later stage than its stage on `day` within `days` after it."""
        start = self.stage_on(account_id, day)
        base = self.position.get(start, -1) if start is not None else -1
        end = day + dt.timedelta(days=days)
        for moved_on, _from, to_stage in self.moves.get(account_id, ()):
            if day < moved_on <= end and to_stage is not None and self.position.get(to_stage, -1) > base:
                return True
        return False


def _active_on(account, day):
    if account["contract_start"] and account["contract_start"] > day:
        return False
    return account["status"] == AccountStatus.ACTIVE or (account["churned_on"] and account["churned_on"] > day)


def _events(workspace, start, end):
    """{account_id: product events on days [start, end]} (one aggregate query through usage's selector)."""
    rows = usage_per_account(workspace=workspace, up_to=end, window_from=start, previous_from=start)
    return {row["account_id"]: row["events_now"] or 0 for row in rows}


def _share(part, whole):
    return part / whole if whole >= MIN_GROUP else None


def _group_summary(units):
    n = len(units)
    progressed = sum(1 for u in units if u["progressed"])
    measured = [u for u in units if u["events_after"] is not None]
    before = sum(u["events_before"] for u in measured)
    after = sum(u["events_after"] for u in measured)
    grew = sum(1 for u in measured if u["events_after"] > u["events_before"])
    enough_usage = len(measured) >= MIN_GROUP
    return {
        "accounts": n,
        "progressed": progressed,
        "progression_rate": _share(progressed, n),
        "usage_accounts": len(measured),
        "events_before": before,
        "events_after": after,
        "usage_change": (after - before) / before if enough_usage and before else None,
        "grew": grew,
        "grew_share": _share(grew, len(measured)),
        "enough": n >= MIN_GROUP,
    }


def _difference(a, b):
    return None if a is None or b is None else a - b


def effect_report(*, workspace, today, programme=None, session=None):
    """Attendees' accounts against comparable accounts that did not attend (module docstring).

    Returns {"attendees": summary, "comparison": summary, "difference": {...}, "units": [...],
    "too_recent": sessions left out, "min_group": MIN_GROUP}. A fixed number of queries: the
    sessions, attendance, accounts, stage history, and for each session day the tiers and two usage sums.
    """
    if session is not None:
        programme = session.programme
    all_sessions = list(ProgrammeSession.objects.for_workspace(workspace).filter(programme=programme)
                        .order_by("starts_at", "id"))
    day_of = {s.pk: workspace.local_day(s.starts_at) for s in all_sessions}
    latest_measurable = today - dt.timedelta(days=PROGRESSION_DAYS)
    attended = (Attendance.objects.for_workspace(workspace).filter(session__programme=programme, status=AttendanceStatus.ATTENDED)
                .values_list("contact__account_id", "session_id"))
    order = {s.pk: i for i, s in enumerate(all_sessions)}
    first_session = {}
    programme_attendees = set()
    for account_id, session_id in attended:
        programme_attendees.add(account_id)
        if session is not None and session_id != session.pk:
            continue
        if account_id not in first_session or order[session_id] < order[first_session[account_id]]:
            first_session[account_id] = session_id
    sessions = [session] if session is not None else all_sessions
    measurable = [s for s in sessions if day_of[s.pk] <= latest_measurable]
    too_recent = [s for s in sessions if day_of[s.pk] > latest_measurable]

    accounts = list(Account.objects.for_workspace(workspace).values(
        "id", "name", "status", "churned_on", "contract_start", "stage_id", "touch_tier"))
    by_id = {a["id"]: a for a in accounts}
    stages = _StageHistory(workspace, accounts)
    stage_names = dict(LifecycleStage.objects.for_workspace(workspace).values_list("id", "name"))

    units, assigned = [], set()
    for s in measurable:
        day = day_of[s.pk]
        new = [a for a, sid in first_session.items() if sid == s.pk and a in by_id and _active_on(by_id[a], day)]
        if not new:
            continue
        tiers = tiers_as_of(workspace=workspace, day=day)

        def cell(account_id, day=day, tiers=tiers):
            return (tiers.get(account_id, by_id[account_id]["touch_tier"]), stages.stage_on(account_id, day))

        cells = {cell(a) for a in new}
        matched = [a["id"] for a in accounts
                   if a["id"] not in programme_attendees and a["id"] not in assigned
                   and _active_on(a, day) and cell(a["id"]) in cells]
        assigned.update(matched)
        usage_known = day + dt.timedelta(days=USAGE_OFFSET_DAYS + USAGE_WINDOW_DAYS) <= today
        before = _events(workspace, day - dt.timedelta(days=USAGE_WINDOW_DAYS), day - dt.timedelta(days=1))
        after = _events(workspace, day + dt.timedelta(days=USAGE_OFFSET_DAYS),
                        day + dt.timedelta(days=USAGE_OFFSET_DAYS + USAGE_WINDOW_DAYS - 1)) if usage_known else {}
        for group, ids in (("attendees", new), ("comparison", matched)):
            for account_id in ids:
                tier, stage = cell(account_id)
                units.append({
                    "group": group, "account_id": account_id, "account": by_id[account_id]["name"],
                    "session": s, "day": day, "tier": tier, "stage": stage_names.get(stage, ""),
                    "progressed": stages.progressed(account_id, day),
                    "events_before": before.get(account_id, 0),
                    "events_after": after.get(account_id, 0) if usage_known else None,
                })
    attendees = _group_summary([u for u in units if u["group"] == "attendees"])
    comparison = _group_summary([u for u in units if u["group"] == "comparison"])
    return {
        "programme": programme, "session": session,
        "attendees": attendees, "comparison": comparison,
        "difference": {
            "progression_rate": _difference(attendees["progression_rate"], comparison["progression_rate"]),
            "usage_change": _difference(attendees["usage_change"], comparison["usage_change"]),
            "grew_share": _difference(attendees["grew_share"], comparison["grew_share"]),
        },
        "units": units, "too_recent": too_recent, "min_group": MIN_GROUP,
        "progression_days": PROGRESSION_DAYS, "usage_offset_days": USAGE_OFFSET_DAYS,
        "usage_window_days": USAGE_WINDOW_DAYS,
    }
