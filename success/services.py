"""Writes of success plans, their objectives and workflow, the level definitions and KPT notes.

Every write asks the policy first, is audited, and (for plans) adds a `PlanEvent` carrying the
plan's state after it: the history on the plan page and what past days' gaps are read from.

Workflow: draft → submitted → approved | changes requested. The account's CSM (or a manager) edits a
draft or a plan with changes requested and submits it; a manager approves it or requests changes
(with a comment), and may revise that decision (a draft is not decided on: it was not submitted).
Editing an approved plan returns it to draft: what was approved is no longer what the plan says;
editing a submitted plan withdraws it (back to draft), so the manager never approves something other
than what they read. Submitting a submitted plan again changes nothing.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workspaces.audit import model_changes, record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .models import (
    LEVELS,
    EventKind,
    KptNote,
    LevelDefinition,
    Objective,
    PeriodKind,
    PlanEvent,
    PlanStatus,
    SuccessPlan,
)

OBJECTIVE_FIELDS = ("text", "kpi", "target_date", "objective_level", "achievement_level")


# --- arithmetic ----------------------------------------------------------------------------------
def objective_gap(objective_level, achievement_level):
    """How many levels the achievement is short of the objective (0 when reached or passed)."""
    return max(0, int(objective_level) - int(achievement_level))


def plan_gap(levels):
    """The plan's gap: the SUM of its objectives' gaps, from [(objective level, achievement level)].
    None for a plan without objectives (nothing to measure: "not available", never 0)."""
    levels = list(levels)
    if not levels:
        return None
    return sum(objective_gap(o, a) for o, a in levels)


def is_successful(levels):
    """The account is successful when every objective is achieved (achievement >= objective); a plan
    without objectives is not (nothing was agreed yet)."""
    levels = list(levels)
    return bool(levels) and all(a >= o for o, a in levels)


# --- level definitions -----------------------------------------------------------------------------
def default_levels():
    """The default scale, in the active language (provisioning: the workspace's)."""
    return [
        (1, _("Getting started"), _("Set up and learning the basics; not yet part of the customer's daily work.")),
        (2, _("In use"), _("Used regularly by the intended team for the main use case.")),
        (3, _("Getting results"), _("The customer sees measurable results against the KPI it chose.")),
        (4, _("Established and expanding"), _("Results are established and the use spreads to new teams or "
                                              "use cases.")),
    ]


def ensure_defaults(*, workspace):
    """The four level definitions of a new workspace; idempotent (a level already written is kept)."""
    have = set(LevelDefinition.objects.for_workspace(workspace).values_list("level", flat=True))
    for level, name, description in default_levels():
        if level not in have:
            LevelDefinition.objects.create(workspace=workspace, level=level, name=name, description=description)


@transaction.atomic
def save_level(*, workspace, actor, level, name, description=""):
    authorize(actor, "success.manage_levels")
    if level not in LEVELS:
        raise DomainError(_("A level is 1, 2, 3 or 4."), field="level")
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the level a name."), field="name")
    row = LevelDefinition.objects.for_workspace(workspace).filter(level=level).first() \
        or LevelDefinition(workspace=workspace, level=level)
    changes = model_changes(row, {"name": name, "description": description})
    row.name, row.description = name, description
    row.full_clean()
    row.save()
    if changes:
        record_audit(workspace=workspace, actor=actor, obj=row, action="success_level.updated", changes=changes)
    return row


# --- plans ---------------------------------------------------------------------------------------
def _snapshot(plan):
    rows = list(plan.objectives.all().order_by("position", "id"))
    return rows, [{"id": o.pk, "text": o.text, "objective_level": o.objective_level,
                   "achievement_level": o.achievement_level,
                   "target_date": o.target_date.isoformat() if o.target_date else None} for o in rows]


def _record(plan, actor, kind, *, comment="", changes=None, at=None):
    rows, snapshot = _snapshot(plan)
    member = acting_member(actor)
    return PlanEvent.objects.create(
        workspace_id=plan.workspace_id, plan=plan, account_id=plan.account_id, kind=kind,
        occurred_at=at or timezone.now(), actor=member,
        actor_name=(member.display_name if member else str(actor))[:150], comment=comment, changes=changes or {},
        status_after=plan.status, gap_after=plan_gap((o.objective_level, o.achievement_level) for o in rows),
        objectives_after=snapshot)


@transaction.atomic
def create_plan(*, workspace, actor, account, summary=""):
    """The account's plan (a draft); an account has one plan, kept current."""
    authorize(actor, "success.edit_plan", account)
    if account.workspace_id != workspace.pk:
        raise DomainError(_("Choose an account of this workspace."), field="account")
    if SuccessPlan.objects.for_workspace(workspace).filter(account=account).exists():
        raise DomainError(_("This account already has a success plan."), field="account")
    plan = SuccessPlan.objects.create(workspace=workspace, account=account, summary=summary,
                                      created_by=acting_member(actor))
    _record(plan, actor, EventKind.CREATED)
    record_audit(workspace=workspace, actor=actor, obj=plan, action="success_plan.created",
                 changes={"account": account.name})
    return plan


def _lock(plan):
    return SuccessPlan.objects.for_workspace(plan.workspace_id).select_for_update().get(pk=plan.pk)


def _before_edit(plan, actor):
    """Check that `actor` may edit `plan` now; an approved plan goes back to draft (recorded)."""
    authorize(actor, "success.edit_plan", plan.account)
    if plan.status in (PlanStatus.APPROVED, PlanStatus.SUBMITTED):
        comment = _("Edited after approval: back to draft.") if plan.status == PlanStatus.APPROVED \
            else _("Edited while waiting for approval: withdrawn, back to draft.")
        plan.status = PlanStatus.DRAFT
        plan.save(update_fields=["status", "updated_at"])
        _record(plan, actor, EventKind.REOPENED, comment=comment)


@transaction.atomic
def update_plan(*, plan, actor, summary):
    plan = _lock(plan)
    changes = model_changes(plan, {"summary": summary})
    if not changes:
        return plan
    _before_edit(plan, actor)
    plan.summary = summary
    plan.save(update_fields=["summary", "updated_at"])
    _record(plan, actor, EventKind.UPDATED, changes=changes)
    record_audit(workspace=plan.workspace, actor=actor, obj=plan, action="success_plan.updated", changes=changes)
    return plan


def _clean_objective(fields):
    for name in ("objective_level", "achievement_level"):
        if name in fields and (isinstance(fields[name], bool) or fields[name] not in LEVELS):
            raise DomainError(_("A level is 1, 2, 3 or 4."), field=name)
    if "text" in fields and not (fields["text"] or "").strip():
        raise DomainError(_("Write the objective."), field="text")
    if fields.get("target_date") is not None and not isinstance(fields["target_date"], dt.date):
        raise DomainError(_("Enter a valid date."), field="target_date")


@transaction.atomic
def save_objective(*, plan, actor, objective=None, **fields):
    fields = {k: v for k, v in fields.items() if k in OBJECTIVE_FIELDS}
    _clean_objective(fields)
    plan = _lock(plan)
    if objective is not None and objective.plan_id != plan.pk:
        raise DomainError(_("This objective belongs to another plan."), field="plan")
    created = objective is None
    changes = {} if created else model_changes(objective, fields)
    if not created and not changes:
        return objective
    _before_edit(plan, actor)
    if created:
        position = plan.objectives.count()
        objective = Objective(workspace_id=plan.workspace_id, plan=plan, position=position)
    for name, value in fields.items():
        setattr(objective, name, value)
    objective.full_clean(exclude=["plan", "workspace"])
    objective.save()
    if created:
        changes = {name: [None, None if value is None else str(value)] for name, value in fields.items()}
    _record(plan, actor, EventKind.OBJECTIVE_ADDED if created else EventKind.OBJECTIVE_CHANGED,
            changes={"objective": objective.text, **changes})
    plan.save(update_fields=["updated_at"])
    # Objectives are parts of their plan: audited as the plan, naming the objective.
    record_audit(workspace=plan.workspace, actor=actor, obj=plan, changes={"objective": objective.text, **changes},
                 action="success_objective.created" if created else "success_objective.updated")
    return objective


@transaction.atomic
def delete_objective(*, objective, actor):
    plan = _lock(objective.plan)
    _before_edit(plan, actor)
    text = objective.text
    record_audit(workspace=plan.workspace, actor=actor, obj=plan, action="success_objective.removed",
                 changes={"objective": text})
    objective.delete()
    _record(plan, actor, EventKind.OBJECTIVE_REMOVED, changes={"objective": text})
    plan.save(update_fields=["updated_at"])


@transaction.atomic
def submit_plan(*, plan, actor, comment=""):
    plan = _lock(plan)
    authorize(actor, "success.edit_plan", plan.account)
    if plan.status == PlanStatus.SUBMITTED:
        return plan  # already waiting for the manager: submitting twice changes nothing
    if plan.status == PlanStatus.APPROVED:
        raise DomainError(_("The plan is approved; edit it to start a new round."), field="status")
    if not plan.objectives.exists():
        raise DomainError(_("Add at least one objective before submitting."), field="objectives")
    plan.status, plan.submitted_at = PlanStatus.SUBMITTED, timezone.now()
    plan.save(update_fields=["status", "submitted_at", "updated_at"])
    _record(plan, actor, EventKind.SUBMITTED, comment=comment)
    record_audit(workspace=plan.workspace, actor=actor, obj=plan, action="success_plan.submitted")
    return plan


def _decide(plan, actor, status, kind, comment):
    plan = _lock(plan)
    authorize(actor, "success.approve_plan", plan)
    if plan.status == PlanStatus.DRAFT:
        raise DomainError(_("A draft is the CSM's: only a submitted plan is approved or sent back."), field="status")
    plan.status, plan.decided_at, plan.decided_by = status, timezone.now(), acting_member(actor)
    plan.save(update_fields=["status", "decided_at", "decided_by", "updated_at"])
    _record(plan, actor, kind, comment=comment)
    record_audit(workspace=plan.workspace, actor=actor, obj=plan, action=f"success_plan.{kind}",
                 changes={"comment": comment} if comment else None)
    return plan


@transaction.atomic
def approve_plan(*, plan, actor, comment=""):
    return _decide(plan, actor, PlanStatus.APPROVED, EventKind.APPROVED, (comment or "").strip())


@transaction.atomic
def request_changes(*, plan, actor, comment):
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Say what should change."), field="comment")
    return _decide(plan, actor, PlanStatus.CHANGES_REQUESTED, EventKind.CHANGES_REQUESTED, comment)


@transaction.atomic
def comment_plan(*, plan, actor, comment):
    """A comment on the plan's history (the CSM or a manager); it changes nothing else."""
    authorize(actor, "success.edit_plan", plan.account)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Write a comment."), field="comment")
    event = _record(plan, actor, EventKind.COMMENTED, comment=comment)
    record_audit(workspace=plan.workspace, actor=actor, obj=plan, action="success_plan.commented",
                 changes={"comment": comment[:500]})
    return event


# --- KPT notes -----------------------------------------------------------------------------------
def period_start_of(day, kind):
    """The first day of the week (Monday) or month holding `day`."""
    if kind == PeriodKind.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def previous_period(start, kind):
    if kind == PeriodKind.WEEK:
        return start - dt.timedelta(days=7)
    return (start - dt.timedelta(days=1)).replace(day=1)


def _clean_note(workspace, fields):
    kind = fields.get("period_kind")
    start = fields.get("period_start")
    if kind not in PeriodKind.values:
        raise DomainError(_("Choose a week or a month."), field="period_kind")
    if not isinstance(start, dt.date):
        raise DomainError(_("Enter a valid date."), field="period_start")
    fields["period_start"] = period_start_of(start, kind)
    if not (fields.get("text") or "").strip():
        raise DomainError(_("Write the note."), field="text")
    segment = fields.get("segment")
    if segment is not None and segment.workspace_id != workspace.pk:
        raise DomainError(_("Choose a segment of this workspace."), field="segment")
    playbook_id = fields.get("playbook_id")
    if playbook_id is not None:
        from .selectors import playbook_names

        if playbook_id not in playbook_names(workspace=workspace, ids=[playbook_id]):
            raise DomainError(_("Choose a playbook of this workspace."), field="playbook")
    return fields


@transaction.atomic
def save_note(*, workspace, actor, note=None, **fields):
    if note is None:
        authorize(actor, "success.write_kpt")
    else:
        authorize(actor, "success.change_kpt", note)
        fields = {"period_kind": note.period_kind, "period_start": note.period_start, "kind": note.kind,
                  "text": note.text, "segment": note.segment, "playbook_id": note.playbook_id, **fields}
    fields = _clean_note(workspace, fields)
    created = note is None
    note = note or KptNote(workspace=workspace, author=acting_member(actor))
    changes = {} if created else model_changes(note, fields)
    for name, value in fields.items():
        setattr(note, name, value)
    note.full_clean(exclude=["segment", "author", "workspace"])
    note.save()
    if created or changes:
        record_audit(workspace=workspace, actor=actor, obj=note, changes=changes,
                     action="kpt_note.created" if created else "kpt_note.updated")
    return note


@transaction.atomic
def delete_note(*, note, actor):
    authorize(actor, "success.change_kpt", note)
    record_audit(workspace=note.workspace, actor=actor, obj=note, action="kpt_note.deleted",
                 changes={"text": note.text[:200]})
    note.delete()
