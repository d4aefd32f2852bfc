"""Valid inputs for the writes of the access matrix, so that an allowed member really gets through.

The matrix needs no list of endpoints (tests/access_endpoints.py finds them); it needs inputs only
where one cannot be derived:
- an API update, upsert or bulk upsert sends the row as the API reads it (`body_from_read`);
- an API create, or an API action that takes a body, needs an entry in API_SAMPLES; one without
  fails the matrix, naming the entry to add;
- a page's POST is sent as in PAGE_SAMPLES, or empty (then an allowed member may get the form back
  with errors, 400, but never 403 or 404).

Each sample is `(model of the row it is about, or None; build(side, persona, row) -> (body, policy
object))`. The row is one of the workspace's rows of that model (the persona's own and someone
else's); the policy object is what the declared action is about when its rule needs one (a new
contact's account…): the test asks the policy about it.
"""

import datetime as dt
import json

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account, Contact, Contract, LifecycleStage, Touchpoint
from expansion.models import Opportunity
from healthscore.models import Scorecard
from playbooks.models import Playbook, Task
from programmes.models import Programme
from segments.models import Segment
from success.models import SuccessPlan
from voice.models import FeatureRequest

# A receiver by a public address: registering it resolves nothing (the matrix sends nothing either: the
# deliveries' tasks are queued on commit, and every request of the matrix is rolled back).
PUBLIC_HOOK = "https://93.184.215.14/hooks/new"
ACTIVE_RULES = {"op": "and", "conditions": [{"field": "status", "op": "in", "value": ["active"]}]}


def stage_rules(side):
    stage = side.any(LifecycleStage)
    return {"op": "and", "conditions": [{"field": "stage", "op": "in", "value": [stage.pk]}]}


def _new_account(side, persona, owner):
    return ({"name": f"New {side.mark} account", "owner": owner.pk},
            Account(workspace=side.workspace, owner=owner))


API_SAMPLES = {
    ("HandoffViewSet", "create"): (Account, lambda side, persona, row: ({"account": row.pk, "why_bought": "New"}, row)),
    ("HandoffViewSet", "bulk"): (Account, lambda side, persona, row: (
        {"rows": [{"account": row.pk, "risks": "New"}]}, row)),
    ("MilestoneViewSet", "create"): (Account, lambda side, persona, row: (
        {"rows": [{"account": row.pk, "milestone": "kickoff", "done_on": side.workspace.today().isoformat()}]}, row)),
    ("AccountViewSet", "create"): (Account, lambda side, persona, row: _new_account(side, persona, row.owner)),
    ("ContactViewSet", "create"): (Account, lambda side, persona, row: (
        {"account": row.pk, "name": "New contact"}, Contact(workspace=side.workspace, account=row))),
    ("ContractViewSet", "create"): (Account, lambda side, persona, row: (
        {"account": row.pk, "product": "New", "mrr": "10", "start_date": "2026-01-01"},
        Contract(workspace=side.workspace, account=row))),
    ("TouchpointViewSet", "create"): (Account, lambda side, persona, row: (
        {"account": row.pk, "channel": "phone", "summary": "New"}, Touchpoint(workspace=side.workspace, account=row))),
    ("LifecycleStageViewSet", "create"): (None, lambda side, persona, row: ({"name": "New stage", "position": 95},
                                                                            None)),
    ("ChurnReasonViewSet", "create"): (None, lambda side, persona, row: ({"name": "New reason", "position": 95},
                                                                         None)),
    ("SegmentViewSet", "create"): (None, lambda side, persona, row: ({"name": "New", "rules": stage_rules(side)},
                                                                     None)),
    ("SegmentViewSet", "preview"): (None, lambda side, persona, row: ({"rules": stage_rules(side)}, None)),
    ("SegmentViewSet", "recompute"): (None, lambda side, persona, row: ({}, None)),
    ("MilestoneTemplateViewSet", "create"): (None, lambda side, persona, row: (
        {"key": "go_live", "name": "Go-live", "target_day": 45}, None)),
    ("SegmentViewSet", "add_accounts"): (None, lambda side, persona, row: ({"accounts": [side.any(Account).pk]}, None)),
    ("SegmentViewSet", "remove_accounts"): (None, lambda side, persona, row: (
        {"accounts": [side.any(Account).pk]}, None)),
    ("CadencePolicyViewSet", "create"): (None, lambda side, persona, row: (
        {"name": "New", "segment": side.owned(Segment, "free").pk, "max_gap_days": 30, "channels": ["phone"], "priority": 7}, None)),
    ("TierPinViewSet", "create"): (Account, lambda side, persona, row: (
        {"account": row.pk, "tier": "low", "reason": "New"}, row)),
    ("ScorecardViewSet", "create"): (None, lambda side, persona, row: (
        {"name": "New card", "priority": 8, "segments": [side.any(Segment).pk]}, None)),
    # The API's JSON body is read as NDJSON: one Segment track call is a one-line history file.
    ("UsageHistoryViewSet", "create"): (Account, lambda side, persona, row: (
        {"type": "track", "messageId": f"matrix-{persona.pk}", "userId": "u1", "event": "Login",
         "context": {"groupId": row.external_id}, "timestamp": "2026-01-05T09:00:00+09:00"}, None)),
    ("UsageHistoryViewSet", "rebuild"): (None, lambda side, persona, row: (
        {"first_day": "2026-01-01", "last_day": "2026-01-07"}, None)),
    ("SentimentRatingViewSet", "create"): (Account, lambda side, persona, row: ({"account": row.pk, "rating": 4},
                                                                                row)),
    ("HealthAlertViewSet", "outcome"): (None, lambda side, persona, row: ({"outcome": "acted_on"}, None)),
    ("WebhookEndpointViewSet", "create"): (None, lambda side, persona, row: (
        {"url": PUBLIC_HOOK, "events": ["account.churned"]}, None)),
    ("WebhookEndpointViewSet", "rotate_secret"): (None, lambda side, persona, row: ({}, None)),
    ("WebhookEndpointViewSet", "ping"): (None, lambda side, persona, row: ({}, None)),
    ("ProgrammeViewSet", "create"): (None, lambda side, persona, row: ({"name": "New programme", "kind": "seminar"},
                                                                       None)),
    ("ProgrammeSessionViewSet", "create"): (None, lambda side, persona, row: (
        {"programme": side.any(Programme).pk, "title": "New session", "starts_at": "2026-01-05T09:00:00Z"}, None)),
    ("ProgrammeSessionViewSet", "attendance"): (None, lambda side, persona, row: (
        {"rows": [{"contact_external_id": side.owned(Contact, "csm").external_id}]}, None)),
    ("UsageLevelViewSet", "create"): (None, lambda side, persona, row: (
        {"levels": [{"number": 2, "name": "Used", "rules": {"min_days_active": 9}}]}, None)),
    ("WebhookDeliveryViewSet", "retry"): (None, lambda side, persona, row: ({}, None)),
    # A plan is about its account (the persona's own, and someone else's).
    ("SuccessPlanViewSet", "create"): (Account, lambda side, persona, row: ({"account": row.pk}, row)),
    ("SuccessPlanViewSet", "submit"): (None, lambda side, persona, row: ({}, None)),
    ("SuccessPlanViewSet", "approve"): (None, lambda side, persona, row: ({}, None)),
    ("SuccessPlanViewSet", "request_changes"): (None, lambda side, persona, row: ({"comment": "Which KPI?"}, None)),
    ("SuccessPlanViewSet", "comment"): (None, lambda side, persona, row: ({"comment": "Noted"}, None)),
    ("ObjectiveViewSet", "create"): (SuccessPlan, lambda side, persona, row: (
        {"plan": row.pk, "text": "New objective", "objective_level": 2, "achievement_level": 1}, row)),
    ("KptNoteViewSet", "create"): (None, lambda side, persona, row: (
        {"period_kind": "month", "period_start": "2026-11-01", "kind": "try", "text": "New note"}, None)),
    ("TaskViewSet", "create"): (Account, lambda side, persona, row: (
        {"account": row.pk, "title": "New task", "due_on": side.workspace.today().isoformat()},
        Task(workspace=side.workspace, account=row, assignee=persona))),
    ("TaskViewSet", "complete"): (None, lambda side, persona, row: ({"outcome": "Done"}, None)),
    ("TaskViewSet", "snooze"): (None, lambda side, persona, row: ({"until": _days_ahead(side, 7)}, None)),
    ("TaskViewSet", "cancel"): (None, lambda side, persona, row: ({}, None)),
    ("TaskViewSet", "bulk_reassign"): (Task, lambda side, persona, row: ({"ids": [row.pk], "assignee": persona.pk},
                                                                        row)),
    ("OpportunityViewSet", "create"): (Account, lambda side, persona, row: (
        {"account": row.pk, "estimated_mrr": "1000", "handed_to_name": "New AE"},
        Opportunity(workspace=side.workspace, account=row))),
    ("PlaybookViewSet", "create"): (None, lambda side, persona, row: (
        {"name": "New playbook", "definition": playbook_definition(side)}, None)),
    ("PlaybookViewSet", "preview"): (None, lambda side, persona, row: (
        {"definition": playbook_definition(side)}, None)),
    # Enrolling is about the account in the body (the persona's own, and someone else's).
    ("PlaybookRunViewSet", "create"): (Account, lambda side, persona, row: (
        {"playbook": side.any(Playbook).pk, "accounts": [row.pk]}, row)),
    ("PlaybookRunViewSet", "end"): (None, lambda side, persona, row: ({"why": "Done"}, None)),
    # Recording a renewal is about the line in the body (the persona's own account's, and someone else's).
    ("RenewalOutcomeViewSet", "create"): (Contract, lambda side, persona, row: (
        {"line": row.pk, "outcome": "renewed", "new_mrr": "1000"}, row)),
    ("FeatureRequestViewSet", "create"): (None, lambda side, persona, row: ({"title": "New request"},
                                                                           None)),
    # Evidence is about the account in the body (the persona's own, and someone else's).
    ("FeatureRequestEvidenceViewSet", "create"): (Account, lambda side, persona, row: (
        {"request": side.any(FeatureRequest).pk, "account": row.pk, "quote": "New"}, row)),
    ("SurveyResponseViewSet", "create"): (None, lambda side, persona, row: (
        {"contact": side.owned(Contact, "csm").pk, "score": 9, "responded_on": side.workspace.today().isoformat()},
        None)),
    ("BacktestViewSet", "what_if"): (Scorecard, lambda side, persona, row: (
        {"definition": row.versions.order_by("-number").first().definition, "scorecard": row.pk,
         **short_backtest(side)}, None)),
    ("BacktestViewSet", "suggest_weights"): (Scorecard, lambda side, persona, row: (
        {"scorecard": row.pk, **short_backtest(side)}, None)),
    ("BacktestViewSet", "accept_weights"): (Scorecard, lambda side, persona, row: (
        {"scorecard": row.pk, "definition": reweighted(row), "current_auc": 0.6, "suggested_auc": 0.7,
         "churns": 40}, None)),
}


def reweighted(card):
    """The card's latest definition with its first group one weight point heavier: suggested weights."""
    definition = json.loads(json.dumps(card.versions.order_by("-number").first().definition))
    definition["groups"][0]["weight"] += 1
    return definition


def _days_ahead(side, days):
    return (side.workspace.today() + dt.timedelta(days=days)).isoformat()


def _opportunity_form(side, persona, opportunity=None):
    return {"account": side.accounts["csm"].pk, "kind": "upsell", "estimated_mrr": "2000", "handed_to_name": "Page AE",
            "handed_over_on": side.workspace.today().isoformat(),
            "raised_by": opportunity.raised_by_id if opportunity else persona.pk}


def _task_form(side, persona, task=None):
    return {"account": side.accounts["csm"].pk, "title": "Page task", "type": "call", "priority": "2",
            "due_on": _days_ahead(side, 2), "assignee": task.assignee_id if task else persona.pk}
def playbook_definition(side):
    return {"trigger": {"kind": "segment_entered", "segment": side.any(Segment).pk},
            "steps": [{"kind": "task", "day": 0, "title": "Call {account}"}]}


def _playbook_form(side, name):
    return {"name": name, "trigger_kind": "segment_entered", "trigger_segment": side.any(Segment).pk,
            "limit": "once_per_reason", "open_tasks": "cancel", "steps-TOTAL_FORMS": "1", "steps-INITIAL_FORMS": "0",
            "steps-0-kind": "task", "steps-0-day": "0", "steps-0-start": "enrolment", "steps-0-title": "Call {account}"}


def short_backtest(side):
    """A back-test of a few weeks rather than the default nine months: the roles are the same."""
    end = side.workspace.today() - dt.timedelta(days=91)
    return {"start": (end - dt.timedelta(days=28)).isoformat(), "end": end.isoformat(), "step_days": 14}


# Query strings of reads (by URL name, or viewset and action) where the default would only cost time.
QUERIES = {"health:backtest": short_backtest, ("BacktestViewSet", "list"): short_backtest}


def _csv(name, text):
    return SimpleUploadedFile(name, text.encode())


def _account_form(side, persona, account=None):
    return {"name": account.name if account else "New page account", "status": "active", "arr": "0",
            "licensed_seats": "0", "stage": side.accounts["csm"].stage_id,
            "owner": account.owner_id if account else persona.pk}


def _rules_text(side):
    return json.dumps(stage_rules(side))


# A page's POST, as its form sends it (the row is the one the URL names, if any).
PAGE_SAMPLES = {
    "accounts:create": lambda side, persona, row: _account_form(side, persona),
    "accounts:edit": lambda side, persona, row: _account_form(side, persona, row),
    "accounts:contact_add": lambda side, persona, row: {"name": "New contact", "role": "end_user"},
    "accounts:contact_edit": lambda side, persona, row: {"name": "Edited contact", "role": "end_user"},
    "segments:create": lambda side, persona, row: {"name": "New page segment", "rules": _rules_text(side)},
    "segments:edit": lambda side, persona, row: {"name": "Edited segment", "rules": _rules_text(side)},
    "coverage:policy_create": lambda side, persona, row: {
        "name": "New page policy", "segment": side.owned(Segment, "free").pk, "priority": "7",
        "max_gap_days": "30", "channels": ["phone"], "rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0"},
    "health:scorecard_new": lambda side, persona, row: {"name": "New page card", "priority": "9"},
    "health:suggest_weights": lambda side, persona, row: {"scorecard": side.any(Scorecard).pk,
                                                          **short_backtest(side), "step": "days"},
    "health:accept_weights": lambda side, persona, row: {
        "scorecard": side.any(Scorecard).pk, "definition": json.dumps(reweighted(side.any(Scorecard)))},
    "workspaces:member_role": lambda side, persona, row: {"role": "viewer"},
    "playbooks:create": lambda side, persona, row: _playbook_form(side, "New page playbook"),
    "playbooks:edit": lambda side, persona, row: _playbook_form(side, "Edited playbook"),
    "playbooks:enabled": lambda side, persona, row: {"enabled": "0"},
    "accounts:log_touchpoint": lambda side, persona, row: {
        "channel": "phone", "occurred_at": (side.workspace.today() - dt.timedelta(days=1)).isoformat() + "T10:00",
        "summary": "New", "sentiment": "neutral"},
    "workspaces:tokens": lambda side, persona, row: {"name": "New token"},
    "health:rate_sentiment": lambda side, persona, row: {"rating": "4"},
    "health:alert_outcome": lambda side, persona, row: {"outcome": "acted_on"},
    "coverage:pin": lambda side, persona, row: {"tier": "low", "reason": "New"},
    "renewals:record": lambda side, persona, row: {"outcome": "renewed", "new_mrr": "1000"},
    "tasks:create": lambda side, persona, row: _task_form(side, persona),
    "tasks:edit": lambda side, persona, row: _task_form(side, persona, row),
    "tasks:complete": lambda side, persona, row: {"outcome": "Done"},
    "tasks:snooze": lambda side, persona, row: {"until": _days_ahead(side, 7)},
    "tasks:bulk_reassign": lambda side, persona, row: {"ids": [side.owned(Task, "csm").pk], "assignee": persona.pk},
    "expansion:create": lambda side, persona, row: _opportunity_form(side, persona),
    "expansion:edit": lambda side, persona, row: _opportunity_form(side, persona, row),
    "expansion:status": lambda side, persona, row: {"status": "qualified"},
    "usage:settings": lambda side, persona, row: {"action": "save_settings", "retention_days": "400",
                                             "trait_mapping": ""},
    "webhooks:list": lambda side, persona, row: {"url": PUBLIC_HOOK, "events": ["account.churned"]},
    "webhooks:detail": lambda side, persona, row: {"url": row.url, "events": ["account.churned", "alert.opened"],
                                                   "description": "Edited"},
    "webhooks:enable": lambda side, persona, row: {"enabled": "0"},
    "voice:request_create": lambda side, persona, row: {"title": "New page request"},
    "voice:request_edit": lambda side, persona, row: {"status": "planned"},
    "voice:request_merge": lambda side, persona, row: {"into": side.owned(FeatureRequest, "second").pk},
    "voice:evidence_add": lambda side, persona, row: {"request": side.any(FeatureRequest).pk, "quote": "New",
                                                      "date": side.workspace.today().isoformat(), "source": "call"},
    "voice:upload": lambda side, persona, row: {"file": _csv("nps.csv", "contact,score,responded_on\n"
                                                         f"{side.owned(Contact, 'csm').external_id},9,2026-01-01\n")},
    "programmes:create": lambda side, persona, row: {"name": "New page programme", "kind": "newsletter"},
    "success:add_objective": lambda side, persona, row: {"text": "New", "objective_level": "2",
                                                         "achievement_level": "1"},
    "success:request_changes": lambda side, persona, row: {"comment": "Which KPI?"},
    "success:comment": lambda side, persona, row: {"comment": "Noted"},
    "success:kpt": lambda side, persona, row: {"period_kind": "month", "period_start": "2026-11-01", "kind": "keep",
                                               "text": "New"},
    "programmes:edit": lambda side, persona, row: {"name": "Edited programme", "kind": "webinar"},
    "programmes:session_create": lambda side, persona, row: {"title": "New page session", "starts_at": "2026-01-05T09:00"},
    "programmes:import": lambda side, persona, row: {"file": _csv("a.csv", f"contact_external_id\n{side.owned(Contact, 'csm').external_id}\n")},
    "onboarding:handoff": lambda side, persona, row: {"why_bought": "Edited on the page"},
    "onboarding:milestone_done": lambda side, persona, row: {"key": "kickoff",
                                                             "done_on": side.workspace.today().isoformat()},
    "onboarding:settings": lambda side, persona, row: {"required_fields": ["why_bought"], "handoff_gates_stage": "on"},
    "onboarding:template_edit": lambda side, persona, row: {"key": row.key, "name": "Edited milestone",
                                                            "target_day": "9", "tier": "", "position": "1"},
    "onboarding:upload": lambda side, persona, row: {"kind": "milestones", "file": _csv(
        "m.csv", f"account,milestone,done_on\n{side.accounts['csm'].external_id},kickoff,2026-01-01\n")},
    "imports:index": lambda side, persona, row: {"object_type": "touchpoints",
                                            "file": _csv("t.csv", "account,date,channel\nX,2026-01-01,phone\n")},
}


def body_from_read(row):
    """What the API reads, as it is written back: related rows ({"id", "name"}) by their id."""
    return {key: _written(value) for key, value in row.items()}


def _written(value):
    if isinstance(value, dict):
        if "id" in value:  # a related row, in its brief form
            return value["id"]
        return {key: _written(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_written(inner) for inner in value]
    return value
