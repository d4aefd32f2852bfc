"""Which accounts match a playbook's trigger on a day, and for which occurrence.

`trigger_matches(workspace=…, trigger=…, as_of=…)` answers, for one validated trigger (see
definition.py), {account_id: Match(reason_key, values)}: one set-based read per trigger kind (a query
or two through the other apps' selectors), never a query per account. Only active accounts match.

The reason key names the occurrence, so that the database's dedup rule (account + playbook + reason)
makes an occurrence enrol once: "renewal:2027-03-31" (that renewal date), "red:2026-11-02" (the red
streak that began that day), "stage:4:2026-09-01" (that stay in stage 4), "contact_left:81" (that
contact), "schedule:2026-12-01" (that period), "nps_response:93" (that detractor's survey answer),
"level:2026-11-02" (the usage level change of that day). A state without a date of its own (usage below a
level, a health drop, no champion, an NPS attribute, silent) gets "<kind>:<day it was first seen>"
and the engine keeps that key while the same episode lasts (see engine._episode_keys).

`describe_why(why)` turns a run's or a hold's `why` into a sentence for pages and the API.
"""

import datetime as dt
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.json import KeyTransform
from django.utils.translation import gettext as _

from accounts.models import Account, AccountStatus, Contact, ContactRole, HealthBand, LifecycleStage
from coverage.selectors import last_qualifying_touches, uncovered_accounts
from healthscore.selectors import red_since
from lifecycle.selectors import level_changes
from onboarding.selectors import handoffs_completed, late_milestones
from renewals.selectors import next_renewal_by_account
from segments.selectors import members_since
from success.selectors import gaps_as_of, plan_ids_by_account
from usage.selectors import usage_falls
from voice.selectors import detractor_responses

from .models import TriggerKind

CHUNK = 5000

# The triggers whose state has no date of its own: their key is the day the episode was first seen.
EPISODE_TRIGGERS = {
    TriggerKind.HEALTH_DROP, TriggerKind.CHAMPION_VACANT, TriggerKind.USAGE_BELOW, TriggerKind.NPS_DETRACTOR,
    TriggerKind.SILENT, TriggerKind.PLAN_GAP,
}
# The contacts whose leaving the "key contact left" trigger watches.
KEY_ROLES = [ContactRole.CHAMPION, ContactRole.DECISION_MAKER]


class Match(NamedTuple):
    reason_key: str
    values: dict


def _iso(day):
    return day.isoformat() if day else None


def _active(workspace, account_ids=None):
    accounts = Account.objects.for_workspace(workspace).filter(status=AccountStatus.ACTIVE)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    return accounts


def trigger_matches(*, workspace, trigger, as_of, account_ids=None):
    """{account_id: Match} of the active accounts (of `account_ids` only, when given) that match
    `trigger` on `as_of`. Manual triggers match nothing."""
    kind = trigger["kind"]
    reader = READERS.get(kind)
    if reader is None:
        return {}
    matches = reader(workspace, trigger, as_of, account_ids)
    if account_ids is not None:
        wanted = set(account_ids)
        matches = {pk: m for pk, m in matches.items() if pk in wanted}
    return matches


def _segment_entered(workspace, trigger, as_of, account_ids):
    since = members_since(workspace=workspace, segment_id=trigger["segment"])
    active = set(_active(workspace, account_ids).filter(pk__in=list(since)).values_list("pk", flat=True))
    return {pk: Match(f"segment:{trigger['segment']}:{_iso(day)}", {"segment": trigger["segment"], "since": _iso(day)})
            for pk, day in since.items() if pk in active}


def _health_red(workspace, trigger, as_of, account_ids):
    rows = dict(_active(workspace, account_ids).filter(health_band=HealthBand.RED).values_list("pk", "health_score"))
    since = {}
    ids = list(rows)
    for start in range(0, len(ids), CHUNK):
        since.update(red_since(workspace=workspace, account_ids=ids[start:start + CHUNK], on_or_before=as_of))
    return {pk: Match(f"red:{_iso(since.get(pk, as_of))}",
                      {"band": HealthBand.RED, "score": score, "since": _iso(since.get(pk, as_of))})
            for pk, score in rows.items()}


def _health_drop(workspace, trigger, as_of, account_ids):
    rows = (_active(workspace, account_ids).filter(health_change_30d__lte=-trigger["points"])
            .values_list("pk", "health_score", "health_change_30d"))
    return {pk: Match(f"drop:{_iso(as_of)}", {"points": trigger["points"], "score": score,
                                              "change_30d": round(change, 1)})
            for pk, score, change in rows}


def _stage_time(workspace, trigger, as_of, account_ids):
    # In the stage for `days` days or more: entered on or before the local day as_of - days. Without
    # days, the stage's own "stuck after" threshold; a stage without one matches nothing.
    days = trigger.get("days")
    if not days:
        days = (LifecycleStage.objects.for_workspace(workspace).filter(pk=trigger["stage"])
                .values_list("stuck_after_days", flat=True).first())
        if not days:
            return {}
    entered_by = workspace.day_start(as_of - dt.timedelta(days=days - 1))
    rows = (_active(workspace, account_ids)
            .filter(stage_id=trigger["stage"], stage_entered_at__lt=entered_by)
            .values_list("pk", "stage_entered_at"))
    matches = {}
    for pk, entered_at in rows:
        entered = workspace.local_day(entered_at)
        matches[pk] = Match(f"stage:{trigger['stage']}:{_iso(entered)}",
                            {"stage": trigger["stage"], "since": _iso(entered), "days": (as_of - entered).days})
    return matches


def _level_changed(workspace, trigger, as_of, account_ids):
    # The account's usage level changed (lifecycle's level history) within the last `within_days`
    # days; the change day names the occurrence.
    changes = level_changes(workspace=workspace, as_of=as_of, within_days=trigger.get("within_days") or 7,
                            account_ids=account_ids)
    direction = trigger.get("direction") or "any"
    matches = {}
    for pk, change in changes.items():
        if direction == "rose" and change["to"] <= change["from"]:
            continue
        if direction == "dropped" and change["to"] >= change["from"]:
            continue
        if trigger.get("from_level") and change["from"] != trigger["from_level"]:
            continue
        if trigger.get("to_level") and change["to"] != trigger["to_level"]:
            continue
        matches[pk] = Match(f"level:{_iso(change['day'])}", {"from_level": change["from"], "to_level": change["to"],
                                                             "changed_on": _iso(change["day"])})
    return matches


def _renewal_within(workspace, trigger, as_of, account_ids):
    # The next day one of the account's running contract lines comes up for renewal (else the
    # account's own renewal date): renewals.selectors, as of the evaluated day.
    active = set(_active(workspace, account_ids).values_list("pk", flat=True))
    until = as_of + dt.timedelta(days=trigger["days"])
    days = next_renewal_by_account(workspace=workspace, as_of=as_of, account_ids=account_ids)
    return {pk: Match(f"renewal:{_iso(day)}", {"renewal_date": _iso(day), "days_left": (day - as_of).days})
            for pk, day in days.items() if pk in active and day <= until}


def _coverage_broken(workspace, trigger, as_of, account_ids):
    broken = uncovered_accounts(workspace=workspace, on_or_before=as_of, tiers=trigger.get("tiers") or None,
                                min_overdue_days=trigger.get("min_overdue_days") or 0)
    active = set(_active(workspace, account_ids).values_list("pk", flat=True)) if broken else set()
    return {pk: Match(f"coverage:{_iso(row['due_date']) or 'never'}",
                      {"due_date": _iso(row["due_date"]), "overdue_days": row["overdue_days"],
                       "broken_rule": row["broken_rule"]})
            for pk, row in broken.items() if pk in active}


def _key_contact_left(workspace, trigger, as_of, account_ids):
    contacts = (Contact.objects.for_workspace(workspace)
                .filter(left_on__gte=as_of - dt.timedelta(days=trigger["within_days"]), left_on__lte=as_of,
                        account__status=AccountStatus.ACTIVE)
                .filter(Q(is_key_person=True) | Q(role__in=KEY_ROLES))
                .order_by("left_on", "pk").values_list("account_id", "pk", "name", "role", "left_on"))
    if account_ids is not None:
        contacts = contacts.filter(account_id__in=list(account_ids))
    matches = {}
    for account_id, pk, name, role, left_on in contacts:
        # The latest leaving names the occurrence; each contact that leaves is one.
        matches[account_id] = Match(f"contact_left:{pk}", {"contact": pk, "name": name, "role": role,
                                                           "left_on": _iso(left_on)})
    return matches


def _champion_vacant(workspace, trigger, as_of, account_ids):
    champion = Contact.objects.for_workspace(workspace).filter(
        account=OuterRef("pk"), role=ContactRole.CHAMPION, left_on__isnull=True)
    rows = _active(workspace, account_ids).filter(~Exists(champion)).values_list("pk", flat=True)
    return {pk: Match(f"champion_vacant:{_iso(as_of)}", {"role": ContactRole.CHAMPION}) for pk in rows}


def _onboarding_late(workspace, trigger, as_of, account_ids):
    # A milestone of the onboarding plan (the one named, else any) not done `days` days or more
    # after its target day (onboarding.selectors); the most overdue one names the occurrence.
    late = late_milestones(workspace=workspace, as_of=as_of, key=trigger.get("milestone") or None,
                           account_ids=account_ids, min_days_late=trigger.get("days") or 1)
    matches = {}
    for pk, milestones in late.items():
        m = milestones[0]
        matches[pk] = Match(f"onboarding:{m['key']}:{_iso(m['target_on'])}", {
            "milestone": m["key"], "name": m["name"], "target_on": _iso(m["target_on"]),
            "days_late": m["days_late"], "late_milestones": len(milestones)})
    return matches


def _usage_below(workspace, trigger, as_of, account_ids):
    rows = (_active(workspace, account_ids).filter(active_users_30d__lt=trigger["active_users"])
            .values_list("pk", "active_users_30d"))
    return {pk: Match(f"usage_below:{_iso(as_of)}", {"active_users": users, "below": trigger["active_users"]})
            for pk, users in rows}


def _new_account(workspace, trigger, as_of, account_ids):
    if trigger.get("on") == "handoff":
        # The sales handoff completed within the days up to as_of (onboarding.selectors).
        done = handoffs_completed(workspace=workspace, since=as_of - dt.timedelta(days=trigger["within_days"]),
                                  until=as_of, account_ids=account_ids)
        active = set(_active(workspace, account_ids).filter(pk__in=list(done)).values_list("pk", flat=True)) \
            if done else set()
        return {pk: Match(f"handoff:{_iso(day)}", {"handoff_on": _iso(day)}) for pk, day in done.items()
                if pk in active}
    since = workspace.day_start(as_of - dt.timedelta(days=trigger["within_days"]))
    rows = (_active(workspace, account_ids).filter(created_at__gte=since, created_at__lt=workspace.day_start(
        as_of + dt.timedelta(days=1))).values_list("pk", "created_at"))
    return {pk: Match(f"new:{_iso(workspace.local_day(created))}", {"created_on": _iso(workspace.local_day(created))})
            for pk, created in rows}


def keyed_by_episode(trigger):
    """Whether the trigger's reason key is "<kind>:<day first seen>", kept while the episode lasts
    (engine._episode_keys). A detractor's survey answer names its own occurrence: the answer."""
    if trigger["kind"] == TriggerKind.NPS_DETRACTOR and trigger.get("source", "responses") == "responses":
        return False
    return trigger["kind"] in EPISODE_TRIGGERS


def _nps_detractor(workspace, trigger, as_of, account_ids):
    if trigger.get("source", "responses") == "responses":
        return _nps_detractor_answers(workspace, trigger, as_of, account_ids)
    name = trigger["attribute"]
    # Numbers only: an attribute stored as text ("5") is not a score the database can compare.
    # The key is taken literally (KeyTransform), never parsed as a lookup path.
    rows = (_active(workspace, account_ids).annotate(nps_value=KeyTransform(name, "attributes"))
            .filter(nps_value__lte=trigger["max"]).values_list("pk", "attributes"))
    matches = {}
    for pk, attributes in rows:
        value = (attributes or {}).get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= trigger["max"]:
            matches[pk] = Match(f"nps_detractor:{_iso(as_of)}", {"attribute": name, "value": value,
                                                                 "max": trigger["max"]})
    return matches


def _nps_detractor_answers(workspace, trigger, as_of, account_ids):
    # Each detractor answer is one occurrence ("nps_response:<id>"): the account's latest in the window.
    found = detractor_responses(workspace=workspace, as_of=as_of, within_days=trigger.get("within_days") or 30,
                                max_score=trigger["max"], account_ids=account_ids)
    if not found:
        return {}
    active = set(_active(workspace, account_ids).filter(pk__in=list(found)).values_list("pk", flat=True))
    return {pk: Match(f"nps_response:{row['response']}", {
        "source": "responses", "response": row["response"], "score": row["score"],
        "responded_on": _iso(row["responded_on"]), "contact": row["contact"], "max": trigger["max"]})
        for pk, row in found.items() if pk in active}


def _silent(workspace, trigger, as_of, account_ids):
    touches = last_qualifying_touches(workspace=workspace, on_or_before=as_of)
    falls = usage_falls(workspace=workspace, up_to=as_of, share=trigger["drop"])
    quiet = {pk for pk, (_last, since) in touches.items() if since is None or since >= trigger["days"]}
    candidates = quiet & set(falls)
    if not candidates:
        return {}
    active = set(_active(workspace, account_ids).filter(pk__in=list(candidates)).values_list("pk", flat=True))
    return {pk: Match(f"silent:{_iso(as_of)}", {"last_touch_on": _iso(touches[pk][0]),
                                                "days_since_touch": touches[pk][1], "usage_fell": falls[pk]})
            for pk in candidates & active}


def _plan_gap(workspace, trigger, as_of, account_ids):
    # The gap recorded in the plan's history by the end of the day; the key names the plan and the day
    # the episode was first seen ("plan_gap:<plan>:<day>", kept while it lasts: engine._episode_keys).
    gaps = gaps_as_of(workspace=workspace, day=as_of, account_ids=account_ids)
    short = {pk: gap for pk, gap in gaps.items() if gap >= trigger.get("min_gap", 1)}
    if not short:
        return {}
    active = set(_active(workspace, account_ids).filter(pk__in=list(short)).values_list("pk", flat=True))
    plans = plan_ids_by_account(workspace=workspace, account_ids=list(active))
    return {pk: Match(f"plan_gap:{plans[pk]}:{_iso(as_of)}", {"gap": short[pk], "min_gap": trigger.get("min_gap", 1),
                                                              "plan": plans[pk]})
            for pk in active if pk in plans}


def _schedule(workspace, trigger, as_of, account_ids):
    accounts = _active(workspace, account_ids)
    if trigger.get("tiers"):
        accounts = accounts.filter(touch_tier__in=trigger["tiers"])
    if trigger.get("segment"):
        accounts = accounts.filter(pk__in=list(members_since(workspace=workspace, segment_id=trigger["segment"])))
    every = trigger["every_days"]
    matches = {}
    for pk, contract_start, created_at in accounts.values_list("pk", "contract_start", "created_at"):
        # Periods count from the contract's start (else the account's creation); the first falls due
        # one period in, and each period is one occurrence.
        anchor = contract_start or workspace.local_day(created_at)
        periods = (as_of - anchor).days // every
        if periods >= 1:
            start = anchor + dt.timedelta(days=periods * every)
            matches[pk] = Match(f"schedule:{_iso(start)}", {"every_days": every, "period_start": _iso(start),
                                                            "anchor": _iso(anchor)})
    return matches


READERS = {
    TriggerKind.SEGMENT_ENTERED: _segment_entered,
    TriggerKind.HEALTH_RED: _health_red,
    TriggerKind.HEALTH_DROP: _health_drop,
    TriggerKind.STAGE_TIME: _stage_time,
    TriggerKind.RENEWAL_WITHIN: _renewal_within,
    TriggerKind.COVERAGE_BROKEN: _coverage_broken,
    TriggerKind.KEY_CONTACT_LEFT: _key_contact_left,
    TriggerKind.CHAMPION_VACANT: _champion_vacant,
    TriggerKind.ONBOARDING_LATE: _onboarding_late,
    TriggerKind.USAGE_BELOW: _usage_below,
    TriggerKind.NEW_ACCOUNT: _new_account,
    TriggerKind.NPS_DETRACTOR: _nps_detractor,
    TriggerKind.SILENT: _silent,
    TriggerKind.SCHEDULE: _schedule,
    TriggerKind.LEVEL_CHANGED: _level_changed,
    TriggerKind.PLAN_GAP: _plan_gap,
}

# The triggers an accounts signal may change at once (see apps.py): evaluated for those accounts then.
EVENT_KINDS = {
    "account_created": {TriggerKind.NEW_ACCOUNT},
    "stage_changed": {TriggerKind.STAGE_TIME},
    "handoff_completed": {TriggerKind.NEW_ACCOUNT},
    "contact_left": {TriggerKind.KEY_CONTACT_LEFT, TriggerKind.CHAMPION_VACANT},
}


def describe_why(why):
    """A run's or hold's `why` ({"trigger", "values", "by"}) in one sentence."""
    values = (why or {}).get("values") or {}
    kind = (why or {}).get("trigger")
    sentences = {
        TriggerKind.SEGMENT_ENTERED: lambda v: _("Entered the segment on %(since)s.") % v,
        TriggerKind.HEALTH_RED: lambda v: _("Health red since %(since)s (score %(score)s).") % {
            **v, "score": "—" if v.get("score") is None else f"{v['score']:.0f}"},
        TriggerKind.HEALTH_DROP: lambda v: _("Health changed by %(change_30d)s points in 30 days.") % v,
        TriggerKind.STAGE_TIME: lambda v: _("In the lifecycle stage for %(days)s days (since %(since)s).") % v,
        TriggerKind.RENEWAL_WITHIN: lambda v: _("Renews on %(renewal_date)s, in %(days_left)s days.") % v,
        TriggerKind.COVERAGE_BROKEN: lambda v: (
            _("Coverage broken: no qualifying touch since the due date %(due_date)s.") % v if v.get("due_date")
            else _("Coverage broken: never touched.")),
        TriggerKind.KEY_CONTACT_LEFT: lambda v: _("%(name)s left on %(left_on)s.") % v,
        TriggerKind.CHAMPION_VACANT: lambda v: _("No champion among the contacts."),
        TriggerKind.ONBOARDING_LATE: lambda v: _("Onboarding milestone “%(name)s” not done %(days_late)s days "
                                                 "after its target day (%(target_on)s).") % v,
        TriggerKind.USAGE_BELOW: lambda v: _("%(active_users)s active users in 30 days, below %(below)s.") % v,
        TriggerKind.NEW_ACCOUNT: lambda v: (_("Sales handoff received on %(handoff_on)s.") % v if "handoff_on" in v
                                            else _("New account, created on %(created_on)s.") % v),
        TriggerKind.NPS_DETRACTOR: lambda v: (
            _("%(contact)s answered NPS %(score)s on %(responded_on)s (a detractor: %(max)s or less).") % v
            if "responded_on" in v else _("%(attribute)s is %(value)s (a detractor: %(max)s or less).") % v),
        TriggerKind.SILENT: lambda v: _("No qualifying touch for %(days_since_touch)s days and usage fell by "
                                        "%(pct)s%%.") % {**v, "pct": round((v.get("usage_fell") or 0) * 100),
                                                         "days_since_touch": v.get("days_since_touch") or "—"},
        TriggerKind.SCHEDULE: lambda v: _("Every %(every_days)s days: the period from %(period_start)s.") % v,
        TriggerKind.LEVEL_CHANGED: lambda v: _("Usage level changed from Lv%(from_level)s to Lv%(to_level)s on "
                                               "%(changed_on)s.") % v,
        TriggerKind.PLAN_GAP: lambda v: _("The success plan is %(gap)s levels short of its objectives.") % v,
        TriggerKind.MANUAL: lambda v: _("Enrolled by hand."),
    }
    sentence = sentences.get(kind)
    if sentence is None:
        return ""
    try:
        return sentence(values)
    except (KeyError, TypeError, ValueError):
        return str(TriggerKind(kind).label) if kind in TriggerKind.values else ""
