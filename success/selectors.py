"""Reads of success plans, the report card and KPT notes; what other apps read of this one.

Other capabilities (health, playbooks) read the plan's gap through `gaps_as_of`: the gap recorded by
the plan's last history event before the end of the day, never today's objectives on a past day.
"""

import datetime as dt
from collections import defaultdict

from django.apps import apps
from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.utils.module_loading import import_string

from accounts.models import Touchpoint
from usage.selectors import account_daily_usage

from .filtersets import KptNoteFilterSet, PlanFilterSet
from .models import KptKind, KptNote, LevelDefinition, PeriodKind, PlanEvent, PlanStatus, SuccessPlan
from .services import is_successful, period_start_of, plan_gap, previous_period

# Submitted plans first: they wait for a manager.
STATUS_ORDER = Case(When(status=PlanStatus.SUBMITTED, then=0), When(status=PlanStatus.CHANGES_REQUESTED, then=1),
                    When(status=PlanStatus.DRAFT, then=2), default=3, output_field=IntegerField())
PLAN_ORDERINGS = {"status": ["status_order", "-submitted_at", "account__name"], "account": ["account__name"],
                  "-account": ["-account__name"], "-gap": [F("gap").desc(nulls_last=True), "account__name"],
                  "gap": [F("gap").asc(nulls_last=True), "account__name"], "-updated": ["-updated_at"]}
REPORT_DAYS = 90


def with_figures(plans):
    """Plans with their objective count, achieved count and gap (sum of the shortfalls) annotated."""
    short = Case(When(objectives__objective_level__gt=F("objectives__achievement_level"),
                      then=F("objectives__objective_level") - F("objectives__achievement_level")),
                 default=0, output_field=IntegerField())
    return plans.annotate(
        objective_count=Count("objectives", distinct=True),
        achieved_count=Count("objectives", filter=Q(objectives__achievement_level__gte=F(
            "objectives__objective_level")), distinct=True),
        gap_sum=Sum(short),
        status_order=STATUS_ORDER,
    ).annotate(gap=Case(When(objective_count=0, then=None), default=F("gap_sum"), output_field=IntegerField()))


def plan_list(*, workspace, filters=None, request=None, ordering="status"):
    plans = with_figures(SuccessPlan.objects.for_workspace(workspace).select_related("account", "account__owner__user"))
    plans = PlanFilterSet(filters or {}, queryset=plans, request=request).qs
    return plans.order_by(*PLAN_ORDERINGS.get(ordering, PLAN_ORDERINGS["status"]))


def plan_of(*, workspace, account):
    return SuccessPlan.objects.for_workspace(workspace).filter(account=account).first()


def plan_figures(plan):
    """{objectives, achieved, gap, successful} of the plan as it stands."""
    levels = [(o.objective_level, o.achievement_level) for o in plan.objectives.all()]
    return {"objectives": len(levels), "achieved": sum(1 for o, a in levels if a >= o),
            "gap": plan_gap(levels), "successful": is_successful(levels)}


def plan_history(*, plan, limit=200):
    return plan.events.select_related("actor__user").order_by("-occurred_at", "-id")[:limit]


def levels(*, workspace):
    """{level: LevelDefinition} of the workspace."""
    return {row.level: row for row in LevelDefinition.objects.for_workspace(workspace)}


def gaps_as_of(*, workspace, day, account_ids=None):
    """{account_id: gap} of the accounts whose plan had objectives at the end of `day` (the workspace's
    local day), read from the plan's history: the state after its last event before the day ended.
    An account without a plan on that day, or whose plan had no objectives, is absent (not available)."""
    end = workspace.day_start(day + dt.timedelta(days=1))
    last = PlanEvent.objects.filter(plan=OuterRef("pk"), occurred_at__lt=end).order_by("-occurred_at", "-id")
    plans = SuccessPlan.objects.for_workspace(workspace)
    if account_ids is not None:
        plans = plans.filter(account_id__in=list(account_ids))
    rows = plans.annotate(gap_then=Subquery(last.values("gap_after")[:1])).values_list("account_id", "gap_then")
    return {account_id: gap for account_id, gap in rows if gap is not None}


def plan_ids_by_account(*, workspace, account_ids=None):
    plans = SuccessPlan.objects.for_workspace(workspace)
    if account_ids is not None:
        plans = plans.filter(account_id__in=list(account_ids))
    return dict(plans.values_list("account_id", "pk"))


def playbook_names(*, workspace, ids):
    """{playbook id: name} of these playbooks of the workspace. Playbooks sits above this app, so it
    is looked up by the model registry, not imported; an unknown id is simply missing."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    try:
        model = apps.get_model("playbooks", "Playbook")
    except LookupError:
        return {}
    return dict(model.objects.for_workspace(workspace).filter(pk__in=ids).values_list("pk", "name"))


def playbook_choices(*, workspace):
    try:
        model = apps.get_model("playbooks", "Playbook")
    except LookupError:
        return []
    return list(model.objects.for_workspace(workspace).order_by("name").values_list("pk", "name"))


def key_features(*, workspace):
    """The workspace's key features, from wherever the deployment keeps them (settings.SUCCESS_KEY_FEATURES)."""
    path = getattr(settings, "SUCCESS_KEY_FEATURES", "")
    if not path:
        return []
    return [str(f) for f in (import_string(path)(workspace=workspace) or []) if str(f).strip()]


# --- the report card -------------------------------------------------------------------------------
def default_period(*, workspace, account, today):
    """The last 90 days up to today, or from the contract start when it is more recent."""
    start = today - dt.timedelta(days=REPORT_DAYS - 1)
    if account.contract_start and start < account.contract_start <= today:
        start = account.contract_start
    return start, today


def report_card(*, workspace, account, start, end, today):
    """What the CSM brings to the customer meeting, for the days start..end (inclusive, local days)."""
    usage = account_daily_usage(workspace=workspace, account_id=account.pk, start=start, end=end)
    by_day = {row["day"]: row for row in usage}
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    series = [{"day": d, "events": by_day.get(d, {}).get("events", 0),
               "active_users": by_day.get(d, {}).get("active_users", 0)} for d in days]
    feature_days, feature_events = defaultdict(int), defaultdict(int)
    for row in usage:
        for name, count in (row["event_counts"] or {}).items():
            if count:
                feature_days[name] += 1
                feature_events[name] += count
    keys = key_features(workspace=workspace)
    key_rows = [{"feature": f, "days": feature_days.get(f, 0), "events": feature_events.get(f, 0),
                 "used": feature_days.get(f, 0) > 0} for f in keys]
    used_keys = sum(1 for r in key_rows if r["used"])
    top = sorted(feature_events.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    plan = plan_of(workspace=workspace, account=account)
    objectives = list(plan.objectives.all()) if plan else []
    touchpoints = list(Touchpoint.objects.for_workspace(workspace).filter(
        account=account, occurred_at__gte=workspace.day_start(start),
        occurred_at__lt=workspace.day_start(end + dt.timedelta(days=1))).select_related("author__user")
        .order_by("-occurred_at", "-id")[:50])
    open_objectives = sorted((o for o in objectives if not o.achieved),
                             key=lambda o: (o.target_date is None, o.target_date or today, o.position))
    return {
        "start": start, "end": end, "days": len(days), "series": series,
        "events": sum(r["events"] for r in series),
        "active_days": sum(1 for r in series if r["events"] > 0),
        "peak_users": max((r["active_users"] for r in series), default=0),
        "key_features": key_rows, "key_used": used_keys, "key_total": len(keys),
        "key_share": (used_keys / len(keys)) if keys else None,
        "top_features": [{"feature": f, "events": n, "days": feature_days[f]} for f, n in top],
        "plan": plan, "objectives": objectives,
        "figures": plan_figures(plan) if plan else None,
        "touchpoints": touchpoints,
        "next_steps": open_objectives,
        "overdue": [o for o in open_objectives if o.target_date and o.target_date < today],
    }


def usage_chart(series, *, width=640, height=160):
    """A bar chart of events per day for the page's inline SVG (no script)."""
    left, right, top, bottom = 36, width - 8, 10, height - 22
    peak = max((r["events"] for r in series), default=0) or 1
    step = (right - left) / max(len(series), 1)
    bars = []
    for i, row in enumerate(series):
        h = (bottom - top) * row["events"] / peak
        bars.append({"x": left + i * step, "y": bottom - h, "w": max(step - 1, 1), "h": h, "day": row["day"],
                     "events": row["events"], "users": row["active_users"]})
    ticks = [bars[0], bars[len(bars) // 2], bars[-1]] if bars else []
    return {"width": width, "height": height, "left": left, "right": right, "top": top, "bottom": bottom,
            "peak": peak, "bars": bars, "ticks": ticks, "label_y": bottom + 15}


# --- KPT notes -------------------------------------------------------------------------------------
def note_list(*, workspace, filters=None, request=None):
    notes = KptNote.objects.for_workspace(workspace).select_related("author__user", "segment")
    return KptNoteFilterSet(filters or {}, queryset=notes, request=request).qs.order_by("-period_start", "kind", "id")


def kpt_comparison(*, workspace, period_kind, day):
    """This period's Keep / Problem / Try notes beside the previous period's, kind by kind."""
    start = period_start_of(day, period_kind)
    before = previous_period(start, period_kind)
    notes = (KptNote.objects.for_workspace(workspace).filter(period_kind=period_kind, period_start__in=[start, before])
             .select_related("author__user", "segment"))
    names = playbook_names(workspace=workspace, ids={n.playbook_id for n in notes})
    grouped = {(start, k): [] for k in KptKind.values} | {(before, k): [] for k in KptKind.values}
    for note in notes:
        note.playbook_name = names.get(note.playbook_id)
        grouped[(note.period_start, note.kind)].append(note)
    rows = [{"kind": kind, "label": label, "this": grouped[(start, kind)], "last": grouped[(before, kind)]}
            for kind, label in KptKind.choices]
    return {"period_kind": period_kind, "start": start, "previous": before, "rows": rows,
            "next": _next_period(start, period_kind),
            "this_count": sum(len(r["this"]) for r in rows), "last_count": sum(len(r["last"]) for r in rows)}


def _next_period(start, kind):
    if kind == PeriodKind.WEEK:
        return start + dt.timedelta(days=7)
    return (start + dt.timedelta(days=32)).replace(day=1)
