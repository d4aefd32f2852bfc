"""The data of the access matrix (tests/test_access_matrix.py): two workspaces with one of everything.

Both are built the same way: an admin, a manager, two CSMs and a viewer; accounts owned by the
manager and by each CSM, with a contact, a contract, a touchpoint, a sentiment rating and an open
alert each; a tag, a stage, a churn reason, a segment, a cadence policy, a scorecard, a tier pin, import jobs, a
write key, a webhook endpoint and a delivery, API tokens, and the night's snapshots. Every text of a workspace carries its mark (A's is
`MARK_A`), so a response that shows another workspace's rows is caught by a substring search.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as accounts
from accounts.models import Contact, LifecycleStage
from coverage import services as coverage
from coverage.models import CadencePolicy
from cs_platform.tasks import recompute_workspace
from expansion.services import create_opportunity
from healthscore import services as health
from healthscore.models import HealthAlert, Scorecard
from imports import services as imports
from onboarding import services as onboarding
from onboarding.models import MilestoneTemplate
from playbooks import services as playbooks
from playbooks.models import PlaybookRun
from playbooks.tasks import create_task
from programmes.models import Attendance
from programmes.services import import_attendance, save_programme, save_session
from renewals.models import RenewalOutcome
from segments.services import save_segment
from success import services as success
from success.models import LevelDefinition
from usage.models import HistoryImport
from usage.services.keys import create_write_key
from voice import services as voice
from webhooks.models import Delivery, Endpoint
from workspaces.models import Role
from workspaces.policy import SYSTEM
from workspaces.services import invite_member, issue_token

from .factories import AccountFactory, MembershipFactory, UserFactory, WorkspaceFactory
from .health_data import add_usage

MARK_A = "Zqxa"  # in every name, e-mail and external ID of workspace A
MARK_B = "Wvbo"
ROLES = {"admin": Role.ADMIN, "manager": Role.MANAGER, "csm": Role.CSM, "csm2": Role.CSM, "viewer": Role.VIEWER}
OWNERS = ("manager", "csm", "csm2")
ACTIVE = {"op": "and", "conditions": [{"field": "status", "op": "in", "value": ["active"]}]}  # who owns accounts (and so contacts, contracts, touchpoints, alerts)


@dataclass
class Side:
    """One workspace and its rows, by kind and, where rows have one, by their owner's key."""

    workspace: object
    mark: str
    members: dict  # role key -> Membership
    accounts: dict = field(default_factory=dict)  # owner key -> Account
    rows: dict = field(default_factory=dict)  # model -> {owner key or "any": row}

    def owned(self, model, owner_key):
        return self.rows.get(model, {}).get(owner_key)

    def any(self, model):
        rows = self.rows.get(model, {})
        return rows.get("any") or next(iter(rows.values()), None)

    def add(self, obj, owner_key="any"):
        self.rows.setdefault(type(obj), {})[owner_key] = obj
        return obj


def build_side(slug, mark):
    ws = WorkspaceFactory(name=f"{mark} CS", slug=slug)
    members = {}
    for key, role in ROLES.items():
        user = UserFactory(username=f"{slug}-{key}", first_name=f"{mark}{key.title()}", last_name="Test",
                           email=f"{key}@{mark.lower()}.example")
        members[key] = MembershipFactory(workspace=ws, user=user, role=role)
    side = Side(workspace=ws, mark=mark, members=members)
    for key, member in members.items():
        side.add(member, key)
    populate(side)
    side.add(Scorecard.objects.for_workspace(ws).get(is_default=True), "default")
    side.add(CadencePolicy.objects.for_workspace(ws).filter(segment=None).first(), "default")
    side.add(LifecycleStage.objects.for_workspace(ws).exclude(name__startswith=mark).first(), "default")
    side.add(MilestoneTemplate.objects.for_workspace(ws).first(), "default")
    # A row of the plan of the workspace's own (the API's reads and writes of one try it).
    side.add(MilestoneTemplate.objects.create(workspace=ws, key=f"go_live_{mark.lower()}", name=f"{mark} go-live",
                                              target_day=45, position=9))
    return side


def populate(side, batch=""):
    """One of everything in the side's workspace; a further `batch` ("2") adds as much again."""
    ws, mark, members = side.workspace, side.mark, side.members
    today = ws.today()
    tag = f"{mark}{batch}"
    keep = side if not batch else Side(workspace=ws, mark=mark, members=members)  # the first batch is the one tried
    stage = keep.add(accounts.save_stage(workspace=ws, actor=SYSTEM, name=f"{tag} stage", position=90))
    keep.add(accounts.save_churn_reason(workspace=ws, actor=SYSTEM, name=f"{tag} reason", position=90))
    for key in OWNERS:
        owner = members[key]
        account = AccountFactory(workspace=ws, owner=owner, name=f"{tag} {key} account",
                                 external_id=f"{tag.lower()}-{key}", plan=f"{mark} plan")
        keep.accounts[key] = keep.add(account, key)
        keep.add(accounts.save_contact(workspace=ws, actor=SYSTEM, account=account, name=f"{tag} {key} contact",
                                       email=f"{key}{batch}@customer-{mark.lower()}.example",
                                       external_id=f"{tag.lower()}-c-{key}"), key)
        # A complete sales handoff (onboarding): the account may leave the first lifecycle stage.
        keep.add(onboarding.save_handoff(
            workspace=ws, actor=SYSTEM, account=account, why_bought=f"{tag} why", objectives=f"{tag} goal",
            decision_maker=keep.rows[Contact][key]), key)
        keep.add(accounts.save_contract(workspace=ws, actor=SYSTEM, account=account, product=f"{tag} product",
                                        mrr="1000", start_date=today - dt.timedelta(days=100),
                                        end_date=today + dt.timedelta(days=265),  # comes up for renewal
                                        external_id=f"{tag.lower()}-k-{key}"), key)
        keep.add(accounts.log_touchpoint(account=account, actor=SYSTEM, author=owner, channel="phone",
                                         summary=f"{tag} {key} call", external_id=f"{tag.lower()}-t-{key}"), key)
        keep.add(health.rate_sentiment(account=account, actor=owner, rating=2, note=f"{tag} note"), key)
        keep.add(create_task(workspace=ws, actor=SYSTEM, account=account, assignee=owner, title=f"{tag} {key} task",
                             due_on=today, external_id=f"{tag.lower()}-task-{key}"), key)
        keep.add(create_opportunity(workspace=ws, actor=SYSTEM, account=account, estimated_mrr="1000",
                                    handed_to_name=f"{tag} AE", external_id=f"{tag.lower()}-o-{key}"), key)
        for day in range(1, 4):
            add_usage(account, today - dt.timedelta(days=day), users=(f"{tag}-user",))
    # A renewal recorded earlier, on a line that ended 100 days ago (rows as the service stores them).
    old_line = accounts.save_contract(workspace=ws, actor=SYSTEM, account=keep.accounts["csm"],
                                      product=f"{tag} old product", mrr="1000",
                                      start_date=today - dt.timedelta(days=465), end_date=today - dt.timedelta(days=100))
    keep.add(RenewalOutcome.all_workspaces.create(
        workspace=ws, line=old_line, account=keep.accounts["csm"], due_on=old_line.end_date, outcome="renewed",
        previous_mrr=old_line.mrr, new_mrr=old_line.mrr, recorded_by=members["csm"]), "csm")
    accounts.update_account(account=keep.accounts["csm"], actor=SYSTEM, tags=[f"{tag}-tag"], stage=stage)
    keep.add(keep.accounts["csm"].tags.get())
    # Active accounts, or accounts added by hand (none are): so that adding one through the API gets through.
    segment = keep.add(save_segment(workspace=ws, actor=SYSTEM, name=f"{tag} segment", rules={
        "op": "or", "conditions": [ACTIVE, {"field": "added", "op": "yes"}]}))
    keep.add(coverage.save_cadence_policy(workspace=ws, actor=SYSTEM, name=f"{tag} policy", segment=segment,
                                          max_gap_days=30, channels=["phone"], priority=5))
    keep.add(save_segment(workspace=ws, actor=SYSTEM, name=f"{tag} segment without policy", rules=ACTIVE), "free")
    keep.add(health.save_scorecard(workspace=ws, actor=SYSTEM, name=f"{tag} scorecard", priority=5,
                                   segments=[segment.pk])[0])
    keep.add(coverage.pin_tier(account=keep.accounts["csm2"], actor=SYSTEM, tier="high", reason=f"{tag} pin"))
    keep.add(create_write_key(workspace=ws, name=f"{tag} key", actor=SYSTEM)[0])
    for key, role_key in (("accounts", "manager"), ("touchpoints", "csm")):
        upload = SimpleUploadedFile(f"{tag}-{key}.csv", f"name,plan\n{tag} row,{mark}\n".encode())
        keep.add(imports.create_job(workspace=ws, actor=members[role_key], object_type=key, upload=upload), key)
    # Written as they are stored (registering one resolves its host name, which the test does not need).
    endpoint = keep.add(Endpoint.all_workspaces.create(
        workspace=ws, url=f"https://hooks.{tag.lower()}.example/cs", description=f"{tag} hook",
        events=["account.churned"], created_by=members["admin"]))
    keep.add(Delivery.all_workspaces.create(workspace=ws, endpoint=endpoint, event="account.churned",
                                            payload={"note": f"{tag} payload"}, status="failed", attempts=1,
                                            last_status_code=500, last_error="HTTP 500"))
    for key, member in members.items():
        keep.add(issue_token(membership=member, name=f"{tag} {key} token")[0], key)
    keep.add(invite_member(workspace=ws, email=f"invitee{batch}@customer-{mark.lower()}.example", role="csm",
                           actor=members["admin"])[0])
    playbook = keep.add(playbooks.save_playbook(workspace=ws, actor=SYSTEM, name=f"{tag} playbook", definition={
        "trigger": {"kind": "segment_entered", "segment": segment.pk},
        "steps": [{"kind": "task", "day": 0, "title": f"{tag} call {{account}}"}]}))
    for key in OWNERS:  # a run on each owner's account, as the engine would start it
        keep.add(PlaybookRun.all_workspaces.create(
            workspace=ws, playbook=playbook, version=playbook.versions.get(), account=keep.accounts[key],
            reason_key=f"segment:{segment.pk}:{tag}", why={"trigger": "segment_entered", "values": {}, "by": "nightly"},
            started_on=today), key)
    feature = keep.add(voice.file_request(workspace=ws, actor=SYSTEM, title=f"{tag} feature request"))
    keep.add(voice.file_request(workspace=ws, actor=SYSTEM, title=f"{tag} second feature request"), "second")
    for key in OWNERS:  # evidence from each owner's account, and a survey answer of its contact
        keep.add(voice.add_evidence(request=feature, actor=SYSTEM, account=keep.accounts[key],
                                    quote=f"{tag} {key} quote"), key)
        keep.add(voice.upsert_response(workspace=ws, actor=SYSTEM, external_id=f"{tag.lower()}-sv-{key}",
                                       contact=keep.rows[Contact][key], score=3, responded_on=today,
                                       comment=f"{tag} {key} comment")[0], key)
    programme = keep.add(save_programme(workspace=ws, actor=SYSTEM, name=f"{tag} webinar", kind="webinar"))
    session = keep.add(save_session(workspace=ws, actor=SYSTEM, programme=programme, title=f"{tag} session",
                                    starts_at=ws.day_start(today - dt.timedelta(days=1))))
    import_attendance(session=session, actor=SYSTEM, rows=[(2, {"contact_external_id": f"{tag.lower()}-c-csm"})])
    keep.add(Attendance.objects.for_workspace(ws).get(session=session))
    for key in OWNERS:  # a success plan with an objective on each owner's account, a KPT note by each
        plan = keep.add(success.create_plan(workspace=ws, actor=SYSTEM, account=keep.accounts[key]), key)
        keep.add(success.save_objective(plan=plan, actor=SYSTEM, text=f"{tag} {key} objective", objective_level=3,
                                        achievement_level=1), key)
        success.submit_plan(plan=plan, actor=SYSTEM)  # waiting for a manager: every workflow action applies
        keep.add(success.save_note(workspace=ws, actor=members[key], period_kind="month", period_start=today,
                                   kind="keep", text=f"{tag} {key} note"), key)
    keep.add(LevelDefinition.objects.for_workspace(ws).get(level=2))
    keep.add(HistoryImport.all_workspaces.create(workspace=ws, kind="rebuild", status="done", first_day=today,
                                                 last_day=today, summary={"note": f"{tag} rebuild"}))
    recompute_workspace(ws.pk)
    for key in OWNERS:  # alerts come from a falling score; these are written as the night would
        account = keep.accounts[key]
        keep.add(HealthAlert.all_workspaces.create(
            workspace=ws, account=account, owner=account.owner, kind="drop", reason=f"{tag}-usage",
            opened_on=today, last_seen_on=today, week=today - dt.timedelta(days=today.weekday()), score=30,
            previous_score=60, drop=30, pushed=True), key)
