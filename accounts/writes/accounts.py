"""The writer of accounts: the churn rules, stage history and tags go with every write.

Churning needs a reason: an account that becomes churned (or is created churned), or whose reason
changes while churned, names one of the workspace's churn reasons (ChurnReasonCategory) by its
code, and not an archived one. An account that churned before reasons were required keeps its
empty reason until someone changes its status or reason.
"""

from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _

from webhooks.events import emit_many
from workspaces.policy import acting_member

from .. import history
from ..models import Account, AccountStatus, ChurnReasonCategory, LifecycleStage, StageChange, Tag
from ..signals import account_created, stage_changed, stage_move_checks
from .base import BY_EXTERNAL_ID_OR_NATURAL_KEY, Plan, RecordWriter
from .sql import CHUNK, chunks, insert_pairs


def apply_churn_rules(account, *, today):
    """A churned account has a churn date (today unless given); an active one has neither date nor reason."""
    if account.status == AccountStatus.CHURNED and account.churned_on is None:
        account.churned_on = today
    if account.status == AccountStatus.ACTIVE:
        account.churned_on = None
        account.churn_reason = ""


class AccountWriter(RecordWriter):
    model = Account
    kind = "account"
    FIELDS = ("name", "domain", "owner", "arr", "plan", "licensed_seats", "contract_start", "renewal_date",
              "status", "churned_on", "churn_reason", "churn_note", "attributes")
    fk_fields = ("workspace", "owner", "stage")
    natural_label = "name"

    def select(self, queryset):
        return queryset.select_related("owner__user", "stage")  # the audit names the old owner and stage

    def churn_reason(self, code):
        """The workspace's churn reason with this code, or None (all of them read once per batch)."""
        if not hasattr(self, "_churn_reasons"):
            self._churn_reasons = {reason.code: reason
                                   for reason in ChurnReasonCategory.objects.for_workspace(self.workspace)}
        return self._churn_reasons.get(code)

    def check_churn_reason(self, row, plan):
        account = plan.instance
        if account.status != AccountStatus.CHURNED:
            return
        if not (plan.created or "status" in plan.changed or "churn_reason" in plan.changed):
            return  # nothing about the churn changes (it may predate required reasons)
        code = account.churn_reason
        if not code:
            self.fail(row, "churn_reason", _("A churned account needs a churn reason (churn_reason: the code of one "
                                             "of the workspace's churn reasons)."))
        reason = self.churn_reason(code)
        if reason is None:
            self.fail(row, "churn_reason", _("“%(value)s” is not a churn reason of this workspace.")
                      % {"value": code[:40]})
        if reason.archived:
            self.fail(row, "churn_reason", _("The churn reason “%(name)s” is archived: choose another one.")
                      % {"name": reason.name})

    def natural_key_of(self, row):
        return row.values.get("name")

    def prefetch(self, rows):
        self.today = self.workspace.today()
        self.by_ext = self.existing_by_external_id(rows)
        self.by_name = defaultdict(list)
        if self.match == BY_EXTERNAL_ID_OR_NATURAL_KEY:
            # Names matter only for rows that did not match by external ID.
            names = {row.values.get("name") for row in rows if row.values.get("external_id") not in self.by_ext}
            scoped = Account.objects.for_workspace(self.workspace)
            for chunk in chunks(names - {None, ""}):
                for account in self.select(scoped.filter(name__in=chunk)):
                    self.by_name[account.name].append(self.by_ext.get(account.external_id, account))
        self.current_tags = defaultdict(set)
        if any("tags" in row.values for row in rows):
            ids = {a.pk for a in self.by_ext.values()} | {a.pk for group in self.by_name.values() for a in group}
            ids |= {row.instance.pk for row in rows if row.instance is not None}
            through = Account.tags.through.objects
            for chunk in chunks(ids):
                for account_id, name in through.filter(account_id__in=chunk).values_list("account_id", "tag__name"):
                    self.current_tags[account_id].add(name)

    def match_natural(self, row, ext):
        name = row.values.get("name")
        candidates = [a for a in self.by_name.get(name, []) if not ext or not a.external_id]
        if len(candidates) > 1 and not ext:
            self.fail(row, "name", _("Several accounts are named “%(value)s”; add an external ID column to tell "
                                     "them apart.") % {"value": name})
        return candidates[0] if len(candidates) == 1 else None

    def plan_row(self, row, seen):
        values = dict(row.values)
        if "churn_reason" in values:
            values["churn_reason"] = (values["churn_reason"] or "").strip()
        existing = self.find(row, seen)
        created = existing is None
        account = existing if existing is not None else Account(workspace=self.workspace)
        plan = Plan(row=row, instance=account, created=created)
        if created and values.get("owner") is None and not getattr(self.actor, "is_manager", True):
            values["owner"] = self.actor  # a CSM's new account is theirs (a manager's stays unowned)
        owner, stage = values.get("owner"), values.get("stage")
        self.same_workspace(row, owner=owner, stage=stage)
        if "owner" in values and owner is not None and owner.pk != account.owner_id and not owner.is_active:
            self.fail(row, "owner", _("The owner must be an active member of the workspace."))
        ext = values.get("external_id") or ""
        if ext and account.external_id != ext:
            plan.changed["external_id"] = account.external_id
            account.external_id = ext
        old_stage_id = account.stage_id
        if not created:
            self.allowed(row, "accounts.change", account)  # as it is: a CSM edits the accounts they own
        self.assign(plan, values, self.FIELDS)
        if created:
            self.allowed(row, "accounts.create", account)  # with its owner: a CSM creates their own
        elif "owner" in plan.changed:
            self.allowed(row, "accounts.reassign", account)
        if not created and plan.changed.get("status", AccountStatus.CHURNED) != AccountStatus.CHURNED \
                and account.status == AccountStatus.CHURNED:
            plan.extra["churned"] = True
        before = (account.churned_on, account.churn_reason)
        apply_churn_rules(account, today=self.today)
        if not created:
            for name, old in zip(("churned_on", "churn_reason"), before, strict=True):
                if getattr(account, name) != old:
                    plan.changed.setdefault(name, old)
        self.check_churn_reason(row, plan)
        if "stage" in values and (stage.pk if stage else None) != old_stage_id:
            previous_stage = account.stage if old_stage_id else None  # read before the move (selected with the row)
            account.stage = stage
            account.stage_entered_at = timezone.now()
            if not created:
                plan.changed.setdefault("stage", previous_stage)
                plan.changed.setdefault("stage_entered_at", None)
            plan.extra["stage_move"] = (old_stage_id, stage)
            plan.extra["previous_stage"] = previous_stage
        if "tags" in values:
            wanted = {name.strip() for name in values["tags"] or () if name and name.strip()}
            before_tags = set() if created else self.current_tags.get(account.pk, set())
            plan.extra["tags"] = wanted
            plan.extra["tags_changed"] = wanted != before_tags
            if plan.extra["tags_changed"] and not created:
                plan.extra["audit_changes"] = {"tags": [", ".join(sorted(before_tags)), ", ".join(sorted(wanted))]}
        return plan

    def plan(self, rows):
        plans = super().plan(rows)
        return self.check_stage_moves(plans)

    def check_stage_moves(self, plans):
        """Ask the apps built on accounts whether the existing accounts leaving the first stage may
        (signals.stage_move_checks); a refused row gets the answer as its `stage` error."""
        leaving = [plan for plan in plans if not plan.created and "stage_move" in plan.extra]
        if not leaving:
            return plans
        first = LifecycleStage.objects.for_workspace(self.workspace).order_by("position", "id").values_list(
            "pk", flat=True).first()
        leaving = {plan.instance.pk: plan for plan in leaving
                   if plan.extra["stage_move"][0] == first and plan.extra["stage_move"][1] is not None
                   and plan.extra["stage_move"][1].pk != first}
        if not leaving:
            return plans
        refused = {}
        for _receiver, answer in stage_move_checks.send(sender=Account, workspace=self.workspace,
                                                        account_ids=list(leaving)):
            for account_id, message in (answer or {}).items():
                refused.setdefault(account_id, message)
        for account_id, message in refused.items():
            if account_id in leaving:
                self.add_error(leaving[account_id].row, "stage", message)
        return [plan for plan in plans if plan.instance.pk not in refused or plan.created]

    def audit(self, plan):
        event = super().audit(plan)
        event.changes.pop("stage_entered_at", None)  # the stage's move says it
        return event

    def before_write(self, plans):
        names = set().union(*(plan.extra.get("tags", set()) for plan in plans)) if plans else set()
        if names:
            Tag.objects.bulk_create([Tag(workspace=self.workspace, name=n) for n in sorted(names)],
                                    ignore_conflicts=True, batch_size=CHUNK)
            self.tags = {t.name: t.pk for t in Tag.objects.for_workspace(self.workspace).filter(name__in=names)}

    def record_history(self, plans):
        """The change log of the tracked fields (accounts.history): all of a new account's, the
        changed ones of an updated account, known from the workspace's day of the write."""
        day, source, rows = self.workspace.today(), self.history_source(), []
        for plan in plans:
            if plan.created:
                rows.extend(history.current_rows(self.workspace, plan.instance, day=day, source=source))
            elif plan.changed:
                rows.extend(history.changed_rows(self.workspace, plan.instance, plan.changed, day=day, source=source))
        history.save_rows(rows)

    def after_write(self, plans):
        self.record_history(plans)
        moves = [plan for plan in plans if "stage_move" in plan.extra]
        StageChange.objects.bulk_create(
            [StageChange(workspace=self.workspace, account=plan.instance, from_stage_id=plan.extra["stage_move"][0],
                         to_stage=plan.extra["stage_move"][1], changed_at=plan.instance.stage_entered_at,
                         changed_by=acting_member(self.actor))
             for plan in moves],
            batch_size=CHUNK,
        )
        self.emit_events(plans)
        through = Account.tags.through
        for chunk in chunks([plan for plan in plans if plan.extra.get("tags_changed")]):
            through.objects.filter(account_id__in=[plan.instance.pk for plan in chunk if not plan.created]).delete()
            insert_pairs(
                through._meta.db_table, ["account_id", "tag_id"],
                [(plan.instance.pk, self.tags[name]) for plan in chunk for name in sorted(plan.extra["tags"])],
            )
        # What reacts to new accounts and stage moves (playbooks) follows in this transaction.
        created = [plan.instance.pk for plan in plans if plan.created]
        if created:
            account_created.send(sender=Account, workspace=self.workspace, account_ids=created)
        moved = [plan.instance.pk for plan in moves if not plan.created]
        if moved:
            stage_changed.send(sender=Account, workspace=self.workspace, account_ids=moved)

    def emit_events(self, plans):
        """Webhooks of existing accounts that moved stage or churned (a new account announces neither)."""
        moves = [plan for plan in plans if "stage_move" in plan.extra and not plan.created]
        if moves:
            emit_many(workspace=self.workspace, event="account.stage_changed", payloads=[
                {**_account_brief(plan.instance), "from_stage": _stage(plan.extra["previous_stage"]),
                 "to_stage": _stage(plan.instance.stage)}
                for plan in moves])
        churned = [plan for plan in plans if plan.extra.get("churned")]
        if churned:
            emit_many(workspace=self.workspace, event="account.churned", payloads=[
                {**_account_brief(plan.instance), "reason": plan.instance.churn_reason,
                 "churned_on": plan.instance.churned_on.isoformat() if plan.instance.churned_on else None}
                for plan in churned])


def _account_brief(account):
    return {"account": {"id": account.pk, "name": account.name, "external_id": account.external_id}}


def _stage(stage):
    return {"id": stage.pk, "name": stage.name} if stage else None
