"""Every report figure of a workspace, read through the selectors its pages use and through its API,
with every id replaced by what a person reads (an account's external ID, a member's username, a
segment's name), so that two workspaces — a source and its restored copy, whose rows all have
other ids — can be compared figure by figure.

Runs in another process too (tests/test_portability_deployment.py, against a second database):
`python -c "import django; django.setup(); from tests.portability_figures import main; main()" SLUG DAY...`.
"""

import datetime as dt
import json
import sys
from decimal import Decimal

from django.utils import translation
from django.utils.functional import Promise

from accounts.models import (
    Account,
    AccountStatus,
    Contact,
    Contract,
    ContractVersion,
    HealthBand,
    Touchpoint,
    TouchTier,
)
from accounts.selectors import (
    ACCOUNT_ORDERINGS,
    account_contacts,
    account_list,
    account_timeline,
    attributes_as_of,
    stages,
)
from coverage import selectors as coverage
from coverage.models import CoverageSnapshot
from cs_platform.homes import book as book_of
from healthscore import backtest
from healthscore import selectors as health
from healthscore.models import HealthSnapshot, Scorecard
from playbooks import reports as playbook_reports
from playbooks.models import Playbook, PlaybookHold, PlaybookRun, RunAction, Task
from revenue import selectors as revenue
from segments import selectors as segments
from segments.models import Segment
from usage import selectors as usage
from usage.models import DailyAccountUsage, ProductUser, UsageEvent
from workspaces.models import AuditEvent, Membership
from workspaces.selectors import audit_events


class Names:
    """Readable names for the ids of one workspace."""

    def __init__(self, workspace):
        self.accounts = {pk: ext or name for pk, ext, name in
                         Account.objects.for_workspace(workspace).values_list("pk", "external_id", "name")}
        self.members = dict(Membership.objects.for_workspace(workspace).values_list("pk", "user__username"))
        self.segments = dict(Segment.objects.for_workspace(workspace).values_list("pk", "name"))
        self.stages = dict(stages(workspace=workspace).values_list("pk", "name"))

    def account(self, pk):
        return self.accounts.get(pk, f"? {pk}")

    def member(self, pk):
        return self.members.get(pk) if pk else None

    def segment(self, pk):
        return self.segments.get(pk, "(deleted)") if pk and pk > 0 else "(deleted)"


def _plain(value):
    """JSON-comparable: dates and decimals as strings, tuples as lists, floats rounded."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Promise):
        return str(value)
    return value


def _report(report, names, group_by):
    def label(group):
        key = group.pop("key")
        group.pop("label")
        if group_by == "csm":
            return names.member(key) or "-"
        if group_by == "segment":
            return names.segment(key)
        return key

    groups = {}
    for group in report["groups"]:
        group = dict(group)
        name = label(group)
        groups[f"{name}" if name not in groups else f"{name} #{len(groups)}"] = group
    return {"total": report["total"], "groups": groups}


# --- coverage --------------------------------------------------------------------------------------
def coverage_figures(workspace, days, names):
    figures = {"latest_day": coverage.latest_day(workspace=workspace), "tier_counts": coverage.tier_counts(workspace=workspace)}
    member_ids = {v: k for k, v in names.members.items()}
    segment_ids = {v: k for k, v in names.segments.items()}
    filters = {"none": None, "tier=high": {"tier": "high"}, "covered": {"covered": "true"}, "unowned": {"unowned": "true"}}
    filters |= {f"owner={u}": {"owner": str(pk)} for u, pk in member_ids.items()}
    filters |= {f"segment={s}": {"segment": str(pk)} for s, pk in segment_ids.items()}
    for day in days:
        on = figures[str(day)] = {}
        for group_by in (None, "csm", "tier", "segment", "cell"):
            for fname, fvalue in filters.items():
                if group_by and fname != "none":
                    continue
                report = coverage.coverage_report(workspace=workspace, day=day, group_by=group_by, filters=fvalue)
                on[f"report by {group_by} [{fname}]"] = _report(report, names, group_by)
        trend = coverage.coverage_trend(workspace=workspace, day=day, group_by="csm")
        on["trend"] = {s["name"] if s["key"] in ("all", "arr") else names.member(s["key"]) or "-": s["points"]
                       for s in trend["series"]}
        on["matrix"] = coverage.matrix(workspace=workspace, day=day)
        on["breaking"] = [(names.account(r.account_id), r.overdue_days, r.broken_rule, r.fix_channel, r.policy_name,
                           names.member(r.owner_id)) for r in coverage.breaking_accounts(workspace=workspace, day=day)]
        on["due"] = {names.member(m.pk): [(names.account(r.account_id), r.due_date, r.covered) for r in
                                          coverage.due_list(workspace=workspace, owner=m, day=day)]
                     for m in Membership.objects.for_workspace(workspace)}
        on["snapshot rows"] = CoverageSnapshot.objects.for_workspace(workspace).filter(day=day).count()
    figures["policies"] = [(p.name, p.tier, p.segment.name if p.segment else None, p.priority, p.max_gap_days,
                            p.channels, [(r.name, r.channels, r.contact_role, r.max_gap_days) for r in p.rules.all()])
                           for p in coverage.cadence_policies(workspace=workspace)]
    figures["pins"] = [(names.account(p.account_id), p.tier, p.reason, names.member(p.pinned_by_id))
                       for p in coverage.tier_pins(workspace=workspace)]
    model = coverage.touch_model_of(workspace=workspace)
    figures["touch_model"] = [model.high_min_arr, model.low_min_arr, model.seat_bands, model.tenure_bands,
                              model.must_not_lose]
    tiers_on = {}
    for day in days:
        tiers_on[str(day)] = sorted((names.account(a), t) for a, t in
                                    coverage.tiers_as_of(workspace=workspace, day=day).items())
    figures["tiers_as_of"] = tiers_on
    return figures


# --- health ----------------------------------------------------------------------------------------
def _backtest(result, names):
    result = dict(result)
    result["churned_while_green"] = [{**row, "account_id": names.account(row["account_id"])}
                                     for row in result["churned_while_green"]]
    return result


def health_figures(workspace, days, names):
    today = workspace.today()
    figures = {"overview": health.health_overview(workspace=workspace)}
    rows, totals = health.alert_precision(workspace=workspace)
    figures["alert_precision"] = {"rows": rows, "totals": totals}
    alert_filters = {"open": {"status": "open"}, "closed": {"status": "closed"}, "drop": {"kind": "drop"},
                     "red": {"kind": "entered_red"}, "acted": {"outcome": "acted_on"}, "pushed": {"pushed": "true"}}
    figures["alerts"] = {name: health.alerts(workspace=workspace, filters=f).count() for name, f in alert_filters.items()}
    figures["alert rows"] = [(names.account(a.account_id), a.kind, a.reason, a.status, a.opened_on, a.score, a.drop,
                              a.arr_at_risk, a.pushed, a.outcome, names.member(a.owner_id), names.member(a.outcome_by_id))
                             for a in health.alerts(workspace=workspace).order_by("opened_on", "id")]
    figures["my_alerts"] = {}
    for member in Membership.objects.for_workspace(workspace):
        pushed, digest, week = health.my_alerts(membership=member)
        figures["my_alerts"][names.member(member.pk)] = [pushed.count(), digest.count(), week]
    figures["disagreements"] = [(names.account(d["account"].pk), d["rating"])
                                for d in health.sentiment_disagreements(workspace=workspace)]
    figures["scorecards"] = [(card.name, card.is_default, card.priority, card.tiers,
                              sorted(names.segment(s) for s in card.segments), version.number, version.definition)
                             for card, version in health.active_scorecards(workspace=workspace)]
    start, end = backtest.default_period(workspace=workspace)
    figures["backtest default"] = _backtest(backtest.report(workspace=workspace, start=start, end=end), names)
    figures["backtest recent"] = _backtest(backtest.report(workspace=workspace, start=today - dt.timedelta(days=60),
                                                           end=today, step_days=7), names)
    figures["snapshots"] = {str(day): sorted((names.account(a), t, b, v) for a, t, b, v in
                                             HealthSnapshot.objects.for_workspace(workspace).filter(day=day)
                                             .values_list("account_id", "total", "band", "version__number"))
                            for day in days}
    figures["versions"] = sorted(Scorecard.objects.for_workspace(workspace).values_list("name", "versions__number"))
    return figures


# --- accounts and the account page -----------------------------------------------------------------
def account_figures(workspace, names):
    today = workspace.today()
    member_ids = {v: k for k, v in names.members.items()}
    filters = {"all": {}, "unowned": {"unowned": "true"}, "owned": {"unowned": "false"},
               "arr>=1M": {"arr_min": "1000000"}, "arr<=500k": {"arr_max": "500000"},
               "renewing 90d": {"renewal_before": str(today + dt.timedelta(days=90))}, "q=Sakura": {"q": "Sakura"}}
    filters |= {f"status={s}": {"status": s} for s in AccountStatus.values}
    filters |= {f"tier={t}": {"touch_tier": t} for t in TouchTier.values}
    filters |= {f"band={b}": {"health_band": b} for b in HealthBand.values}
    filters |= {f"owner={u}": {"owner": str(pk)} for u, pk in member_ids.items()}
    filters |= {f"stage={n}": {"stage": str(pk)} for pk, n in names.stages.items()}
    from accounts.models import Tag

    filters |= {f"tag={n}": {"tag": str(pk)} for pk, n in Tag.objects.for_workspace(workspace).values_list("pk", "name")}
    figures = {"list counts": {name: account_list(workspace=workspace, filters=f).count() for name, f in filters.items()}}
    figures["orderings"] = {o: [names.account(pk) for pk in
                                account_list(workspace=workspace, ordering=o).values_list("pk", flat=True)[:8]]
                            for o in ACCOUNT_ORDERINGS}
    figures["counts"] = {
        "contacts": Contact.objects.for_workspace(workspace).count(),
        "touchpoints": Touchpoint.objects.for_workspace(workspace).count(),
        "contracts": Contract.objects.for_workspace(workspace).count(),
        "contract versions": ContractVersion.objects.for_workspace(workspace).count(),
        "versions of deleted lines": ContractVersion.objects.for_workspace(workspace).filter(line__isnull=True).count(),
        # The export and the import each leave their own record ("workspace.exported" / "imported").
        "audit": AuditEvent.objects.for_workspace(workspace).exclude(action__startswith="workspace.").count(),
    }
    pages = {}
    for account in Account.objects.for_workspace(workspace).order_by("external_id")[:12]:
        result = health.account_health(account=account)
        current = result["current"]
        coverage_row = coverage.account_coverage(account=account)
        pages[names.account(account.pk)] = {
            "row": [account.name, account.arr, account.stage.name if account.stage else None, account.touch_tier,
                    account.health_score, account.health_band, account.health_change_30d, account.active_users_30d,
                    names.member(account.owner_id), account.attributes, sorted(account.tags.values_list("name", flat=True)),
                    account.created_at, account.updated_at],
            "timeline": [(t.channel, t.occurred_at, t.summary, names.member(t.author_id),
                          sorted(c.name for c in t.contacts.all())) for t in account_timeline(account=account)],
            "contacts": [(c.name, c.role, c.left_on) for c in account_contacts(account=account)],
            "history": [(e.action, e.actor_label, e.at, e.changes) for e in
                        audit_events(workspace=workspace, object_type="account", object_id=account.pk)[:15]],
            "coverage": coverage_row and [coverage_row.day, coverage_row.covered, coverage_row.due_date,
                                          coverage_row.broken_rule],
            "health": current and [current.total, current.band, current.version.number,
                                   [line["text"] for line in result["explanation"]["lines"]],
                                   result["moved"], result["chart"]],
            "sentiment": result["sentiment"] and [result["sentiment"]["rating"].rating, result["sentiment"]["age_days"]],
        }
    figures["account pages"] = pages
    return figures


# --- my book, segments, usage ----------------------------------------------------------------------
def book_figures(workspace, names):
    books = {}
    for member in Membership.objects.for_workspace(workspace):
        book = book_of(workspace=workspace, owner=member)
        books[names.member(member.pk)] = {
            "coverage_day": book["coverage_day"], "book_size": book["book_size"], "counts": book["counts"],
            "rows": [(names.account(r.account.pk), [reason.text for reason in r.reasons], round(r.score, 2))
                     for r in book["rows"]],
        }
    return books


def _readable_rules(rules, names):
    if "conditions" in rules:
        return {"op": rules["op"], "conditions": [_readable_rules(c, names) for c in rules["conditions"]]}
    value = rules.get("value")
    if rules["field"] == "stage":
        value = [names.stages.get(v, "(deleted)") for v in value]
    if rules["field"] == "owner":
        value = [names.members.get(v, "(deleted)") for v in value]
    return {**rules, "value": value}


def segment_figures(workspace, days, names):
    figures = {}
    for segment in segments.segment_list(workspace=workspace):
        figures[segment.name] = {
            "rules": _readable_rules(segment.rules, names), "member_count": segment.member_count,
            "computed_on": segment.computed_on, "created_by": names.member(segment.created_by_id),
            "members": sorted(names.account(m.account_id) for m in segments.segment_members(segment=segment)),
            "history": [(names.account(e.account_id), e.day, e.kind) for e in
                        segments.segment_history(segment=segment, limit=None)],
        }
    figures["as of"] = {}
    for day in days:
        counts = {}
        for _account, ids in segments.segment_ids_as_of(workspace=workspace, day=day).items():
            for pk in ids:
                counts[names.segment(pk)] = counts.get(names.segment(pk), 0) + 1
        figures["as of"][str(day)] = counts
    return figures


def usage_figures(workspace, days, names):
    today = workspace.today()
    settings = usage.ingest_settings(workspace=workspace)
    per_account = usage.usage_per_account(workspace=workspace, up_to=today, window_from=today - dt.timedelta(days=29),
                                          previous_from=today - dt.timedelta(days=59))
    users, features = usage.distinct_users_and_features(
        workspace=workspace, first_day=today - dt.timedelta(days=29), last_day=today,
        key_features=health.health_settings(workspace=workspace).key_features)
    return {
        "settings": [settings.create_unknown_accounts, settings.trait_mapping, settings.numeric_traits_to_attributes,
                     settings.retention_days, settings.active_users_on],
        "write keys": [(k.name, k.key_hint, k.created_at) for k in usage.write_keys(workspace=workspace)],
        "per account": sorted([names.account(r.pop("account_id")), r] for r in per_account),
        "distinct users": sorted((names.account(a), n) for a, n in users.items()),
        "distinct features": sorted((names.account(a), n) for a, n in features.items()),
        "recent events": [(e.event, e.occurred_at, e.user_id) for e in usage.recent_events(workspace=workspace)],
        "set aside": [(m.reason, m.message_id) for m in usage.set_aside_messages(workspace=workspace)],
        "unmatched": list(usage.unmatched_groups(workspace=workspace)),
        "daily": {str(day): sorted((names.account(a), e, u, c) for a, e, u, c in
                                   DailyAccountUsage.objects.for_workspace(workspace).filter(day=day)
                                   .values_list("account_id", "events", "active_users", "event_counts"))
                  for day in days},
        "events": UsageEvent.objects.for_workspace(workspace).count(),
        "product users": sorted(ProductUser.objects.for_workspace(workspace).values_list("user_id", "email")),
    }


# --- playbooks and tasks ---------------------------------------------------------------------------
def _readable_definition(definition, names):
    definition = dict(definition)
    trigger = dict(definition["trigger"])
    if trigger.get("segment") is not None:
        trigger["segment"] = names.segment(trigger["segment"])
    if trigger.get("stage") is not None:
        trigger["stage"] = names.stages.get(trigger["stage"], "(deleted)")
    definition["trigger"] = trigger
    definition["steps"] = [{**step, "value": names.stages.get(step["value"], "(deleted)")}
                           if step["kind"] == "set_field" and step["field"] == "stage" else step
                           for step in definition["steps"]]
    if definition.get("condition"):
        definition["condition"] = _readable_rules(definition["condition"], names)
    return definition


def _readable_reason(reason_key, names, contacts):
    prefix, _sep, rest = reason_key.partition(":")
    old, sep, tail = rest.partition(":")
    lookup = {"segment": names.segment, "stage": lambda pk: names.stages.get(pk, "(deleted)"),
              "contact_left": lambda pk: contacts.get(pk, "(deleted)")}.get(prefix)
    return f"{prefix}:{lookup(int(old))}{sep}{tail}" if lookup and old.isdigit() else reason_key


def playbook_figures(workspace, names):
    """The playbook report (the page, its downloads and the API read it) for the default period and a
    year, and the playbooks, runs, holds and tasks it is computed from."""
    from accounts.models import Contact

    contacts = dict(Contact.objects.for_workspace(workspace).values_list("pk", "name"))
    today = workspace.today()
    figures = {}
    for period, (start, end) in {"default": playbook_reports.default_period(workspace=workspace),
                                 "year": (today - dt.timedelta(days=365), today + dt.timedelta(days=1))}.items():
        report = playbook_reports.playbook_report(workspace=workspace, start=start, end=end)
        figures[f"report {period}"] = {
            "playbooks": [{k: v for k, v in row.items() if k != "playbook_id"}
                          for row in playbook_reports.playbook_rows(report)],
            "csm": [{k: v for k, v in row.items() if k != "member_id"} for row in playbook_reports.csm_rows(report)],
            "csm total": report["csm_total"],
        }
    figures["playbooks"] = [(p.name, p.enabled, p.trigger_kind, p.library_key, names.member(p.created_by_id),
                             [(v.number, _readable_definition(v.definition, names), v.note) for v in p.versions.all()])
                            for p in Playbook.objects.for_workspace(workspace).prefetch_related("versions")]
    figures["runs"] = sorted(
        (r.playbook.name, names.account(r.account_id), r.version.number, _readable_reason(r.reason_key, names, contacts),
         r.status, r.started_on, r.ended_on, r.ended_why, names.member(r.started_by_id))
        for r in PlaybookRun.objects.for_workspace(workspace).select_related("playbook", "version"))
    figures["holds"] = sorted(
        (h.playbook.name, names.account(h.account_id), _readable_reason(h.reason_key, names, contacts), h.held_because,
         h.first_on, h.last_on) for h in PlaybookHold.objects.for_workspace(workspace).select_related("playbook"))
    figures["run actions"] = RunAction.objects.for_workspace(workspace).count()
    tasks = Task.objects.for_workspace(workspace)
    figures["task count"] = tasks.count()
    figures["tasks"] = sorted(
        (names.account(t.account_id), names.member(t.assignee_id), t.type, t.title, t.due_on, t.priority, t.status,
         t.snoozed_until, t.source, t.run.playbook.name if t.run else None, t.step_index, t.alert_id is not None,
         t.touchpoint_id is not None, t.completed_on, names.member(t.completed_by_id), t.created_at)
        for t in tasks.select_related("run__playbook"))
    return figures


# --- the API ---------------------------------------------------------------------------------------
def api_figures(workspace):
    """Every list of the REST API as a member sees it (its count), and the canonical CSV exports."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from cs_platform.api_urls import router

    admin = Membership.objects.for_workspace(workspace).filter(role="admin", is_active=True).order_by("pk").first()
    client = Client()
    client.force_login(admin.user)
    session = client.session
    session["workspace_id"] = workspace.pk
    session.save()
    figures = {}
    for prefix, _viewset, basename in router.registry:
        try:
            url = reverse(f"{basename}-list")
        except NoReverseMatch:
            continue
        queries = {"": {}}
        if prefix == "accounts":
            queries |= {f"status={s}": {"status": s} for s in AccountStatus.values}
            queries |= {f"touch_tier={t}": {"touch_tier": t} for t in TouchTier.values}
        for name, query in queries.items():
            response = client.get(url, {"page_size": 1, **query}, HTTP_ACCEPT="application/json")
            body = response.json() if response.status_code == 200 else None
            count = body.get("count") if isinstance(body, dict) else len(body) if isinstance(body, list) else None
            if prefix == "audit-events" and count is not None:
                # The log records the export (source) and the import (copy) themselves: not a figure to match.
                count -= AuditEvent.objects.for_workspace(workspace).filter(action__startswith="workspace.").count()
            figures[f"{prefix}?{name}"] = [response.status_code, count]
    for object_type in ("accounts", "contacts", "touchpoints", "contracts"):
        response = client.get(f"/api/v1/exports/{object_type}.csv")
        figures[f"export {object_type}"] = [response.status_code, response.content.decode("utf-8-sig")]
    return figures


def revenue_figures(workspace):
    """The revenue window metrics (and the window before) of the last year and of the last two."""
    today = workspace.today()
    return {f"{years} year(s)": revenue.window_report(workspace, today - dt.timedelta(days=365 * years), today)
            for years in (1, 2)}


def report_figures(workspace, days):
    """Every figure, as plain JSON-comparable data."""
    names = Names(workspace)
    with translation.override("en"):  # labels in one language, whatever an earlier request activated
        return _figures(workspace, days, names)


def lines_as_of(workspace, days, names):
    """What each account's lines said on each day (ARR, seats, next renewal, contract start: from the
    versions known that day), for the accounts that had lines known then."""
    figures = {}
    for day in days:
        known = attributes_as_of(workspace=workspace, day=day)
        figures[str(day)] = sorted(
            [names.account(pk), row["arr"] if row["known_arr"] else None, row["licensed_seats"]
             if row["known_licensed_seats"] and row["licensed_seats"] == row["licensed_seats"] else None,
             row["renewal_date"], row["contract_start"]]
            for pk, row in known.iterrows() if row["known_arr"])
    return figures


def _figures(workspace, days, names):
    return _plain({
        "workspace": [workspace.name, workspace.time_zone, workspace.currency, workspace.nightly_hour],
        "members": sorted(Membership.objects.for_workspace(workspace).values_list("user__username", "role", "is_active")),
        "accounts": account_figures(workspace, names),
        "lines as of": lines_as_of(workspace, days, names),
        "coverage": coverage_figures(workspace, days, names),
        "health": health_figures(workspace, days, names),
        "my book": book_figures(workspace, names),
        "segments": segment_figures(workspace, days, names),
        "usage": usage_figures(workspace, days, names),
        "playbooks": playbook_figures(workspace, names),
        "revenue": revenue_figures(workspace),
    }) | {"api": _plain(api_figures(workspace))}  # last: a request activates its own language


def differences(expected, actual, path=""):
    """The paths where two figure trees differ, each with both values (empty: identical)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            found += differences(expected.get(key, "<missing>"), actual.get(key, "<missing>"), f"{path}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        found = []
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found += differences(a, b, f"{path}[{index}]")
        return found
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"[:400]]


def main():
    """Print the figures of the workspace argv[1] for the days argv[2:] as JSON (another process's view)."""
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host is allowed
    from workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=sys.argv[1])
    days = [dt.date.fromisoformat(d) for d in sys.argv[2:]]
    print(json.dumps(report_figures(workspace, days)))
