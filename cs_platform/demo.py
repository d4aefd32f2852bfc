"""A realistic demo workspace: a CS team, a book of several hundred customers, six months of work.

Deterministic for a given seed and day. The data is shaped the way the field describes it:
ARR spread over more than 100x (many small contracts, few large), touch frequency by tier,
gaps where CSMs fell behind, champions who left, and churn that is more likely where usage is
low and touches are missing, so that health scores and coverage have something true to find.
"""

import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import history
from accounts.models import (
    Account,
    AccountStatus,
    Contact,
    ContactRole,
    LifecycleStage,
    StageChange,
    Tag,
    Touchpoint,
)
from usage.models import DailyAccountUsage, ProductUser, UsageEvent
from workspaces.audit import erase_workspace_audit
from workspaces.models import ApiToken, Role, Workspace
from workspaces.policy import SystemActor
from workspaces.services import create_user_with_membership, issue_token

from .demo_churn import seed_churn
from .demo_lifecycle import seed_lifecycle
from .demo_onboarding import seed_onboarding
from .demo_programmes import seed_programmes
from .demo_renewals import seed_renewals
from .demo_revenue import seed_revenue
from .demo_success import seed_success
from .demo_tossups import seed_tossups
from .demo_voice import seed_voice
from .provisioning import create_workspace, provision

DEMO = SystemActor("demo")  # who the audit log says made the demo data
DEMO_PASSWORD = "demo-pass-123"
HISTORY_DAYS = 180

TEAM = [
    # username suffix, first name, last name, role
    ("admin", "Aiko", "Tanaka", Role.ADMIN),
    ("manager1", "Haruto", "Suzuki", Role.MANAGER),
    ("manager2", "Emma", "Clark", Role.MANAGER),
    ("csm1", "Yui", "Sato", Role.CSM),
    ("csm2", "Ren", "Takahashi", Role.CSM),
    ("csm3", "Mio", "Watanabe", Role.CSM),
    ("csm4", "Daniel", "Ito", Role.CSM),
    ("csm5", "Sakura", "Yamamoto", Role.CSM),
    ("csm6", "Kaito", "Nakamura", Role.CSM),
    ("viewer", "Noah", "Kobayashi", Role.VIEWER),
]

NAME_HEADS = [
    "Sakura", "Fuji", "Aozora", "Hikari", "Midori", "Kaze", "Tsubasa", "Minato", "Asahi", "Yamato",
    "Nishiki", "Kogane", "Shiro", "Hoshi", "Umi", "Mirai", "Kirin", "Tokiwa", "Akatsuki", "Sora",
    "Nova", "Blue Harbor", "Northwind", "Crescent", "Summit", "Pioneer", "Atlas", "Beacon", "Lumen", "Vertex",
]
NAME_TAILS = [
    "Logistics", "Foods", "Medical", "Systems", "Retail", "Realty", "Partners", "Manufacturing", "Holdings",
    "Labs", "Consulting", "Education", "Travel", "Energy", "Finance", "Media", "Staffing", "Construction",
]
JP_FORMS = ["株式会社{}", "{}株式会社", "{} KK", "{} Inc.", "{} Co., Ltd."]
FLAGSHIP_ARR = [48_000_000, 30_000_000, 24_000_000]
PLANS = ["Starter", "Standard", "Business", "Enterprise"]
EVENT_NAMES = [
    # The first five are the product's key features: accounts that never used one churned more.
    "Report Exported", "Dashboard Shared", "Workflow Created", "Integration Connected", "User Invited",
    "Logged In", "Page Viewed", "Search Performed", "Record Created", "Record Updated", "Record Deleted",
    "Comment Added", "File Uploaded", "File Downloaded", "Filter Applied", "Chart Viewed", "Alert Configured",
    "Template Used", "Task Completed", "Task Assigned", "Notification Opened", "Settings Changed",
    "API Key Created", "Import Started", "Import Completed", "Export Scheduled", "Mobile Session",
    "Help Article Viewed", "Feedback Sent", "Billing Viewed",
]
KEY_FEATURES = EVENT_NAMES[:5]
CHURN_REASONS = [
    ("onboarding_failure", 25), ("low_usage", 25), ("champion_left", 15), ("budget", 12),
    ("competitor", 10), ("product_gap", 8), ("business_closed", 5),
]
SUMMARIES = {
    "phone": ["Quarterly phone follow-up; no blockers.", "Called about the renewal timeline.",
              "Checked how the new admin is settling in.", "Follow-up on the open support ticket."],
    "video_meeting": ["Monthly review of adoption metrics.", "Walkthrough of reporting for the new team.",
                      "Success plan review with the champion.", "Kickoff for the second department."],
    "onsite_meeting": ["Executive business review with the decision maker.", "On-site training for managers."],
    "email": ["Sent the usage report for last month.", "Shared best practices for dashboards.",
              "Answered questions about SSO."],
    "chat": ["Quick question about CSV export answered.", "Helped with a permissions issue."],
    "webinar": ["Attended the monthly product webinar."],
    "seminar": ["Joined the customer seminar on workflow design."],
    "newsletter": ["Received the customer newsletter."],
    "in_app": ["In-app guide: setting up alerts."],
    "user_event": ["Came to the user community meetup."],
}


@dataclass
class DemoResult:
    workspace: Workspace
    logins: list
    api_token: str
    write_key: str | None
    accounts: int
    touchpoints: int
    events: int


def sign_in_text(slug, url):
    """Where to sign in to a seeded demo workspace and as whom: the last lines `make run` prints
    (through `manage.py serve_demo`) and the end of `seed_demo`'s report."""
    logins = [(f"{slug}-{suffix}", role.label) for suffix, _first, _last, role in TEAM]
    others = ", ".join(f"{username} ({role})" for username, role in logins
                       if username not in (f"{slug}-manager1", f"{slug}-csm1"))
    return (
        f"Open {url}/ and sign in as {slug}-manager1 / {DEMO_PASSWORD} (manager) "
        f"or {slug}-csm1 / {DEMO_PASSWORD} (CSM).\n"
        f"Other logins, same password: {others}."
    )


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    pick = rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


def _company_name(rng, index):
    head, tail = rng.choice(NAME_HEADS), rng.choice(NAME_TAILS)
    return rng.choice(JP_FORMS).format(f"{head} {tail}") + ("" if index < 600 else f" {index}")


def _wipe(workspace):
    """Remove the workspace's generated data (a refresh regenerates it from the seed)."""
    UsageEvent.objects.for_workspace(workspace).delete()
    DailyAccountUsage.objects.for_workspace(workspace).delete()
    ProductUser.objects.for_workspace(workspace).delete()
    Touchpoint.objects.for_workspace(workspace).delete()
    Account.objects.for_workspace(workspace).delete()
    Tag.objects.for_workspace(workspace).delete()
    erase_workspace_audit(workspace=workspace)  # the demo's history restarts with its data


@transaction.atomic
def seed_demo(*, slug, accounts=400, seed=42, name=None):
    rng = random.Random(seed)
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        workspace = create_workspace(name=name or f"{slug.replace('-', ' ').title()} CS", slug=slug, language="ja")
    else:
        _wipe(workspace)
        provision(workspace=workspace)
    today = workspace.today()
    tz = workspace.tz

    members = {}
    for suffix, first, last, role in TEAM:
        members[suffix] = create_user_with_membership(
            workspace=workspace, username=f"{slug}-{suffix}", password=DEMO_PASSWORD, role=role,
            first_name=first, last_name=last, email=f"{suffix}@{slug}.example.com", actor=DEMO,
        )
    csms = [members[f"csm{i}"] for i in range(1, 7)]
    # Two CSMs fall behind on touches: coverage should show it.
    diligence = {m.pk: d for m, d in zip(csms, [1.0, 0.95, 0.9, 0.8, 0.6, 0.5], strict=True)}
    stages = list(LifecycleStage.objects.for_workspace(workspace))
    tags = [Tag.objects.create(workspace=workspace, name=n) for n in ("VIP", "Pilot", "Partner", "Multi-division")]

    plans = []
    for index in range(accounts):
        # Log-normal ARR: median ~1.5M JPY, a long tail to ~60M, floor 240k (a 20k/month plan).
        arr = max(240_000, min(80_000_000, int(math.exp(rng.gauss(14.2, 1.15)) / 10_000) * 10_000))
        if index < len(FLAGSHIP_ARR):
            arr = FLAGSHIP_ARR[index]  # every book has a few strategic accounts, whatever its size
        months = rng.choice([rng.randint(1, 6), rng.randint(3, 24), rng.randint(6, 48)])
        start = today - dt.timedelta(days=int(months * 30.4) + rng.randint(0, 20))
        if index % 60 == 7:  # a few signed accounts whose contract has not started yet
            start = today + dt.timedelta(days=rng.randint(3, 40))
        seats = max(1, int(arr / rng.choice([60_000, 90_000, 120_000])))
        engagement = rng.betavariate(2.2, 1.6)  # latent: how much this customer gets out of the product
        owner = rng.choice(csms) if arr >= 800_000 or rng.random() < 0.7 else None
        care = diligence[owner.pk] if owner else 0.4
        plans.append({
            "index": index, "arr": arr, "start": start, "seats": seats, "engagement": engagement,
            "owner": owner, "care": care,
        })

    # Churn within the last six months is likelier where usage is low and touches were missing.
    for plan in plans:
        started = plan["start"] <= today - dt.timedelta(days=60)
        risk = -1.3 - 4.2 * (plan["engagement"] - 0.5) - 1.8 * (plan["care"] - 0.8)
        churn_p = 1 / (1 + math.exp(-risk)) * 0.75
        plan["churned_on"] = (
            today - dt.timedelta(days=rng.randint(3, HISTORY_DAYS - 10))
            if started and rng.random() < churn_p else None
        )

    account_rows = []
    for plan in plans:
        start, churned_on = plan["start"], plan["churned_on"]
        tenure_days = (today - start).days
        stage_index = min(len(stages) - 1, max(0, tenure_days // 120))
        if plan["engagement"] > 0.75 and tenure_days > 240:
            stage_index = 3  # expansion
        renewal = start
        while renewal <= today:
            renewal = renewal.replace(year=renewal.year + 1) if not (renewal.month == 2 and renewal.day == 29) \
                else renewal.replace(year=renewal.year + 1, day=28)
        account_rows.append(Account(
            workspace=workspace,
            name=_company_name(rng, plan["index"]),
            external_id=f"SF-{100000 + plan['index']}",
            domain=f"customer{plan['index']}.example.jp",
            owner=plan["owner"],
            arr=Decimal(plan["arr"]),
            plan=PLANS[min(3, int(math.log10(plan["arr"] / 240_000 + 1) * 2))],
            licensed_seats=plan["seats"],
            contract_start=start,
            renewal_date=renewal,
            stage=stages[stage_index],
            stage_entered_at=timezone.make_aware(
                dt.datetime.combine(start + dt.timedelta(days=stage_index * 120), dt.time(10)), tz),
            status=AccountStatus.CHURNED if churned_on else AccountStatus.ACTIVE,
            churned_on=churned_on,
            churn_reason=_weighted(rng, CHURN_REASONS) if churned_on else "",
            attributes={"nps": rng.randint(-40, 80)} if rng.random() < 0.5 else {},
        ))
    created = Account.objects.bulk_create(account_rows, batch_size=1000)
    for account, plan in zip(created, plans, strict=True):
        plan["account"] = account
        if rng.random() < 0.15:
            account.tags.add(rng.choice(tags))

    stage_changes = []
    for plan in plans:
        account = plan["account"]
        for i in range(stages.index(account.stage) + 1):
            stage_changes.append(StageChange(
                workspace=workspace, account=account, from_stage=stages[i - 1] if i else None, to_stage=stages[i],
                changed_at=timezone.make_aware(
                    dt.datetime.combine(plan["start"] + dt.timedelta(days=i * 120), dt.time(10)), tz),
                changed_by=plan["owner"],
            ))
    StageChange.objects.bulk_create(stage_changes, batch_size=2000)

    contacts = _make_contacts(rng, workspace, plans, today)
    seed_onboarding(workspace, rng, today, DEMO)
    touch_count = _make_touchpoints(rng, workspace, plans, contacts, today, tz)
    event_count = _make_usage(rng, workspace, plans, contacts, today, tz)
    _configure_health_and_rollups(workspace, today)
    with translation.override(workspace.language):  # what the demo's CSMs wrote, in their language
        _play_history(rng, workspace, csms, today, tz)
    seed_tossups(workspace, rng, today, DEMO)
    seed_revenue(workspace, rng, today, DEMO)
    seed_churn(workspace, rng, today, DEMO)
    _record_account_history(workspace, today)
    seed_voice(workspace, rng, today, DEMO)
    seed_programmes(workspace, rng, today, DEMO)
    seed_lifecycle(workspace, rng, today, DEMO)
    seed_success(workspace, rng, today, DEMO)

    seed_renewals(workspace, rng, today, DEMO)  # after the contract history: reads its past renewals
    manager = members["manager1"]
    ApiToken.objects.filter(membership=manager, name="demo").update(revoked_at=timezone.now())
    _, api_key = issue_token(membership=manager, name="demo")
    write_key = _demo_write_key(workspace)
    logins = [(m.user.username, m.get_role_display()) for m in members.values()]
    return DemoResult(workspace, logins, api_key, write_key, len(created), touch_count, event_count)


def _make_contacts(rng, workspace, plans, today):
    first = ["Hiroshi", "Yuko", "Takeshi", "Naomi", "Kenta", "Ayumi", "Shota", "Rina", "Daisuke", "Kana",
             "James", "Olivia", "Liam", "Sophia"]
    last = ["Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue", "Kimura", "Hayashi",
            "Shimizu", "Smith", "Brown"]
    titles = {
        ContactRole.DECISION_MAKER: ["Head of Sales Operations", "General Manager", "CIO", "Director of Operations"],
        ContactRole.CHAMPION: ["Team Lead", "Operations Manager", "Project Manager"],
        ContactRole.ADMIN: ["System Administrator", "IT Manager"],
        ContactRole.END_USER: ["Analyst", "Sales Representative", "Coordinator", "Engineer"],
    }
    rows = []
    for plan in plans:
        count = 2 + min(5, plan["seats"] // 15) + rng.randint(0, 1)
        roles = [ContactRole.DECISION_MAKER, ContactRole.CHAMPION, ContactRole.ADMIN]
        roles += [ContactRole.END_USER] * max(0, count - 3)
        for k, role in enumerate(roles[:count]):
            left = None
            if role == ContactRole.CHAMPION and rng.random() < 0.08:
                left = today - dt.timedelta(days=rng.randint(5, 150))
            rows.append(Contact(
                workspace=workspace, account=plan["account"], external_id=f"SFC-{plan['index']}-{k}",
                name=f"{rng.choice(first)} {rng.choice(last)}",
                email=f"person{k}@customer{plan['index']}.example.jp",
                title=rng.choice(titles[role]), role=role,
                is_key_person=role in (ContactRole.DECISION_MAKER, ContactRole.CHAMPION), left_on=left,
            ))
    created = Contact.objects.bulk_create(rows, batch_size=2000)
    by_account = {}
    for contact in created:
        by_account.setdefault(contact.account_id, []).append(contact)
    return by_account


def _make_touchpoints(rng, workspace, plans, contacts, today, tz):
    rows, links = [], []
    for plan in plans:
        account = plan["account"]
        arr, care = plan["arr"], plan["care"]
        if arr >= 10_000_000:
            gap, channels = 18, [("video_meeting", 5), ("phone", 3), ("onsite_meeting", 2), ("email", 2)]
        elif arr >= 1_000_000:
            gap, channels = 45, [("phone", 4), ("video_meeting", 3), ("email", 3), ("webinar", 1)]
        else:
            gap, channels = 50, [("newsletter", 4), ("webinar", 3), ("in_app", 3), ("email", 1), ("user_event", 1)]
        gap = gap / max(care, 0.3) / (0.6 + plan["engagement"] * 0.6)
        first_day = max(plan["start"], today - dt.timedelta(days=HISTORY_DAYS))
        last_day = plan["churned_on"] or today
        day = first_day + dt.timedelta(days=rng.randint(0, int(gap)))
        while day <= last_day:
            channel = _weighted(rng, channels)
            when = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(9, 18), rng.choice([0, 15, 30]))), tz)
            people = contacts.get(account.pk, [])
            involved = rng.sample(people, k=min(len(people), rng.randint(1, 2))) if people and channel not in (
                "newsletter", "in_app") else []
            sentiment = "negative" if plan["engagement"] < 0.25 and rng.random() < 0.5 else (
                "positive" if rng.random() < plan["engagement"] * 0.7 else "neutral")
            rows.append(Touchpoint(
                workspace=workspace, account=account, author=plan["owner"] if channel not in (
                    "newsletter", "in_app", "webinar") else None,
                channel=channel, occurred_at=when, summary=rng.choice(SUMMARIES[channel]), sentiment=sentiment,
            ))
            links.append(involved)
            day += dt.timedelta(days=max(3, int(rng.expovariate(1 / gap))))
    created = Touchpoint.objects.bulk_create(rows, batch_size=2000)
    through = Touchpoint.contacts.through
    through.objects.bulk_create(
        [through(touchpoint_id=t.pk, contact_id=c.pk) for t, people in zip(created, links, strict=True) for c in people],
        batch_size=5000,
    )
    return len(created)


def _make_usage(rng, workspace, plans, contacts, today, tz):
    """Raw usage events over the history window: fewer users, fewer key features, fading before churn."""
    users, events = [], []
    now = timezone.now()
    for plan in plans:
        account = plan["account"]
        if plan["start"] > today:
            continue
        engagement = plan["engagement"]
        user_count = max(1, int(plan["seats"] * (0.15 + 0.75 * engagement)))
        user_count = min(user_count, 25)  # the demo keeps volumes small; ratios are what matter
        people = contacts.get(account.pk, [])
        user_ids = []
        for k in range(user_count):
            contact = people[k] if k < len(people) else None
            user_id = f"u-{plan['index']}-{k}"
            user_ids.append(user_id)
            users.append(ProductUser(
                workspace=workspace, user_id=user_id, account=account, group_id=account.external_id,
                contact=contact, email=contact.email if contact else "",
                first_seen_at=now, last_seen_at=now,
            ))
        features = EVENT_NAMES[5:] + [f for f in KEY_FEATURES if rng.random() < 0.2 + engagement]
        first_day = max(plan["start"], today - dt.timedelta(days=HISTORY_DAYS))
        last_day = plan["churned_on"] or today
        span = max(1, (last_day - first_day).days)
        day = first_day
        while day <= last_day:
            fade = 1.0
            if plan["churned_on"]:
                # Usage fades over the last two months before a churn.
                fade = min(1.0, 0.25 + (last_day - day).days / 60)
            elif engagement < 0.3:
                fade = 1.0 - 0.5 * (day - first_day).days / span
            weekday = 0.35 if day.weekday() >= 5 else 1.0
            expected = user_count * 0.2 * (0.3 + engagement) * fade * weekday
            for _ in range(_poisson(rng, expected)):
                when = timezone.make_aware(
                    dt.datetime.combine(day, dt.time(rng.randint(8, 20), rng.randint(0, 59), rng.randint(0, 59))), tz)
                events.append(UsageEvent(
                    workspace=workspace, message_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    account=account, group_id=account.external_id, user_id=rng.choice(user_ids),
                    event=rng.choice(features), occurred_at=when, received_at=when, properties={},
                ))
            day += dt.timedelta(days=1)
    ProductUser.objects.bulk_create(users, batch_size=2000)
    UsageEvent.objects.bulk_create(events, batch_size=5000)
    return len(events)


def _poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# The past days the demo's playbooks ran on (the night evaluates only the present; the demo writes
# three months of that work at once), each followed by the CSMs' work on the tasks it created.
PLAYBOOK_DAYS_BACK = [84, 56, 35, 21, 7]


def _play_history(rng, workspace, csms, today, tz):
    """Playbooks running for three months, and tasks in every state: the library's enabled playbooks
    evaluated on a few past days; most of their tasks done (on time, or late), each contact task with
    the touch that did it; some cancelled; some snoozed; some left overdue; and a few manual tasks."""
    from playbooks.engine import evaluate_playbooks
    from playbooks.models import Task, TaskPriority, TaskSource, TaskStatus, TaskType

    days = [today - dt.timedelta(days=back) for back in PLAYBOOK_DAYS_BACK]
    for day, next_day in zip(days, [*days[1:], today], strict=True):
        started = timezone.now()
        evaluate_playbooks(workspace=workspace, as_of=day, by="demo")
        # Made on that day, as the night of that day would have made them.
        Task.objects.for_workspace(workspace).filter(created_at__gte=started).update(
            created_at=timezone.make_aware(dt.datetime.combine(day, dt.time(2)), tz))
        due = Task.objects.for_workspace(workspace).filter(status=TaskStatus.OPEN, due_on__lt=next_day)
        _work_tasks(rng, workspace, list(due.select_related("account", "assignee")), until=next_day, tz=tz)
    still_open = list(Task.objects.for_workspace(workspace).filter(status=TaskStatus.OPEN).order_by("pk"))
    for task in rng.sample(still_open, k=len(still_open) // 8):
        task.status, task.snoozed_until = TaskStatus.SNOOZED, today + dt.timedelta(days=rng.randint(2, 10))
        task.save(update_fields=["status", "snoozed_until"])
    manual = [
        (TaskType.CALL, gettext("Follow up on the training request"), 1, TaskPriority.NORMAL),
        (TaskType.MEETING, gettext("Quarterly business review"), 6, TaskPriority.HIGH),
        (TaskType.REVIEW, gettext("Prepare the report card"), -2, TaskPriority.NORMAL),
    ]
    for csm in csms:
        book = list(Account.objects.for_workspace(workspace).filter(owner=csm, status=AccountStatus.ACTIVE)
                    .order_by("-arr")[:3])
        for account, (kind, title, due_in, priority) in zip(book, manual, strict=False):
            Task.objects.create(workspace=workspace, account=account, assignee=csm, type=kind, title=title,
                                due_on=today + dt.timedelta(days=due_in), priority=priority,
                                source=TaskSource.MANUAL, created_by=csm)


def _work_tasks(rng, workspace, tasks, *, until, tz):
    """What the CSMs did with the tasks due before `until`: about two in three done by their due date,
    one in seven late, one in fourteen cancelled, the rest left open (overdue)."""
    from playbooks.models import CONTACT_TASK_CHANNELS, TaskStatus

    touches = []
    for task in tasks:
        roll = rng.random()
        created = workspace.local_day(task.created_at)
        if roll < 0.66:
            done = max(created, task.due_on - dt.timedelta(days=rng.randint(0, 3)))
        elif roll < 0.8:
            done = task.due_on + dt.timedelta(days=rng.randint(1, 10))
        elif roll < 0.87:
            task.status = TaskStatus.CANCELLED
            task.outcome = gettext("Not needed any more.")
            task.save(update_fields=["status", "outcome"])
            continue
        else:
            continue
        done = min(done, until - dt.timedelta(days=1))
        task.status, task.completed_on, task.completed_by = TaskStatus.DONE, done, task.assignee
        task.outcome = gettext("Done: the customer confirmed the next steps.")
        channel = CONTACT_TASK_CHANNELS.get(task.type)
        if channel:
            touches.append((task, Touchpoint(
                workspace=workspace, account=task.account, author=task.assignee, channel=channel,
                occurred_at=timezone.make_aware(dt.datetime.combine(done, dt.time(rng.randint(9, 17))), tz),
                summary=task.title)))
        task.save(update_fields=["status", "completed_on", "completed_by", "outcome"])
    Touchpoint.objects.bulk_create([touch for _task, touch in touches])
    for task, touch in touches:
        task.touchpoint = touch
        task.save(update_fields=["touchpoint"])


def _record_account_history(workspace, today):
    """The change log of the demo's accounts (bulk-created, so no writer recorded it): their owner,
    plan and attributes as on record from the contract start (ARR, seats and renewals come from their
    contract lines, dated), active from the start and churned from the churn day."""
    accounts = list(Account.objects.for_workspace(workspace).order_by("pk"))
    rows = []
    for account in accounts:
        start = min(account.contract_start or today, today)
        churned_on = account.churned_on
        if churned_on is not None:
            account.status, account.churned_on = AccountStatus.ACTIVE, None  # as it was before the churn
        rows.extend(history.current_rows(workspace, account, day=start, source="demo"))
        if churned_on is not None:
            account.status, account.churned_on = AccountStatus.CHURNED, churned_on
            rows.extend(history.changed_rows(workspace, account, {"status": None, "churned_on": None},
                                             day=churned_on, source="demo"))
    history.save_rows(rows)


def _configure_health_and_rollups(workspace, today):
    """Name the product's key features and roll up the whole usage history, as months of
    ingestion would have, so that health scores and back-tests have a past to read."""
    from healthscore.services import update_settings
    from usage.services import rollup_days

    update_settings(workspace=workspace, actor=DEMO, key_features=KEY_FEATURES)
    rollup_days(workspace=workspace, days=[today - dt.timedelta(days=n) for n in range(HISTORY_DAYS + 1)])


def _demo_write_key(workspace):
    """A write key for the usage tracking API, when that capability is installed."""
    try:
        from usage.services import create_write_key
    except ImportError:
        return None
    _, key = create_write_key(workspace=workspace, name="demo", actor=DEMO)
    return key
