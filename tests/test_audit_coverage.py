"""Every write is audited, naming who acted: a member, a member through an API token, or the platform.

How it cannot rot:
- the writes are every write operation of the OpenAPI document, every page view that takes a POST
  (found by walking the URL resolver), every Celery task and management command of ours, and the
  tracking API; a new one that is not in the catalogue below fails `test_the_catalogue_is_complete`;
- what a write changed is read from the database itself (every row of every model of our apps,
  before and after), so a write that skips the ORM or its signals (bulk_create, raw SQL) is seen;
- every model of our apps is classified below (audited, part of an audited record, derived,
  telemetry, bookkeeping), and `test_every_model_is_classified` fails on a new, unclassified one.

A changed row of an audited model needs an audit event of the same operation naming it (object type
and id), or — for a row deleted with its parent — the parent's deletion event. A part needs an event
of the record it belongs to. Derived rows are recomputed from audited data: the nightly run writes
one event per run, and any other write that moves them must itself be audited. Every event of the
operation must name the expected actor: the member, the member and their token, or the system actor.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import (
    Account,
    AccountChange,
    ChurnReasonCategory,
    Contact,
    Contract,
    ContractVersion,
    LifecycleStage,
    StageChange,
    Tag,
    Touchpoint,
)
from accounts.services import save_churn_reason
from coverage.models import (
    CadencePolicy,
    CadenceRule,
    CoverageRollup,
    CoverageSnapshot,
    TierChange,
    TierPin,
    TouchModel,
)
from coverage.services import pin_tier, save_cadence_policy
from expansion.models import Opportunity
from healthscore.definition import default_definition
from healthscore.models import (
    HealthAlert,
    HealthSettings,
    HealthSnapshot,
    Scorecard,
    ScorecardVersion,
    SentimentRating,
)
from healthscore.services import save_scorecard
from imports.models import ImportJob, ImportMapping
from lifecycle.models import AccountLevel, CurrentLevel, UsageLevel
from onboarding import services as onboarding
from onboarding.models import AccountMilestone, Handoff, MilestoneTemplate, OnboardingSettings
from playbooks.models import Playbook, PlaybookHold, PlaybookRun, PlaybookVersion, RunAction, Task
from playbooks.services import save_playbook
from programmes.models import Attendance, Programme, ProgrammeSession
from renewals.models import RenewalOutcome
from segments.models import Segment, SegmentAddition, SegmentMembership, SegmentMembershipEvent
from segments.services import save_segment
from success import services as success
from success.models import KptNote, LevelDefinition, Objective, PlanEvent, SuccessPlan
from usage.models import (
    DailyAccountUsage,
    DirtyUsageDay,
    HistoryImport,
    IngestSettings,
    ProcessedMessage,
    ProductUser,
    RejectedMessage,
    UsageEvent,
    WriteKey,
)
from voice import services as voice
from voice.models import FeatureRequest, FeatureRequestEvidence, SurveyResponse
from webhooks.models import Delivery, Endpoint
from workspaces.models import ApiToken, AuditEvent, Invitation, Membership, UserPreference, Workspace
from workspaces.policy import SYSTEM
from workspaces.services import deactivate_member, invite_member, issue_token

from .factories import (
    AccountFactory,
    ContactFactory,
    ContractFactory,
    OpportunityFactory,
    ProgrammeFactory,
    ProgrammeSessionFactory,
    TouchpointFactory,
)
from .nights import past_nightly_hour

pytestmark = pytest.mark.django_db

OUR_APPS = {"workspaces", "accounts", "usage", "imports", "segments", "coverage", "healthscore", "webhooks",
            "playbooks", "renewals", "expansion", "voice", "programmes", "lifecycle", "success", "onboarding"}

# --- every model of our apps, classified ------------------------------------------------------------
# Audited records: each change of one has an event naming it.
AUDITED = {Workspace, Membership, ApiToken, Account, Contact, Touchpoint, Contract, LifecycleStage, ChurnReasonCategory,
           Segment,
           CadencePolicy, TouchModel, HealthSettings, Scorecard, SentimentRating, HealthAlert, WriteKey,
           IngestSettings, Invitation, Endpoint, Playbook, PlaybookRun, Task, RenewalOutcome, Opportunity,
           FeatureRequest, FeatureRequestEvidence, SurveyResponse, Programme, ProgrammeSession, Attendance, UsageLevel,
           SuccessPlan, LevelDefinition, KptNote, Handoff, OnboardingSettings, MilestoneTemplate, AccountMilestone}
# Parts of an audited record: audited as that record (model → the field naming it, or None when an
# event of that record type in the same operation covers it).
PARTS = {
    CadenceRule: ("cadencepolicy", "policy_id", "a policy's rules are replaced with the policy"),
    ScorecardVersion: ("scorecard", "scorecard_id", "a definition change is the scorecard's new version"),
    PlaybookVersion: ("playbook", "playbook_id", "a definition change is the playbook's new version"),
    RunAction: ("playbookrun", "run_id", "a step of a run done (a tag, a field, a webhook)"),
    SegmentAddition: ("segment", "segment_id", "accounts added to a segment by hand or by a playbook"),
    TierPin: ("account", "account_id", "a pin is the account's tier.pinned / tier.unpinned"),
    StageChange: ("account", "account_id", "the stage history follows the account's stage"),
    Tag: ("account", None, "tags are created by name when an account names them (its 'tags' change)"),
    Account.tags.through: ("account", "account_id", "an account's tags"),
    Touchpoint.contacts.through: ("touchpoint", "touchpoint_id", "a touchpoint's contacts"),
    Objective: ("successplan", "plan_id", "an objective is audited as its plan (success_objective.*)"),
    PlanEvent: ("successplan", "plan_id", "the plan's own history, written with each audited change of the plan"),
}
# Recomputed from audited data (a nightly step, a segment's materialization, a pin's tier history):
# the nightly run writes one event per run; any other write that moves them is itself audited.
DERIVED = {
    DailyAccountUsage: "rollups of the tracked events",
    CoverageSnapshot: "the day's coverage of every account",
    CoverageRollup: "totals of the coverage snapshot",
    HealthSnapshot: "the day's health score of every account",
    SegmentMembership: "who a segment's rules select today",
    SegmentMembershipEvent: "who entered and left a segment, per day",
    TierChange: "the touch-tier history of the accounts",
    PlaybookHold: "accounts a playbook's trigger matched but its rules held back (the comparison group)",
    AccountChange: "the as-of history of accounts' scored fields, written with their audited writes",
    ContractVersion: "what each contract line said on each day, written with the line's audited writes",
    AccountLevel: "the usage-level history of the accounts (the nightly lifecycle step)",
    CurrentLevel: "each account's usage level now (the open row of its level history)",
}
# Fields of audited records that the nightly run (or bookkeeping) writes: not a member's change.
DERIVED_FIELDS = {
    Account: {"health_score", "health_band", "health_change_30d", "active_users_30d", "touch_tier"},
    HealthAlert: {"status", "last_seen_on", "score", "reason", "pushed", "closed_on", "preceded_churn"},
    Segment: {"computed_on", "member_count", "updated_at"},
    ApiToken: {"last_used_at"},
    WriteKey: {"last_used_at"},
    IngestSettings: {"active_users_on"},
    Workspace: {"nightly_queued_on"},
}
# Sent by the customers' product through a write key, thousands a minute: the key that admits them
# is audited (write_key.created / revoked), not each message.
TELEMETRY = {
    UsageEvent: "tracked events",
    ProductUser: "the product's users, from identify calls",
    ProcessedMessage: "message ids already applied (exactly-once delivery)",
    RejectedMessage: "messages set aside with their reason",
    DirtyUsageDay: "days whose rollups wait to be recomputed",
}
BOOKKEEPING = {
    AuditEvent: "the log itself",
    ImportJob: "an upload and its progress; the import's writes are audited as import.<type> naming the job",
    HistoryImport: "a usage-history load or rollup rebuild and its progress; starting one is audited "
                   "(usage_history.imported / rebuilt) naming who asked",
    ImportMapping: "the column choices remembered for the next file of a type; changes no record",
    UserPreference: "a person's page language: belongs to no workspace, changes nothing anyone else sees",
    Delivery: "the webhook delivery log (30 days); what queues or retries one is audited on its endpoint",
}


def our_models():
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in OUR_APPS]


def test_every_model_is_classified():
    kinds = [set(AUDITED), set(PARTS), set(DERIVED), set(TELEMETRY), set(BOOKKEEPING)]
    for i, one in enumerate(kinds):
        for other in kinds[i + 1:]:
            assert not one & other, one & other
    unclassified = [m._meta.label for m in our_models() if not any(m in kind for kind in kinds)]
    assert unclassified == []


# --- reading what an operation changed -------------------------------------------------------------
def snapshot():
    rows = {}
    for model in our_models():
        rows[model] = {row["id"]: row for row in model._base_manager.values()}
    return rows


@dataclass
class Change:
    model: type
    pk: int
    kind: str  # "inserted", "updated", "deleted"
    before: dict | None
    after: dict | None
    fields: set = field(default_factory=set)

    def __str__(self):
        return f"{self.model._meta.label}#{self.pk} {self.kind} {sorted(self.fields) if self.fields else ''}"


def diff(before, after):
    changes = []
    for model in our_models():
        old, new = before.get(model, {}), after.get(model, {})
        for pk in new.keys() - old.keys():
            changes.append(Change(model, pk, "inserted", None, new[pk]))
        for pk in old.keys() - new.keys():
            changes.append(Change(model, pk, "deleted", old[pk], None))
        for pk in old.keys() & new.keys():
            moved = {name for name in new[pk] if new[pk][name] != old[pk][name]}
            moved -= DERIVED_FIELDS.get(model, set())
            if moved:
                changes.append(Change(model, pk, "updated", old[pk], new[pk], moved))
    return changes


def uncovered(changes, events):
    """The changes no audit event of the operation accounts for."""
    named = {(e.object_type, e.object_id) for e in events}
    deleted = {(e.object_type, e.object_id) for e in events if e.action.endswith(".deleted")}
    types = {e.object_type for e in events}
    missing = []
    for change in changes:
        model, row = change.model, change.after or change.before
        if model in TELEMETRY or model in BOOKKEEPING:
            continue
        if model in DERIVED:
            if not events:
                missing.append(change)
            continue
        if model in PARTS:
            parent, fk, _why = PARTS[model]
            ok = parent in types if fk is None else (parent, str(row[fk])) in named
            if not ok and change.kind == "deleted":
                ok = any((f.related_model._meta.model_name, str(row[f.attname])) in deleted
                         for f in model._meta.concrete_fields if f.is_relation and f.attname in row)
            if not ok:
                missing.append(change)
            continue
        if (model._meta.model_name, str(change.pk)) in named:
            continue
        if change.kind == "deleted" and any(
            (f.related_model._meta.model_name, str(row[f.attname])) in deleted
            for f in model._meta.concrete_fields if f.is_relation and row.get(f.attname) is not None
        ):
            continue  # deleted with its parent (an account's contacts)
        missing.append(change)
    return missing


# --- the world every write acts on ------------------------------------------------------------------
@pytest.fixture
def world(ws, admin, manager, csm, csm2, viewer, outsider, account):
    stage = LifecycleStage.objects.for_workspace(ws).first()
    reason = save_churn_reason(workspace=ws, actor=SYSTEM, code="merged", name="Merged into a group")
    contact = ContactFactory(account=account, name="Hana Sato", external_id="crm-c-1")
    touchpoint = TouchpointFactory(account=account, author=csm, summary="Kick-off", external_id="crm-t-1")
    contract = ContractFactory(account=account, product="Suite", external_id="crm-k-1")
    renewal_line = ContractFactory(account=account, product="Renewable", start_date=ws.today() - dt.timedelta(days=300),
                                   end_date=ws.today() + dt.timedelta(days=65))
    spare = AccountFactory(workspace=ws, owner=csm, name="Spare KK", external_id="crm-spare")
    segment = save_segment(workspace=ws, actor=SYSTEM, name="Big", rules={"op": "and", "conditions": []})
    policy = save_cadence_policy(workspace=ws, actor=SYSTEM, name="Big ones", segment=segment, max_gap_days=30,
                                 channels=["phone"])
    scorecard, _version = save_scorecard(workspace=ws, actor=SYSTEM, name="High touch", priority=5,
                                         tiers=["high"])
    pin_tier(account=spare, actor=SYSTEM, tier="high", reason="Strategic")
    pin = TierPin.objects.for_workspace(ws).get(account=spare)
    issue_token(membership=csm2, name="csm2 sync")  # revoked when csm2 is deactivated
    alert = HealthAlert.all_workspaces.create(
        workspace=ws, account=account, owner=csm, kind="drop", opened_on=ws.today(), last_seen_on=ws.today(),
        week=ws.today())
    task = Task.all_workspaces.create(workspace=ws, account=account, assignee=csm, title="Renewal call",
                                      type="call", due_on=ws.today())
    playbook = save_playbook(workspace=ws, actor=SYSTEM, name="By hand", definition=manual_definition())
    running = save_playbook(workspace=ws, actor=SYSTEM, name="Running", definition=manual_definition())
    run = PlaybookRun.all_workspaces.create(workspace=ws, playbook=running, version=running.versions.get(),
                                            account=account, reason_key="manual:1", started_on=ws.today())
    opportunity = OpportunityFactory(account=account, external_id="crm-o-1")
    feature = voice.file_request(workspace=ws, actor=SYSTEM, title="SSO")
    duplicate = voice.file_request(workspace=ws, actor=SYSTEM, title="SAML login")
    evidence = voice.add_evidence(request=duplicate, actor=SYSTEM, account=account, quote="Need SAML")
    answer, _created = voice.upsert_response(workspace=ws, actor=SYSTEM, external_id="sv-1", contact=contact,
                                             score=4, responded_on=ws.today())
    programme = ProgrammeFactory(workspace=ws, name="Monthly webinar")
    programme_session = ProgrammeSessionFactory(programme=programme, title="Kick-off webinar")
    onboarding.save_handoff(workspace=ws, actor=SYSTEM, account=account, why_bought="Reports")
    milestone_template = MilestoneTemplate.objects.for_workspace(ws).first()
    return dict(milestone_template=milestone_template, ws=ws, admin=admin, manager=manager, csm=csm, csm2=csm2, viewer=viewer, account=account,
                spare=spare, opportunity=opportunity, stage=stage, reason=reason, contact=contact, touchpoint=touchpoint,
                contract=contract,
                segment=segment, policy=policy, scorecard=scorecard, pin=pin, alert=alert, task=task,
                playbook=playbook, run=run, renewal_line=renewal_line, feature=feature, duplicate=duplicate,
                evidence=evidence, answer=answer, programme=programme, programme_session=programme_session)


def onboarding_settings_pk(w):
    return OnboardingSettings.objects.for_workspace(w["ws"]).get().pk


def segment_taking_additions(w, *, added=False):
    """A segment whose rules count accounts added by hand (with the world's account added, when asked)."""
    segment = save_segment(workspace=w["ws"], actor=SYSTEM, name="Watch list",
                           rules={"op": "and", "conditions": [{"field": "added", "op": "yes"}]})
    if added:
        SegmentAddition.objects.create(workspace=w["ws"], segment=segment, account=w["account"])
    return segment


def manual_definition(title="Call {account}"):
    return {"trigger": {"kind": "manual"}, "steps": [{"kind": "task", "day": 0, "title": title}]}


def run_and_check(world, operation, *, expect_actor, every_workspace=False):
    """Run `operation()`, then: something changed, every change is covered, every event names the actor."""
    ws = world["ws"]
    before_events = set(AuditEvent.all_workspaces.values_list("pk", flat=True))
    before = snapshot()
    response = operation()
    changes = diff(before, snapshot())
    events = list(AuditEvent.all_workspaces.exclude(pk__in=before_events).select_related("token"))
    assert changes, f"nothing was written: the operation did not test anything ({response})"
    assert [str(c) for c in uncovered(changes, events)] == []
    assert events and (every_workspace or all(e.workspace_id == ws.pk for e in events))
    wrong = [f"{e.action} by {e.actor_label}" for e in events if not expect_actor(e)]
    assert wrong == []
    return changes, events


def by_token(member, token_name):
    return lambda e: e.actor_id == member.pk and e.token is not None and e.token.name == token_name \
        and not e.system_actor


def by_member(member):
    return lambda e: e.actor_id == member.pk and e.token_id is None and not e.system_actor


def by_system(name):
    return lambda e: e.system_actor == name and e.actor_id is None and e.token_id is None


# --- the API: every write operation of the OpenAPI document ------------------------------------------
def hook(w):
    """The workspace's webhook endpoint (stored as registered; registering one resolves its host)."""
    if "hook" not in w:
        w["hook"] = Endpoint.all_workspaces.create(workspace=w["ws"], url="https://93.184.215.14/hooks",
                                                   events=["account.churned"])
    return w["hook"]


def failed(w):
    return Delivery.all_workspaces.create(workspace=w["ws"], endpoint=hook(w), event="account.churned",
                                          status="failed", attempts=1, last_status_code=500)


def rules_none():
    return {"op": "and", "conditions": []}


API_WRITES = {
    # operationId: (method, path, payload) built from the world `w`; the caller is the admin's token.
    "v1_accounts_create": lambda w: ("post", "/api/v1/accounts/", {"name": "New KK"}),
    "v1_accounts_update": lambda w: ("put", f"/api/v1/accounts/{w['account'].pk}/", {"name": "Renamed KK"}),
    "v1_accounts_partial_update": lambda w: ("patch", f"/api/v1/accounts/{w['account'].pk}/",
                                             {"plan": "Enterprise", "tags": ["vip"]}),
    "v1_accounts_destroy": lambda w: ("delete", f"/api/v1/accounts/{w['account'].pk}/", None),
    "v1_accounts_bulk_upsert_create": lambda w: ("post", "/api/v1/accounts/bulk-upsert/", [
        {"external_id": "crm-sakura", "plan": "Growth"}, {"external_id": "crm-new", "name": "Brand New KK"}]),
    "v1_accounts_by_external_id_update": lambda w: ("put", "/api/v1/accounts/by-external-id/crm-sakura/",
                                                    {"name": "Sakura Renamed"}),
    "v1_contacts_create": lambda w: ("post", "/api/v1/contacts/", {"account": w["account"].pk, "name": "Ren"}),
    "v1_contacts_update": lambda w: ("put", f"/api/v1/contacts/{w['contact'].pk}/",
                                     {"account": w["account"].pk, "name": "Hana Sato-Ito"}),
    "v1_contacts_partial_update": lambda w: ("patch", f"/api/v1/contacts/{w['contact'].pk}/", {"title": "CTO"}),
    "v1_contacts_destroy": lambda w: ("delete", f"/api/v1/contacts/{w['contact'].pk}/", None),
    "v1_contacts_bulk_upsert_create": lambda w: ("post", "/api/v1/contacts/bulk-upsert/", [
        {"external_id": "crm-c-1", "title": "CFO"}, {"external_id": "crm-c-2", "name": "Jun",
                                                     "account_external_id": "crm-sakura"}]),
    "v1_contacts_by_external_id_update": lambda w: ("put", "/api/v1/contacts/by-external-id/crm-c-1/",
                                                    {"title": "COO"}),
    "v1_contracts_create": lambda w: ("post", "/api/v1/contracts/", {
        "account": w["account"].pk, "product": "Add-on", "mrr": "1000", "start_date": "2026-01-01"}),
    "v1_contracts_update": lambda w: ("put", f"/api/v1/contracts/{w['contract'].pk}/", {
        "account": w["account"].pk, "product": "Suite Plus", "mrr": "2000", "start_date": "2026-01-01"}),
    "v1_contracts_partial_update": lambda w: ("patch", f"/api/v1/contracts/{w['contract'].pk}/", {"mrr": "3000"}),
    "v1_contracts_destroy": lambda w: ("delete", f"/api/v1/contracts/{w['contract'].pk}/", None),
    "v1_contracts_bulk_upsert_create": lambda w: ("post", "/api/v1/contracts/bulk-upsert/", [
        {"external_id": "crm-k-1", "mrr": "4000"}]),
    "v1_contracts_by_external_id_update": lambda w: ("put", "/api/v1/contracts/by-external-id/crm-k-1/",
                                                     {"mrr": "5000"}),
    "v1_touchpoints_create": lambda w: ("post", "/api/v1/touchpoints/", {
        "account": w["account"].pk, "channel": "phone", "summary": "Call", "contacts": [w["contact"].pk]}),
    "v1_touchpoints_update": lambda w: ("put", f"/api/v1/touchpoints/{w['touchpoint'].pk}/", {
        "account": w["account"].pk, "channel": "video_meeting", "summary": "Kick-off meeting"}),
    "v1_touchpoints_partial_update": lambda w: ("patch", f"/api/v1/touchpoints/{w['touchpoint'].pk}/",
                                                {"contacts": [w["contact"].pk]}),
    "v1_touchpoints_destroy": lambda w: ("delete", f"/api/v1/touchpoints/{w['touchpoint'].pk}/", None),
    "v1_touchpoints_bulk_upsert_create": lambda w: ("post", "/api/v1/touchpoints/bulk-upsert/", [
        {"external_id": "crm-t-1", "summary": "Kick-off, rescheduled"}]),
    "v1_touchpoints_by_external_id_update": lambda w: ("put", "/api/v1/touchpoints/by-external-id/crm-t-2/", {
        "account_external_id": "crm-sakura", "channel": "email", "summary": "Follow-up"}),
    "v1_stages_create": lambda w: ("post", "/api/v1/stages/", {"name": "Pilot", "position": 9}),
    "v1_stages_update": lambda w: ("put", f"/api/v1/stages/{w['stage'].pk}/", {"name": "Kick-off", "position": 0}),
    "v1_stages_partial_update": lambda w: ("patch", f"/api/v1/stages/{w['stage'].pk}/", {"target_share": 10}),
    "v1_churn_reasons_create": lambda w: ("post", "/api/v1/churn-reasons/", {"name": "Never started"}),
    "v1_churn_reasons_update": lambda w: ("put", f"/api/v1/churn-reasons/{w['reason'].pk}/", {
        "code": "merged", "name": "Group merger", "position": 3}),
    "v1_churn_reasons_partial_update": lambda w: ("patch", f"/api/v1/churn-reasons/{w['reason'].pk}/",
                                                  {"archived": True}),
    "v1_churn_reasons_destroy": lambda w: ("delete", f"/api/v1/churn-reasons/{w['reason'].pk}/", None),
    "v1_segments_create": lambda w: ("post", "/api/v1/segments/", {"name": "Everyone", "rules": rules_none()}),
    "v1_segments_update": lambda w: ("put", f"/api/v1/segments/{w['segment'].pk}/", {
        "name": "Biggest", "rules": rules_none()}),
    "v1_segments_partial_update": lambda w: ("patch", f"/api/v1/segments/{w['segment'].pk}/",
                                             {"description": "Top accounts"}),
    "v1_segments_destroy": lambda w: ("delete", f"/api/v1/segments/{w['segment'].pk}/", None),
    "v1_usage_history_create": lambda w: ("post", "/api/v1/usage/history/", {
        "type": "track", "messageId": "hist-1", "userId": "u1", "event": "Login", "context": {"groupId": "crm-sakura"},
        "timestamp": w["ws"].day_start(w["ws"].today()).isoformat()}),
    "v1_usage_history_rebuild_create": lambda w: ("post", "/api/v1/usage/history/rebuild/", {
        "first_day": w["ws"].today().isoformat(), "last_day": w["ws"].today().isoformat()}),
    "v1_segments_add_accounts_create": lambda w: (
        "post", f"/api/v1/segments/{segment_taking_additions(w).pk}/add-accounts/", {"accounts": [w["account"].pk]}),
    "v1_segments_remove_accounts_create": lambda w: (
        "post", f"/api/v1/segments/{segment_taking_additions(w, added=True).pk}/remove-accounts/",
        {"accounts": [w["account"].pk]}),
    "v1_segments_recompute_create": lambda w: (
        AccountFactory(workspace=w["ws"], name="Late KK"),  # so that the recomputation has someone to add
        ("post", f"/api/v1/segments/{w['segment'].pk}/recompute/", {}))[1],
    "v1_cadence_policies_create": lambda w: ("post", "/api/v1/cadence-policies/", {
        "name": "Everyone", "segment": save_segment(workspace=w["ws"], actor=SYSTEM, name="All",
                                                    rules=rules_none(), materialize=False).pk,
        "max_gap_days": 60, "channels": ["phone"]}),
    "v1_cadence_policies_update": lambda w: ("put", f"/api/v1/cadence-policies/{w['policy'].pk}/", {
        "name": "Big ones", "segment": w["segment"].pk, "max_gap_days": 45, "channels": ["phone", "email"],
        "rules": [{"name": "Exec", "channels": ["onsite_meeting"], "contact_role": "", "max_gap_days": 90}]}),
    "v1_cadence_policies_partial_update": lambda w: ("patch", f"/api/v1/cadence-policies/{w['policy'].pk}/",
                                                     {"max_gap_days": 20}),
    "v1_cadence_policies_destroy": lambda w: ("delete", f"/api/v1/cadence-policies/{w['policy'].pk}/", None),
    "v1_tier_pins_create": lambda w: ("post", "/api/v1/tier-pins/", {
        "account": w["account"].pk, "tier": "low", "reason": "Asked for less contact"}),
    "v1_tier_pins_destroy": lambda w: ("delete", f"/api/v1/tier-pins/{w['pin'].pk}/", None),
    "v1_touch_model_update": lambda w: ("put", "/api/v1/touch-model/current/", {"high_min_arr": "9000000"}),
    "v1_touch_model_partial_update": lambda w: ("patch", "/api/v1/touch-model/current/", {"must_not_lose": ["A-a"]}),
    "v1_health_settings_update": lambda w: ("put", f"/api/v1/health/settings/{settings_pk(w)}/", {
        "key_features": ["export"], "sentiment_stale_days": 60, "alert_drop_points": 10, "alert_weekly_budget": 5}),
    "v1_health_settings_partial_update": lambda w: ("patch", f"/api/v1/health/settings/{settings_pk(w)}/",
                                                    {"alert_drop_points": 12}),
    "v1_health_scorecards_create": lambda w: ("post", "/api/v1/health/scorecards/", {"name": "Low touch",
                                                                                     "priority": 7}),
    "v1_health_scorecards_update": lambda w: ("put", f"/api/v1/health/scorecards/{w['scorecard'].pk}/", {
        "name": "High touch accounts", "priority": 6, "tiers": ["high"]}),
    "v1_health_scorecards_partial_update": lambda w: ("patch", f"/api/v1/health/scorecards/{w['scorecard'].pk}/",
                                                      {"priority": 4}),
    "v1_health_backtest_accept_weights_create": lambda w: ("post", "/api/v1/health/backtest/accept-weights/", {
        "scorecard": w["scorecard"].pk, "definition": heavier_first_group(w["scorecard"])}),
    "v1_health_scorecards_destroy": lambda w: ("delete", f"/api/v1/health/scorecards/{w['scorecard'].pk}/", None),
    "v1_health_sentiment_create": lambda w: ("post", "/api/v1/health/sentiment/", {
        "account": w["account"].pk, "rating": 2, "reasons": [], "note": "Budget cut"}),
    "v1_webhooks_create": lambda w: ("post", "/api/v1/webhooks/", {"url": "https://93.184.215.14/in",
                                                                    "events": ["account.churned"]}),
    "v1_webhooks_update": lambda w: ("put", f"/api/v1/webhooks/{hook(w).pk}/", {
        "url": hook(w).url, "events": ["alert.opened"], "description": "Relay"}),
    "v1_webhooks_partial_update": lambda w: ("patch", f"/api/v1/webhooks/{hook(w).pk}/", {"enabled": False}),
    "v1_webhooks_destroy": lambda w: ("delete", f"/api/v1/webhooks/{hook(w).pk}/", None),
    "v1_webhooks_rotate_secret_create": lambda w: ("post", f"/api/v1/webhooks/{hook(w).pk}/rotate-secret/", {}),
    "v1_webhooks_ping_create": lambda w: ("post", f"/api/v1/webhooks/{hook(w).pk}/ping/", {}),
    "v1_webhook_deliveries_retry_create": lambda w: ("post", f"/api/v1/webhook-deliveries/{failed(w).pk}/retry/", {}),
    "v1_health_alerts_outcome_create": lambda w: ("post", f"/api/v1/health/alerts/{w['alert'].pk}/outcome/", {
        "outcome": "dismissed", "outcome_reason": "Seasonal dip"}),
    "v1_tasks_create": lambda w: ("post", "/api/v1/tasks/", {
        "account": w["account"].pk, "title": "Kick-off", "due_on": w["ws"].today().isoformat()}),
    "v1_tasks_update": lambda w: ("put", f"/api/v1/tasks/{w['task'].pk}/", {
        "account": w["account"].pk, "title": "Renewal call, prepared", "due_on": w["ws"].today().isoformat()}),
    "v1_tasks_partial_update": lambda w: ("patch", f"/api/v1/tasks/{w['task'].pk}/", {"priority": 4}),
    "v1_tasks_destroy": lambda w: ("delete", f"/api/v1/tasks/{w['task'].pk}/", None),
    "v1_tasks_complete_create": lambda w: ("post", f"/api/v1/tasks/{w['task'].pk}/complete/", {
        "outcome": "Renews", "touch": {"channel": "phone", "contacts": [w["contact"].pk]}}),
    "v1_tasks_snooze_create": lambda w: ("post", f"/api/v1/tasks/{w['task'].pk}/snooze/", {
        "until": (w["ws"].today() + dt.timedelta(days=3)).isoformat()}),
    "v1_tasks_cancel_create": lambda w: ("post", f"/api/v1/tasks/{w['task'].pk}/cancel/", {}),
    "v1_tasks_bulk_reassign_create": lambda w: ("post", "/api/v1/tasks/bulk-reassign/", {
        "ids": [w["task"].pk], "assignee": w["csm2"].pk}),
    "v1_playbooks_create": lambda w: ("post", "/api/v1/playbooks/", {"name": "Check-in",
                                                                     "definition": manual_definition()}),
    "v1_playbooks_update": lambda w: ("put", f"/api/v1/playbooks/{w['playbook'].pk}/", {
        "name": "By hand, sooner", "definition": manual_definition("Call {account} today")}),
    "v1_playbooks_partial_update": lambda w: ("patch", f"/api/v1/playbooks/{w['playbook'].pk}/", {"enabled": False}),
    "v1_playbooks_destroy": lambda w: ("delete", f"/api/v1/playbooks/{w['playbook'].pk}/", None),
    "v1_playbook_runs_create": lambda w: ("post", "/api/v1/playbook-runs/", {"playbook": w["playbook"].pk,
                                                                             "accounts": [w["spare"].pk]}),
    "v1_playbook_runs_end_create": lambda w: ("post", f"/api/v1/playbook-runs/{w['run'].pk}/end/", {"why": "Done"}),
    "v1_renewal_outcomes_create": lambda w: ("post", "/api/v1/renewal-outcomes/", {
        "line": w["renewal_line"].pk, "outcome": "expanded", "new_mrr": "150000"}),
    "v1_opportunities_create": lambda w: ("post", "/api/v1/opportunities/", {
        "account": w["account"].pk, "estimated_mrr": "20000", "handed_to_name": "Ken Sales", "raised_by": w["csm"].pk}),
    "v1_opportunities_update": lambda w: ("put", f"/api/v1/opportunities/{w['opportunity'].pk}/", {
        "account": w["account"].pk, "estimated_mrr": "60000", "handed_to_name": "Ken Sales", "kind": "cross_sell"}),
    "v1_opportunities_partial_update": lambda w: ("patch", f"/api/v1/opportunities/{w['opportunity'].pk}/", {
        "status": "won", "won_mrr": "45000"}),
    "v1_opportunities_destroy": lambda w: ("delete", f"/api/v1/opportunities/{w['opportunity'].pk}/", None),
    "v1_opportunities_bulk_upsert_create": lambda w: ("post", "/api/v1/opportunities/bulk-upsert/", [
        {"external_id": "crm-o-1", "status": "qualified"},
        {"external_id": "crm-o-2", "account_external_id": "crm-sakura", "estimated_mrr": "1000",
         "handed_to_name": "Ken Sales"}]),
    "v1_opportunities_by_external_id_update": lambda w: ("put", "/api/v1/opportunities/by-external-id/crm-o-1/", {
        "status": "lost", "lost_reason": "Budget frozen"}),
    "v1_feature_requests_create": lambda w: ("post", "/api/v1/feature-requests/", {"title": "Audit log export",
                                                                                   "status": "planned"}),
    "v1_feature_requests_update": lambda w: ("put", f"/api/v1/feature-requests/{w['feature'].pk}/", {
        "title": "SAML single sign-on", "description": "Okta", "status": "planned", "external_id": "JIRA-1"}),
    "v1_feature_requests_partial_update": lambda w: ("patch", f"/api/v1/feature-requests/{w['feature'].pk}/",
                                                     {"status": "shipped"}),
    "v1_feature_requests_destroy": lambda w: ("delete", f"/api/v1/feature-requests/{w['duplicate'].pk}/", None),
    "v1_feature_request_evidence_create": lambda w: ("post", "/api/v1/feature-request-evidence/", {
        "request": w["feature"].pk, "account": w["account"].pk, "contact": w["contact"].pk, "quote": "Soon please"}),
    "v1_feature_request_evidence_destroy": lambda w: (
        "delete", f"/api/v1/feature-request-evidence/{w['evidence'].pk}/", None),
    "v1_survey_responses_create": lambda w: ("post", "/api/v1/survey-responses/", {
        "contact": w["contact"].pk, "kind": "csat", "score": 5, "responded_on": w["ws"].today().isoformat()}),
    "v1_survey_responses_destroy": lambda w: ("delete", f"/api/v1/survey-responses/{w['answer'].pk}/", None),
    "v1_survey_responses_bulk_upsert_create": lambda w: ("post", "/api/v1/survey-responses/bulk-upsert/", [
        {"external_id": "sv-1", "score": 9}, {"external_id": "sv-2", "contact": w["contact"].pk, "score": 10,
                                              "responded_on": w["ws"].today().isoformat()}]),
    "v1_survey_responses_by_external_id_update": lambda w: ("put", "/api/v1/survey-responses/by-external-id/sv-1/",
                                                            {"comment": "Better now"}),
    "lifecycle_levels_replace": lambda w: ("post", "/api/v1/lifecycle/levels/", {"levels": [
        {"number": 2, "name": "Used", "rules": {"min_days_active": 9}}]}),
    "v1_handoffs_create": lambda w: ("post", "/api/v1/handoffs/", {"account": w["account"].pk, "objectives": "Faster"}),
    "v1_onboarding_settings_update": lambda w: ("put", f"/api/v1/onboarding/settings/{onboarding_settings_pk(w)}/", {
        "required_fields": ["why_bought"], "handoff_gates_stage": False}),
    "v1_onboarding_settings_partial_update": lambda w: (
        "patch", f"/api/v1/onboarding/settings/{onboarding_settings_pk(w)}/", {"required_fields": ["risks"]}),
    "v1_onboarding_milestone_plan_create": lambda w: ("post", "/api/v1/onboarding/milestone-plan/", {
        "key": "go_live", "name": "Go-live", "target_day": 45}),
    "v1_onboarding_milestone_plan_update": lambda w: (
        "put", f"/api/v1/onboarding/milestone-plan/{w['milestone_template'].pk}/", {
            "key": "kickoff", "name": "Kick-off", "target_day": 5, "tier": "", "position": 1}),
    "v1_onboarding_milestone_plan_partial_update": lambda w: (
        "patch", f"/api/v1/onboarding/milestone-plan/{w['milestone_template'].pk}/", {"target_day": 6}),
    "v1_onboarding_milestone_plan_destroy": lambda w: (
        "delete", f"/api/v1/onboarding/milestone-plan/{w['milestone_template'].pk}/", None),
    "v1_handoffs_bulk_create": lambda w: ("post", "/api/v1/handoffs/bulk/", {"rows": [
        {"account": w["account"].pk, "risks": "A former tool"}]}),
    "v1_onboarding_milestones_create": lambda w: ("post", "/api/v1/onboarding/milestones/", {"rows": [
        {"account": w["account"].pk, "milestone": "kickoff", "done_on": w["ws"].today().isoformat()}]}),
    "v1_programmes_create": lambda w: ("post", "/api/v1/programmes/", {"name": "Newsletter", "kind": "newsletter"}),
    "v1_programmes_update": lambda w: ("put", f"/api/v1/programmes/{w['programme'].pk}/", {
        "name": "Webinar", "kind": "webinar"}),
    "v1_programmes_partial_update": lambda w: ("patch", f"/api/v1/programmes/{w['programme'].pk}/",
                                               {"description": "Every month"}),
    "v1_programmes_destroy": lambda w: ("delete", f"/api/v1/programmes/{w['programme'].pk}/", None),
    "v1_programme_sessions_create": lambda w: ("post", "/api/v1/programme-sessions/", {
        "programme": w["programme"].pk, "title": "Second", "starts_at": "2026-01-05T09:00:00Z"}),
    "v1_programme_sessions_update": lambda w: ("put", f"/api/v1/programme-sessions/{w['programme_session'].pk}/", {
        "programme": w["programme"].pk, "title": "Renamed", "starts_at": "2026-01-05T09:00:00Z"}),
    "v1_programme_sessions_partial_update": lambda w: (
        "patch", f"/api/v1/programme-sessions/{w['programme_session'].pk}/", {"title": "Renamed"}),
    "v1_programme_sessions_destroy": lambda w: (
        "delete", f"/api/v1/programme-sessions/{w['programme_session'].pk}/", None),
    "v1_programme_sessions_attendance_create": lambda w: (
        "post", f"/api/v1/programme-sessions/{w['programme_session'].pk}/attendance/", {
            "rows": [{"contact_external_id": w["contact"].external_id}]}),
    "v1_success_plans_create": lambda w: ("post", "/api/v1/success-plans/", {"account": w["spare"].pk}),
    "v1_success_plans_update": lambda w: ("put", f"/api/v1/success-plans/{splan(w).pk}/", {
        "account": w["account"].pk, "summary": "New goals"}),
    "v1_success_plans_partial_update": lambda w: ("patch", f"/api/v1/success-plans/{splan(w).pk}/",
                                                  {"summary": "New goals"}),
    "v1_success_plans_submit_create": lambda w: ("post", f"/api/v1/success-plans/{splan(w).pk}/submit/", {}),
    "v1_success_plans_approve_create": lambda w: ("post", f"/api/v1/success-plans/{splan(w, True).pk}/approve/", {}),
    "v1_success_plans_request_changes_create": lambda w: (
        "post", f"/api/v1/success-plans/{splan(w, True).pk}/request-changes/", {"comment": "Which KPI?"}),
    "v1_success_plans_comment_create": lambda w: ("post", f"/api/v1/success-plans/{splan(w).pk}/comment/",
                                                  {"comment": "Met the sponsor"}),
    "v1_success_objectives_create": lambda w: ("post", "/api/v1/success-objectives/", {
        "plan": splan(w).pk, "text": "Second objective", "objective_level": 2, "achievement_level": 1}),
    "v1_success_objectives_update": lambda w: ("put", f"/api/v1/success-objectives/{sobjective(w).pk}/", {
        "plan": splan(w).pk, "text": "Renamed", "objective_level": 3, "achievement_level": 2}),
    "v1_success_objectives_partial_update": lambda w: ("patch", f"/api/v1/success-objectives/{sobjective(w).pk}/",
                                                       {"achievement_level": 3}),
    "v1_success_objectives_destroy": lambda w: ("delete", f"/api/v1/success-objectives/{sobjective(w).pk}/", None),
    "v1_success_levels_update": lambda w: ("put", f"/api/v1/success-levels/{slevel(w).pk}/", {
        "name": "Using", "description": "Weekly"}),
    "v1_success_levels_partial_update": lambda w: ("patch", f"/api/v1/success-levels/{slevel(w).pk}/",
                                                   {"name": "Using"}),
    "v1_kpt_notes_create": lambda w: ("post", "/api/v1/kpt-notes/", {
        "period_kind": "month", "period_start": "2026-11-01", "kind": "keep", "text": "Kickoffs on time"}),
    "v1_kpt_notes_update": lambda w: ("put", f"/api/v1/kpt-notes/{snote(w).pk}/", {
        "period_kind": "week", "period_start": "2026-11-02", "kind": "try", "text": "Edited"}),
    "v1_kpt_notes_partial_update": lambda w: ("patch", f"/api/v1/kpt-notes/{snote(w).pk}/", {"text": "Edited"}),
    "v1_kpt_notes_destroy": lambda w: ("delete", f"/api/v1/kpt-notes/{snote(w).pk}/", None),
}


def splan(w, submitted=False):
    """The account's success plan with one objective (submitted when asked), written by its CSM."""
    if "splan" not in w:
        w["splan"] = success.create_plan(workspace=w["ws"], actor=w["csm"], account=w["account"])
        w["sobjective"] = success.save_objective(plan=w["splan"], actor=w["csm"], text="Every rep logs visits",
                                                 objective_level=3, achievement_level=1)
        if submitted:
            success.submit_plan(plan=w["splan"], actor=w["csm"])
    return w["splan"]


def sobjective(w):
    splan(w)
    return w["sobjective"]


def slevel(w):
    return LevelDefinition.objects.for_workspace(w["ws"]).get(level=2)


def snote(w):
    if "snote" not in w:
        w["snote"] = success.save_note(workspace=w["ws"], actor=w["csm"], period_kind="month",
                                       period_start=w["ws"].today(), kind="problem", text="Late designs")
    return w["snote"]


# Operations that take a POST but write nothing: they must change no row at all.
API_READS = {
    "v1_playbooks_preview_create": lambda w: ("post", "/api/v1/playbooks/preview/", {
        "definition": manual_definition()}),
    "v1_segments_preview_create": lambda w: ("post", "/api/v1/segments/preview/", {"rules": rules_none()}),
    "v1_health_backtest_what_if_create": lambda w: ("post", "/api/v1/health/backtest/what-if/", {
        "definition": default_definition()}),
    "v1_health_backtest_suggest_weights_create": lambda w: ("post", "/api/v1/health/backtest/suggest-weights/", {
        "start": "2020-01-01", "end": "2020-03-01"}),
}


def heavier_first_group(card):
    """The card's latest definition with the first group one point heavier (suggested weights)."""
    definition = json.loads(json.dumps(card.versions.order_by("-number").first().definition))
    definition["groups"][0]["weight"] += 1
    return definition


def settings_pk(w):
    return HealthSettings.objects.for_workspace(w["ws"]).get().pk


def openapi_write_operations():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {op["operationId"] for methods in schema["paths"].values()
            for method, op in methods.items() if method in ("post", "put", "patch", "delete")}


@pytest.mark.parametrize("operation", sorted(API_WRITES))
def test_api_write_is_audited_as_the_token(world, api_for, operation):
    method, path, payload = API_WRITES[operation](world)
    api = api_for(world["admin"])  # a token named "test"; the admin may do every write

    def call():
        response = getattr(api, method)(path, payload, format="json")
        assert response.status_code < 300, (response.status_code, response.content[:500])
        return response

    run_and_check(world, call, expect_actor=by_token(world["admin"], "test"))


@pytest.mark.parametrize("operation", sorted(API_READS))
def test_api_posts_that_only_read_write_nothing(world, api_for, operation):
    method, path, payload = API_READS[operation](world)
    api = api_for(world["admin"])
    before = snapshot()
    response = getattr(api, method)(path, payload, format="json")
    assert response.status_code < 300, response.content[:500]
    assert [str(c) for c in diff(before, snapshot())] == []


def test_the_api_catalogue_is_complete():
    assert openapi_write_operations() == set(API_WRITES) | set(API_READS)


# --- the platform's own writers: tasks, commands, the tracking API ------------------------------------
def write_key(w):
    from usage.services.keys import create_write_key

    _key, secret = create_write_key(workspace=w["ws"], name="web app", actor=SYSTEM)
    return secret


def track_batch(w, client):
    """A real SDK-shaped batch: a group call for a new account and one renaming an existing account's
    plan, an identify and a track event."""
    from .ingest_helpers import post_batch

    secret = write_key(w)
    now = "2026-03-01T10:00:00Z"

    def call():
        response = post_batch(client, secret, [
            {"type": "group", "groupId": "crm-sakura", "userId": "u1", "traits": {"plan": "Scale"},
             "messageId": "m1", "timestamp": now},
            {"type": "group", "groupId": "acct-new", "userId": "u2", "traits": {"name": "Newly Seen KK"},
             "messageId": "m2", "timestamp": now},
            {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"}, "messageId": "m3",
             "timestamp": now},
            {"type": "track", "userId": "u1", "event": "export", "messageId": "m4", "timestamp": now},
        ])
        assert response.status_code == 200, response.content
        return response

    return call


def nightly(w, **kwargs):
    from cs_platform.tasks import recompute_workspace

    TouchpointFactory(account=w["account"], author=w["csm"], summary="Fresh")  # so the night has work
    return lambda: recompute_workspace.apply(args=[w["ws"].pk], kwargs=kwargs).get()


def import_job(w):
    """An import job as the worker runs it, for the member who uploaded the file."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.services import create_job, process_job, start_job

    upload = SimpleUploadedFile("accounts.csv", b"external_id,name,plan\ncrm-sakura,Sakura,Scale\n"
                                b"crm-imp,Imported KK,Growth\n")
    job = create_job(workspace=w["ws"], actor=w["manager"], object_type="accounts", upload=upload)
    start_job(job=job, actor=w["manager"], mapping={0: "external_id", 1: "name", 2: "plan"}, commit=True)
    return lambda: process_job(job_id=job.pk)


SYSTEM_WRITERS = {
    # name: (operation builder (w, client) -> callable, who the events must name)
    "task:cs_platform.tasks.recompute_workspace": (lambda w, c: nightly(w), lambda w: by_system("nightly")),
    "task:cs_platform.tasks.schedule_nightly": (
        lambda w, c: (TouchpointFactory(account=w["account"], author=w["csm"]),
                      lambda: __import__("cs_platform.tasks").tasks.schedule_nightly.apply(
                          kwargs={"now": past_nightly_hour(w["ws"]).isoformat()}))[1],
        lambda w: by_system("nightly")),
    "task:imports.tasks.process_import_job": (lambda w, c: import_job(w), lambda w: by_member(w["manager"])),
    "command:recompute": (
        lambda w, c: (TouchpointFactory(account=w["account"], author=w["csm"]),
                      lambda: __import__("django.core.management").core.management.call_command(
                          "recompute", workspace=w["ws"].slug, stdout=__import__("io").StringIO()))[1],
        lambda w: by_system("nightly")),
    "command:import_data": (None, None),  # see IMPORT_DATA below: it needs a file on disk
    # An archive's export and import each write one event (workspace.exported / workspace.imported)
    # naming the command; tests/test_portability_archive.py checks them.
    "command:export_workspace": (None, None),
    "command:import_workspace": (None, None),
    # The first admin is added by member.added naming the command; tests/test_first_run.py checks it.
    "command:create_workspace": (None, None),
    "tracking:batch": (lambda w, c: track_batch(w, c), lambda w: by_system("tracking API")),
}

# Writers that only derive, set aside or keep books (no event required; all they change must be so).
UNAUDITED_WRITERS = {
    "task:usage.tasks.rollup_usage": "rolls up tracked events into daily usage (derived from telemetry)",
    "task:usage.tasks.sweep_usage_rollups": "queues the rollups that a broker outage left pending (derived)",
    "task:imports.tasks.sweep_queued_imports": "sends again the import jobs a broker outage left queued (the jobs "
                                               "audit their own writes, as the member who started them)",
    "command:seed_demo": "generates the demo workspace from scratch (its history restarts with it)",
    "task:webhooks.tasks.deliver_webhook": "an attempt of a webhook delivery: the log and the endpoint's failure "
                                           "count (disabling the endpoint is audited as webhooks)",
    "task:webhooks.tasks.retry_due_deliveries": "queues the webhook deliveries whose attempt is overdue",
    "task:webhooks.tasks.purge_webhook_deliveries": "deletes webhook deliveries past the log's retention",
    "task:usage.tasks.run_history_job": "loads a checked history file's events (telemetry) and rebuilds daily "
                                        "rollups (derived); starting the job is audited as usage_history.*",
    "command:usage_history": "starts a history load or rebuild: audited as usage_history.* naming the command "
                             "(tests/test_usage_history.py); the rows it then writes are telemetry and derived",
    "command:serve_demo": "the development server of `make run`: writes nothing itself (its pages audit theirs)",
}


@pytest.mark.parametrize("name", sorted(n for n, (build, _who) in SYSTEM_WRITERS.items() if build))
def test_platform_writes_are_audited_as_the_platform(world, client, name):
    build, who = SYSTEM_WRITERS[name]
    run_and_check(world, build(world, client), expect_actor=who(world), every_workspace=name.endswith("_nightly"))


def test_the_import_command_is_audited_as_the_command(world, tmp_path):
    from django.core.management import call_command

    sheet = tmp_path / "accounts.csv"
    sheet.write_text("external_id,name,plan\ncrm-sakura,Sakura,Scale\ncrm-cmd,Commanded KK,Growth\n")
    run_and_check(world, lambda: call_command("import_data", str(sheet), workspace=world["ws"].slug,
                                              object_type="accounts", commit=True, stdout=__import__("io").StringIO()),
                  expect_actor=by_system("import_data command"))


def test_the_usage_rollup_only_derives(world, client):
    from usage.tasks import rollup_usage

    track_batch(world, client)()
    before = snapshot()
    rollup_usage.apply(args=[world["ws"].pk]).get()
    changes = diff(before, snapshot())
    assert changes and {c.model for c in changes} <= set(DERIVED) | set(TELEMETRY) | set(BOOKKEEPING)


def our_tasks():
    from cs_platform.celery import app

    app.loader.import_default_modules()
    return {f"task:{name}" for name in app.tasks if name.split(".")[0] in OUR_APPS | {"cs_platform"}}


def our_commands():
    from django.core.management import get_commands

    return {f"command:{name}" for name, app in get_commands().items() if app in OUR_APPS | {"cs_platform"}}


def test_the_platform_writers_catalogue_is_complete():
    listed = {n for n in SYSTEM_WRITERS if n.startswith(("task:", "command:"))} | set(UNAUDITED_WRITERS)
    assert listed == our_tasks() | our_commands()


# --- pages: every view that takes a POST -----------------------------------------------------------------
class FormReader(HTMLParser):
    """The forms of a page as a browser would submit them: [(action, {name: [values]})]."""

    def __init__(self):
        super().__init__()
        self.forms, self._select, self._textarea, self._options = [], None, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.forms.append((a.get("action") or "", {}))
        if not self.forms:
            return
        fields = self.forms[-1][1]
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            fields.setdefault(a["name"], []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
            fields.setdefault(a["name"], [])
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            fields[a["name"]] = [""]

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _s in self._options[:1]]
            self.forms[-1][1][self._select] = chosen
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.forms[-1][1][self._textarea][0] += data


def submit(client, page, *, to=None, has=None, **changes):
    """GET `page`, take its POST form (the one posting to `to`, or having field `has`), change
    the fields in `changes` (None removes one) and POST it back, as a person would."""
    reader = FormReader()
    html = client.get(page)
    assert html.status_code == 200, (page, html.status_code)
    reader.feed(html.content.decode())
    navigation = {reverse("logout"), reverse("workspaces:switch"), reverse("workspaces:language")}
    candidates = [(target, fields) for target, fields in reader.forms if target not in navigation
                  and (to is None or target == to) and (has is None or has in fields)]
    assert candidates, (page, to, has, [t for t, _f in reader.forms])
    target, fields = candidates[0]
    data = {name: values if len(values) != 1 else values[0] for name, values in fields.items()}
    for name, value in changes.items():
        name = name.replace("__", "-").replace("_DOT_", ".")
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(target or page, data)


def setup_then(*steps):
    """(setup, …, request): the setup is done now, the request (the last step) when called."""
    return steps[-1]


def post(client, url, data=None):
    return client.post(url, data or {})


def later(client, url, data=None):
    """A POST to send inside the check, with what it needs prepared before it (url and data evaluated now)."""
    return lambda: post(client, url, data)


PAGE_WRITES = {
    # url name (#variant): (w, client) -> response; the caller is signed in as the workspace's admin.
    "workspaces:invite": lambda w, c: lambda: submit(c, reverse("workspaces:members"), to=reverse("workspaces:invite"),
                                                     email="joiner@example.com", role="viewer"),
    "workspaces:invitation_revoke": lambda w, c: (lambda invitation: lambda: post(c, reverse(
        "workspaces:invitation_revoke", args=[invitation.pk])))(invite_member(
            workspace=w["ws"], email="late@example.com", role="csm", actor=SYSTEM)[0]),
    "workspaces:member_role": lambda w, c: lambda: post(c, reverse("workspaces:member_role", args=[w["csm2"].pk]),
                                                {"role": "manager"}),
    "workspaces:member_deactivate": lambda w, c: lambda: post(c, reverse("workspaces:member_deactivate",
                                                                 args=[w["csm2"].pk])),
    "workspaces:member_reactivate": lambda w, c: setup_then(
        deactivate_member(membership=w["csm2"], actor=SYSTEM),
        lambda: post(c, reverse("workspaces:member_reactivate", args=[w["csm2"].pk]))),
    "workspaces:tokens": lambda w, c: lambda: post(c, reverse("workspaces:tokens"), {"name": "CLI"}),
    "workspaces:token_revoke": lambda w, c: (lambda token: lambda: post(c, reverse(
        "workspaces:token_revoke", args=[token.pk])))(issue_token(membership=w["admin"], name="old")[0]),
    "accounts:create": lambda w, c: lambda: submit(c, reverse("accounts:create"), name="Page Made KK"),
    "accounts:edit": lambda w, c: lambda: submit(c, reverse("accounts:edit", args=[w["account"].pk]), plan="Scale",
                                         tags="vip, pilot"),
    "accounts:delete": lambda w, c: lambda: post(c, reverse("accounts:delete", args=[w["account"].pk])),
    "accounts:stages": lambda w, c: lambda: submit(c, reverse("accounts:stages"), has="stages-0-name",
                                                   stages__0__name="Welcome"),
    "accounts:churn_reasons": lambda w, c: lambda: submit(c, reverse("accounts:churn_reasons"), has="reasons-0-name",
                                                          reasons__0__name="Never started"),
    "accounts:log_touchpoint": lambda w, c: lambda: submit(c, reverse("accounts:detail", args=[w["account"].pk]),
                                                   to=reverse("accounts:log_touchpoint",
                                                                  args=[w["account"].pk]),
                                                   summary="Quarterly review"),
    "accounts:contact_add": lambda w, c: lambda: submit(c, reverse("accounts:contact_add", args=[w["account"].pk]),
                                                name="Aoi Mori", email="aoi@example.com"),
    "accounts:contact_edit": lambda w, c: lambda: submit(c, reverse("accounts:contact_edit", args=[
        w["account"].pk, w["contact"].pk]), title="Head of Ops"),
    "coverage:matrix": lambda w, c: lambda: post(c, reverse("coverage:matrix"), {"cell": "A-a", "must_not_lose": "1"}),
    "coverage:touch_model": lambda w, c: lambda: submit(c, reverse("coverage:touch_model"), high_min_arr="7000000"),
    "coverage:policy_create": lambda w, c: (lambda segment: lambda: submit(
        c, reverse("coverage:policy_create"), name="Everyone", segment=str(segment.pk), max_gap_days="60",
        channels=["phone"]))(save_segment(workspace=w["ws"], actor=SYSTEM, name="All", rules=rules_none())),
    "coverage:policy_edit": lambda w, c: lambda: submit(c, reverse("coverage:policy_edit", args=[w["policy"].pk]),
                                                max_gap_days="21"),
    "coverage:policy_delete": lambda w, c: lambda: post(c, reverse("coverage:policy_delete", args=[w["policy"].pk])),
    "coverage:pin": lambda w, c: lambda: post(c, reverse("coverage:pin", args=[w["account"].pk]), {
        "tier": "tech", "reason": "Self-serve by choice"}),
    "coverage:pin#unpin": lambda w, c: lambda: post(c, reverse("coverage:pin", args=[w["spare"].pk]), {"unpin": "1"}),
    "segments:create": lambda w, c: lambda: post(c, reverse("segments:create"), {
        "name": "Everyone", "rules": json.dumps(rules_none())}),
    "segments:edit": lambda w, c: lambda: submit(c, reverse("segments:edit", args=[w["segment"].pk]),
                                         description="Top accounts"),
    "segments:delete": lambda w, c: lambda: post(c, reverse("segments:delete", args=[w["segment"].pk])),
    "segments:add_account": lambda w, c: (lambda segment: lambda: post(c, reverse(
        "segments:add_account", args=[segment.pk]), {"account": w["account"].name}))(segment_taking_additions(w)),
    "segments:remove_account": lambda w, c: (lambda segment: lambda: post(c, reverse(
        "segments:remove_account", args=[segment.pk, w["account"].pk])))(segment_taking_additions(w, added=True)),
    "segments:recompute_segment": lambda w, c: setup_then(
        AccountFactory(workspace=w["ws"], name="Late KK"),
        lambda: post(c, reverse("segments:recompute_segment", args=[w["segment"].pk]))),
    "health:settings": lambda w, c: lambda: submit(c, reverse("health:overview"), to=reverse("health:settings"),
                                                   alert_drop_points="11"),
    "health:alert_outcome": lambda w, c: lambda: post(c, reverse("health:alert_outcome", args=[w["alert"].pk]), {
        "outcome": "acted_on"}),
    "renewals:record": lambda w, c: lambda: post(c, reverse("renewals:record", args=[w["renewal_line"].pk]), {
        "outcome": "churned", "churn_reason": "price"}),
    "health:scorecard_new": lambda w, c: lambda: post(c, reverse("health:scorecard_new"), {"name": "Tech", "priority": 8}),
    "health:scorecard": lambda w, c: lambda: submit(c, reverse("health:scorecard", args=[w["scorecard"].pk]),
                                            has="bands.red", bands_DOT_red="35", action="save", note="Stricter"),
    "health:accept_weights": lambda w, c: lambda: post(c, reverse("health:accept_weights"), {
        "scorecard": w["scorecard"].pk, "definition": json.dumps(heavier_first_group(w["scorecard"]))}),
    "health:rate_sentiment": lambda w, c: lambda: post(c, reverse("health:rate_sentiment", args=[w["account"].pk]), {
        "rating": "4", "note": "Happy"}),
    "usage:settings#create_key": lambda w, c: lambda: post(c, reverse("usage:settings"), {
        "action": "create_key", "name": "Mobile app"}),
    "usage:settings#revoke_key": lambda w, c: (lambda key: lambda: post(c, reverse("usage:settings"), {
        "action": "revoke_key", "key": key.pk}))(key_of(w)),
    "usage:settings#rotate_key": lambda w, c: (lambda key: lambda: post(c, reverse("usage:settings"), {
        "action": "rotate_key", "key": key.pk}))(key_of(w)),
    "usage:history#import": lambda w, c: lambda: post(c, reverse("usage:history"), {
        "action": "import", "file": SimpleUploadedFile("h.csv", b"message_id,timestamp,account,user_id,event\n"
                                                       b"p1,2026-01-05T09:00:00+09:00,crm-sakura,u1,Login\n")}),
    "usage:history#rebuild": lambda w, c: lambda: post(c, reverse("usage:history"), {
        "action": "rebuild", "first_day": "2026-01-01", "last_day": "2026-01-07"}),
    "usage:settings#save_settings": lambda w, c: lambda: submit(c, reverse("usage:settings"), has="retention_days",
                                                        retention_days="200"),
    "webhooks:list": lambda w, c: lambda: post(c, reverse("webhooks:list"), {
        "url": "https://93.184.215.14/in", "events": ["account.churned"]}),
    "webhooks:detail": lambda w, c: lambda: submit(c, reverse("webhooks:detail", args=[hook(w).pk]), has="url",
                                                   description="Relay"),
    "webhooks:rotate_secret": lambda w, c: lambda: post(c, reverse("webhooks:rotate_secret", args=[hook(w).pk])),
    "webhooks:enable": lambda w, c: lambda: post(c, reverse("webhooks:enable", args=[hook(w).pk]), {"enabled": "0"}),
    "webhooks:ping": lambda w, c: lambda: post(c, reverse("webhooks:ping", args=[hook(w).pk])),
    "webhooks:delete": lambda w, c: lambda: post(c, reverse("webhooks:delete", args=[hook(w).pk])),
    "webhooks:retry": lambda w, c: (lambda delivery: lambda: post(c, reverse("webhooks:retry", args=[delivery.pk])))(
        failed(w)),
    "recompute": lambda w, c: setup_then(TouchpointFactory(account=w["account"], author=w["csm"]),
                                         lambda: post(c, reverse("recompute"))),
    "tasks:create": lambda w, c: lambda: post(c, reverse("tasks:create"), task_form(w)),
    "tasks:edit": lambda w, c: lambda: post(c, reverse("tasks:edit", args=[w["task"].pk]),
                                            task_form(w, title="Renewal call, prepared")),
    "tasks:complete": lambda w, c: lambda: post(c, reverse("tasks:complete", args=[w["task"].pk]), {
        "outcome": "Renews", "log_touch": "on", "channel": "phone", "sentiment": "positive",
        "occurred_at": (w["ws"].today() - dt.timedelta(days=1)).isoformat() + "T10:00"}),
    "tasks:snooze": lambda w, c: lambda: post(c, reverse("tasks:snooze", args=[w["task"].pk]), {
        "until": (w["ws"].today() + dt.timedelta(days=3)).isoformat()}),
    "tasks:cancel": lambda w, c: lambda: post(c, reverse("tasks:cancel", args=[w["task"].pk])),
    "tasks:reopen": lambda w, c: setup_then(Task.all_workspaces.filter(pk=w["task"].pk).update(status="done"),
                                            lambda: post(c, reverse("tasks:reopen", args=[w["task"].pk]))),
    "tasks:bulk_reassign": lambda w, c: lambda: post(c, reverse("tasks:bulk_reassign"), {
        "ids": [w["task"].pk], "assignee": w["csm2"].pk}),
    "playbooks:create": lambda w, c: lambda: submit(c, reverse("playbooks:create"), name="Page playbook"),
    "expansion:create": lambda w, c: lambda: submit(c, reverse("expansion:create") + f"?account={w['account'].pk}",
                                                    estimated_mrr="15000", handed_to_name="Ken Sales"),
    "expansion:edit": lambda w, c: lambda: submit(c, reverse("expansion:edit", args=[w["opportunity"].pk]),
                                                  estimated_mrr="65000"),
    "expansion:status": lambda w, c: lambda: submit(c, reverse("expansion:status", args=[w["opportunity"].pk]),
                                                    status="won", won_mrr="40000"),
    "playbooks:edit": lambda w, c: lambda: submit(c, reverse("playbooks:edit", args=[w["playbook"].pk]),
                                                  steps__0__title="Call {account} this week"),
    "playbooks:enabled": lambda w, c: lambda: post(c, reverse("playbooks:enabled", args=[w["playbook"].pk]),
                                                   {"enabled": "0"}),
    "playbooks:delete": lambda w, c: lambda: post(c, reverse("playbooks:delete", args=[w["playbook"].pk])),
    "playbooks:enrol": lambda w, c: lambda: post(c, reverse("playbooks:enrol", args=[w["playbook"].pk]),
                                                 {"accounts": [w["spare"].pk]}),
    "playbooks:end_run": lambda w, c: lambda: post(c, reverse("playbooks:end_run", args=[w["run"].pk]),
                                                   {"why": "Done"}),
    "voice:request_create": lambda w, c: lambda: submit(c, reverse("voice:request_create"), title="Audit log export"),
    "voice:request_edit": lambda w, c: lambda: submit(c, reverse("voice:request_detail", args=[w["feature"].pk]),
                                                      has="status", status="planned"),
    "voice:request_edit#fields": lambda w, c: lambda: submit(c, reverse("voice:request_detail", args=[
        w["feature"].pk]), has="title", title="SAML single sign-on"),
    "voice:request_merge": lambda w, c: lambda: post(c, reverse("voice:request_merge", args=[w["duplicate"].pk]),
                                                     {"into": w["feature"].pk}),
    "voice:request_delete": lambda w, c: lambda: post(c, reverse("voice:request_delete", args=[w["feature"].pk])),
    "voice:evidence_add": lambda w, c: lambda: submit(c, reverse("voice:evidence_add", args=[w["account"].pk]),
                                                      request=str(w["feature"].pk), quote="From the QBR"),
    "voice:evidence_add#new": lambda w, c: lambda: submit(c, reverse("voice:evidence_add", args=[w["account"].pk]),
                                                          new_title="Guest users", quote="Partners too"),
    "voice:evidence_remove": lambda w, c: lambda: post(c, reverse("voice:evidence_remove", args=[w["evidence"].pk])),
    "voice:upload": lambda w, c: lambda: c.post(reverse("voice:upload"), {"file": SimpleUploadedFile(
        "nps.csv", f"external_id,contact,score,responded_on\nsv-1,crm-c-1,8,{w['ws'].today()}\n"
                   f"sv-9,crm-c-1,2,{w['ws'].today()}\n".encode())}),
    "lifecycle:levels_edit": lambda w, c: lambda: submit(c, reverse("lifecycle:levels_edit"), has="lv2_name",
                                                         lv2_name="Used"),
    "onboarding:handoff": lambda w, c: lambda: post(c, reverse("onboarding:handoff", args=[w["account"].pk]), {
        "why_bought": "Reports", "objectives": "Faster", "decision_maker": w["contact"].pk}),
    "onboarding:milestone_done": lambda w, c: lambda: post(c, reverse("onboarding:milestone_done", args=[
        w["account"].pk]), {"key": "kickoff", "done_on": w["ws"].today().isoformat()}),
    "onboarding:settings": lambda w, c: lambda: post(c, reverse("onboarding:settings"), {
        "what": "settings", "required_fields": ["why_bought"], "handoff_gates_stage": ""}),
    "onboarding:settings#template": lambda w, c: lambda: post(c, reverse("onboarding:settings"), {
        "what": "template", "key": "go_live", "name": "Go-live", "target_day": "45", "tier": "", "position": "6"}),
    "onboarding:template_edit": lambda w, c: lambda: post(c, reverse("onboarding:template_edit", args=[
        w["milestone_template"].pk]), {"key": "kickoff", "name": "Kick-off", "target_day": "5", "tier": "",
                                       "position": "1"}),
    "onboarding:template_delete": lambda w, c: lambda: post(c, reverse("onboarding:template_delete", args=[
        w["milestone_template"].pk])),
    "onboarding:upload": lambda w, c: lambda: c.post(reverse("onboarding:upload"), {
        "kind": "handoffs", "file": SimpleUploadedFile("h.csv", f"account,risks\n{w['account'].external_id},Budget\n"
                                                       .encode())}),
    "programmes:create": lambda w, c: lambda: post(c, reverse("programmes:create"), {
        "name": "Newsletter", "kind": "newsletter"}),
    "programmes:edit": lambda w, c: lambda: post(c, reverse("programmes:edit", args=[w["programme"].pk]), {
        "name": "Webinar", "kind": "webinar", "description": "Monthly"}),
    "programmes:delete": lambda w, c: lambda: post(c, reverse("programmes:delete", args=[w["programme"].pk])),
    "programmes:session_create": lambda w, c: lambda: post(c, reverse("programmes:session_create", args=[
        w["programme"].pk]), {"title": "Second", "starts_at": "2026-01-05T09:00"}),
    "programmes:import": lambda w, c: lambda: c.post(reverse("programmes:import", args=[w["programme_session"].pk]), {
        "file": SimpleUploadedFile("a.csv", f"contact_external_id\n{w['contact'].external_id}\n".encode())}),
    "success:create": lambda w, c: later(c, reverse("success:create", args=[w["spare"].pk])),
    "success:summary": lambda w, c: later(c, reverse("success:summary", args=[splan(w).account_id]), {
        "summary": "New goals"}),
    "success:add_objective": lambda w, c: later(c, reverse("success:add_objective", args=[
        splan(w).account_id]), {"text": "Second", "objective_level": "2", "achievement_level": "1"}),
    "success:submit": lambda w, c: later(c, reverse("success:submit", args=[splan(w).account_id])),
    "success:comment": lambda w, c: later(c, reverse("success:comment", args=[splan(w).account_id]), {
        "comment": "Met the sponsor"}),
    "success:approve": lambda w, c: later(c, reverse("success:approve", args=[splan(w, True).account_id])),
    "success:request_changes": lambda w, c: later(c, reverse("success:request_changes", args=[
        splan(w, True).account_id]), {"comment": "Which KPI?"}),
    "success:objective": lambda w, c: later(c, reverse("success:objective", args=[sobjective(w).pk]), {
        f"o{sobjective(w).pk}-text": "Renamed", f"o{sobjective(w).pk}-objective_level": "3",
        f"o{sobjective(w).pk}-achievement_level": "2"}),
    "success:objective_delete": lambda w, c: later(c, reverse("success:objective_delete", args=[
        sobjective(w).pk])),
    "success:levels": lambda w, c: later(c, reverse("success:levels"), {
        **{f"l{n}-name": f"Level {n}" for n in (1, 2, 3, 4)}}),
    "success:kpt": lambda w, c: later(c, reverse("success:kpt"), {
        "period_kind": "month", "period_start": w["ws"].today().isoformat(), "kind": "try", "text": "Book reviews"}),
    "success:kpt_edit": lambda w, c: later(c, reverse("success:kpt_edit", args=[snote(w).pk]), {
        "period_kind": "month", "period_start": w["ws"].today().isoformat(), "kind": "try", "text": "Edited"}),
    "success:kpt_edit#delete": lambda w, c: later(c, reverse("success:kpt_edit", args=[snote(w).pk]), {
        "delete": "1"}),
}


def task_form(w, **fields):
    return {"account": w["account"].pk, "title": "Kick-off", "type": "call", "priority": "2",
            "assignee": w["csm"].pk, "due_on": w["ws"].today().isoformat(), **fields}
# Pages that take a POST without writing a record (a preview), or that only keep books.
PAGE_READS = {
    "playbooks:preview": lambda w, c: c.post(reverse("playbooks:preview"), json.dumps({
        "definition": manual_definition()}), content_type="application/json"),
    "segments:preview": lambda w, c: c.post(reverse("segments:preview"), json.dumps({"rules": rules_none()}),
                                            content_type="application/json"),
    "health:suggest_weights": lambda w, c: c.post(reverse("health:suggest_weights"), {
        "scorecard": w["scorecard"].pk, "start": "2020-01-01", "end": "2020-03-01"}),
}
PAGE_BOOKKEEPING = {
    # Lifting a sign-in lockout deletes the login's failed attempts (django-axes' rows, not a record of
    # ours); it is audited as member.unlocked naming the member.
    "workspaces:member_unlock": lambda w, c: post(c, reverse("workspaces:member_unlock", args=[w["csm"].pk])),
    # An import's pages upload the file and queue it; the writes happen in the job, audited as
    # import.<type> naming the member (see task:imports.tasks.process_import_job above).
    "imports:index": lambda w, c: c.post(reverse("imports:index"), {
        "object_type": "accounts", "file": SimpleUploadedFile("a.csv", b"name\nUploaded KK\n")}),
    "imports:map": lambda w, c: post(c, reverse("imports:map", args=[uploaded_job(w).pk]), {
        "col_0": "name", "commit": "1"}),
    "imports:job": lambda w, c: post(c, reverse("imports:job", args=[uploaded_job(w).pk]), {"action": "check"}),
}


def key_of(w):
    write_key(w)
    return WriteKey.objects.for_workspace(w["ws"]).first()


def uploaded_job(w):
    from imports.services import create_job

    return create_job(workspace=w["ws"], actor=w["admin"], object_type="accounts",
                      upload=SimpleUploadedFile("a.csv", b"name\nUploaded KK\n"))


def post_page_names():
    from .access_endpoints import page_endpoints

    endpoints, _problems = page_endpoints()
    return {endpoint.name for endpoint in endpoints if endpoint.method == "post"}


def test_the_page_catalogue_is_complete():
    listed = {name.split("#")[0] for name in [*PAGE_WRITES, *PAGE_READS, *PAGE_BOOKKEEPING]}
    assert listed == post_page_names()


@pytest.mark.parametrize("name", sorted(PAGE_WRITES))
def test_page_write_is_audited_as_the_member(world, login, name):
    client = login(world["admin"])
    run_and_check(world, PAGE_WRITES[name](world, client), expect_actor=by_member(world["admin"]))


@pytest.mark.parametrize("name", sorted(PAGE_READS) + sorted(PAGE_BOOKKEEPING))
def test_page_posts_that_write_no_record(world, login, name):
    client = login(world["admin"])
    build = PAGE_READS.get(name) or PAGE_BOOKKEEPING[name]
    before = snapshot()
    response = build(world, client)
    assert response.status_code < 400, response.status_code
    changes = diff(before, snapshot())
    assert [str(c) for c in changes if c.model not in BOOKKEEPING] == []
    assert name in PAGE_BOOKKEEPING or changes == []
