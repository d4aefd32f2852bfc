"""The demo's success plans and KPT notes: plans in every workflow state (draft, submitted, approved,
changes requested) with objectives at various levels and a history that goes back weeks, so that the
plan page shows its history and the health measure's past days read a past gap; a few KPT notes for
this month and the last.

Plans are written through the services as the account's CSM and the manager would, then each step's
history rows are dated back to the day it happened in the story.
"""

import datetime as dt

from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Account, AccountStatus
from success import services
from success.models import KptNote, PeriodKind, PlanEvent, SuccessPlan
from workspaces.models import Membership, Role

STATES = ["approved", "submitted", "changes_requested", "draft"]


def _objectives():
    return [
        (gettext("Every sales rep logs their visits in the product"), gettext("Share of reps active weekly")),
        (gettext("Cut the monthly report's preparation time in half"), gettext("Hours per monthly report")),
        (gettext("Managers run the weekly pipeline review from the dashboard"), gettext("Reviews held in the product")),
        (gettext("Roll out to the second business unit"), gettext("Licensed seats in use")),
    ]


def _dated(workspace, plan, since_id, day, hour=10):
    """Date the plan's history rows written after `since_id` to `day` (the story's day)."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), workspace.tz)
    PlanEvent.objects.for_workspace(workspace).filter(plan=plan, pk__gt=since_id).update(occurred_at=moment)
    return _last_id(workspace)


def _last_id(workspace):
    return PlanEvent.objects.for_workspace(workspace).order_by("-pk").values_list("pk", flat=True).first() or 0


def seed_success(workspace, rng, today, actor):
    """Plans on ~24 active accounts (every state), KPT notes for this and last month; returns the plans made."""
    SuccessPlan.objects.for_workspace(workspace).delete()  # a refresh regenerates them
    KptNote.objects.for_workspace(workspace).delete()
    services.ensure_defaults(workspace=workspace)
    manager = Membership.objects.for_workspace(workspace).filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    approver = manager or actor
    accounts = list(Account.objects.for_workspace(workspace).filter(status=AccountStatus.ACTIVE, owner__isnull=False)
                    .select_related("owner").order_by("pk")[:60])
    if not accounts:
        return 0
    chosen = rng.sample(accounts, k=min(24, len(accounts)))
    made = 0
    with translation.override(workspace.language):
        texts = _objectives()
        for i, account in enumerate(chosen):
            state = STATES[i % len(STATES)]
            csm = account.owner
            start = today - dt.timedelta(days=rng.randint(40, 120))
            mark = _last_id(workspace)
            plan = services.create_plan(workspace=workspace, actor=csm, account=account, summary=gettext(
                "What the customer wants from the product this year, agreed at the kickoff."))
            objectives = []
            for text, kpi in rng.sample(texts, k=rng.randint(2, 3)):
                objectives.append(services.save_objective(
                    plan=plan, actor=csm, text=text, kpi=kpi, target_date=today + dt.timedelta(days=rng.randint(-20, 150)),
                    objective_level=rng.choice([2, 3, 3, 4]), achievement_level=1))
            mark = _dated(workspace, plan, mark, start)
            if state == "draft":
                made += 1
                continue
            submitted = start + dt.timedelta(days=rng.randint(3, 10))
            services.submit_plan(plan=plan, actor=csm)
            mark = _dated(workspace, plan, mark, submitted)
            if state == "submitted":
                made += 1
                continue
            decided = submitted + dt.timedelta(days=rng.randint(1, 5))
            if state == "changes_requested":
                services.request_changes(plan=plan, actor=approver, comment=gettext(
                    "Make the second objective measurable: which number, by when?"))
                _dated(workspace, plan, mark, min(decided, today))
                made += 1
                continue
            services.approve_plan(plan=plan, actor=approver, comment=gettext("Agreed with the customer's goals."))
            mark = _dated(workspace, plan, mark, decided)
            # Progress since the approval: achievements rise (the edit returns the plan to draft, and
            # the CSM submits it again; the manager approves the new levels).
            progress = decided + dt.timedelta(days=max(1, (today - decided).days // 2))
            if progress < today:
                plan.refresh_from_db()
                for objective in objectives:
                    services.save_objective(plan=plan, actor=csm, objective=objective,
                                            achievement_level=max(1, min(4, objective.objective_level
                                                                         + rng.choice([-2, -1, 0, 0, 1]))))
                plan.refresh_from_db()
                if plan.status == "draft":  # some level moved: a new round of approval
                    services.submit_plan(plan=plan, actor=csm,
                                         comment=gettext("Levels updated after the quarterly review."))
                    plan.refresh_from_db()
                    services.approve_plan(plan=plan, actor=approver)
                _dated(workspace, plan, mark, progress)
            made += 1

        month = today.replace(day=1)
        last_month = (month - dt.timedelta(days=1)).replace(day=1)
        authors = list({a.owner for a in chosen}) or [actor]
        notes = [
            (last_month, "keep", gettext("Kickoffs with the hearing sheet filled in beforehand went faster.")),
            (last_month, "problem", gettext("Two accounts waited three weeks for the operational design.")),
            (last_month, "try", gettext("Book the first success review at the kickoff.")),
            (month, "keep", gettext("Report cards brought to every quarterly review.")),
            (month, "problem", gettext("Objectives without a KPI cannot be judged at the review.")),
            (month, "try", gettext("Write the KPI with the customer before submitting the plan.")),
        ]
        for n, (start, kind, text) in enumerate(notes):
            services.save_note(workspace=workspace, actor=authors[n % len(authors)], period_kind=PeriodKind.MONTH,
                               period_start=start, kind=kind, text=text)
    return made
