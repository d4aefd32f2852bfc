"""Writes of toss-ups: log one, edit it, move its status, upsert it by the CRM's external ID, delete it.

Every write asks the policy first (workspaces.policy: a CSM logs toss-ups on the accounts they own,
managers on every account; the CSM who raised one or a manager changes it; crediting another member
is a manager's), checks what the input names (account, members) is of the workspace, keeps the
status rules (`models.TRANSITIONS`; a won toss-up has its won MRR) and is audited.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from workspaces.audit import model_changes, record_audit
from workspaces.errors import DomainError, RowErrors
from workspaces.models import Membership
from workspaces.policy import acting_member, authorize, authorize_role

from .models import CLOSED_STATUSES, TRANSITIONS, Opportunity, OpportunityKind, OpportunityStatus

EDITABLE_FIELDS = ("account", "kind", "estimated_mrr", "note", "raised_by", "handed_to", "handed_to_name",
                   "handed_over_on", "status", "won_mrr", "lost_reason", "closed_on", "external_id")
MAX_MRR = Decimal("99999999999999.99")  # what MONEY holds
EARLIEST = dt.date(2000, 1, 1)


def _check_account(workspace, account):
    if account is None or getattr(account, "workspace_id", None) != workspace.pk:
        raise DomainError(_("Choose an account of this workspace."), field="account")


def _check_member(workspace, member, *, field):
    if member is None:
        return
    if not isinstance(member, Membership) or member.workspace_id != workspace.pk:
        raise DomainError(_("Choose a member of this workspace."), field=field)
    if not member.is_active:
        raise DomainError(_("This member is deactivated: choose an active member."), field=field)


def _money(value, *, field, required):
    if value is None or value == "":
        if required:
            raise DomainError(_("Give an amount."), field=field)
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Give an amount as a number."), field=field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_MRR:
        raise DomainError(_("Give an amount of zero or more."), field=field)
    return amount.quantize(Decimal("0.01"))


def _check_day(workspace, day, *, field, required=True):
    if day is None:
        if required:
            raise DomainError(_("Give a date."), field=field)
        return
    if not isinstance(day, dt.date):
        raise DomainError(_("Give a date."), field=field)
    if day < EARLIEST or day > workspace.today():
        raise DomainError(_("Choose a date between 2000 and today."), field=field)


def check_transition(old, new):
    """Raise a DomainError naming `status` unless a toss-up may go from `old` to `new`."""
    if old == new:
        return
    if new not in TRANSITIONS.get(old, set()):
        labels = dict(OpportunityStatus.choices)
        if old == OpportunityStatus.WON:
            message = _("A won toss-up is closed: its status no longer changes.")
        else:
            message = _("A toss-up cannot go from %(old)s to %(new)s.") % {
                "old": labels.get(old, old), "new": labels.get(new, new)}
        raise DomainError(message, field="status")


def _validate(workspace, opp):
    """The rules of a whole toss-up as it will be saved (values already set on `opp`)."""
    _check_account(workspace, opp.account)
    if opp.kind not in OpportunityKind.values:
        raise DomainError(_("Choose a kind of toss-up."), field="kind")
    if opp.status not in OpportunityStatus.values:
        raise DomainError(_("Choose a status."), field="status")
    opp.estimated_mrr = _money(opp.estimated_mrr, field="estimated_mrr", required=True)
    _check_member(workspace, opp.raised_by, field="raised_by")
    _check_member(workspace, opp.handed_to, field="handed_to")
    opp.handed_to_name = (opp.handed_to_name or "").strip()
    if opp.handed_to is None and not opp.handed_to_name:
        raise DomainError(_("Name the account executive who takes it: a member, or their name in the CRM."),
                          field="handed_to")
    _check_day(workspace, opp.handed_over_on, field="handed_over_on")
    opp.won_mrr = _money(opp.won_mrr, field="won_mrr", required=opp.status == OpportunityStatus.WON)
    if opp.won_mrr is not None and opp.status != OpportunityStatus.WON:
        raise DomainError(_("Only a won toss-up has a won MRR: leave it empty."), field="won_mrr")
    if opp.status in CLOSED_STATUSES:
        if opp.closed_on is None:
            opp.closed_on = workspace.today()
        _check_day(workspace, opp.closed_on, field="closed_on")
        if opp.closed_on < opp.handed_over_on:
            raise DomainError(_("A toss-up cannot close before it was handed over."), field="closed_on")
    elif opp.closed_on is not None:
        raise DomainError(_("Only a won or lost toss-up has a close date: leave it empty."), field="closed_on")
    if opp.lost_reason and opp.status != OpportunityStatus.LOST:
        raise DomainError(_("Only a lost toss-up has a lost reason: leave it empty."), field="lost_reason")
    opp.external_id = (opp.external_id or "").strip()
    if opp.external_id and Opportunity.objects.for_workspace(workspace).filter(
            external_id=opp.external_id).exclude(pk=opp.pk).exists():
        raise DomainError(_("Another toss-up of this workspace already has this external ID."), field="external_id")
    opp.full_clean(exclude=["workspace", "account", "raised_by", "handed_to", "created_by"], validate_unique=False,
                   validate_constraints=False)


class _Before:
    """The values a toss-up had, for model_changes."""

    def __init__(self, values):
        self.__dict__.update(values)


def _authorize_credit(actor, opp):
    member = acting_member(actor)
    if member is not None and opp.raised_by_id != member.pk:
        authorize(actor, "opportunities.credit_others")


@transaction.atomic
def create_opportunity(*, workspace, actor, account, estimated_mrr, kind=OpportunityKind.UPSELL, note="",
                       raised_by=None, handed_to=None, handed_to_name="", handed_over_on=None,
                       status=OpportunityStatus.HANDED_OVER, won_mrr=None, lost_reason="", closed_on=None,
                       external_id=""):
    """Log a toss-up. It is credited to the member who logs it unless `raised_by` names another (a
    manager's choice; the platform credits the account's owner). A CRM may create one in any status."""
    authorize_role(actor, "opportunities.create")  # the role first; the account decides next
    _check_account(workspace, account)
    if raised_by is None:
        raised_by = acting_member(actor) or account.owner
    opp = Opportunity(
        workspace=workspace, account=account, kind=kind, estimated_mrr=estimated_mrr, note=note or "",
        raised_by=raised_by, handed_to=handed_to, handed_to_name=handed_to_name or "",
        handed_over_on=handed_over_on or workspace.today(), status=status or OpportunityStatus.HANDED_OVER,
        won_mrr=won_mrr, lost_reason=lost_reason or "", closed_on=closed_on, external_id=external_id or "",
        created_by=acting_member(actor),
    )
    authorize(actor, "opportunities.create", opp)
    _authorize_credit(actor, opp)
    _validate(workspace, opp)
    opp.save()
    record_audit(workspace=workspace, actor=actor, action="opportunity.created", obj=opp)
    return opp


@transaction.atomic
def update_opportunity(*, opportunity, actor, **fields):
    """Edit a toss-up or move its status (`status`, with `won_mrr` when won, `lost_reason` when lost,
    `closed_on` defaulting to today). Leaving lost (reopened) clears the close date and the reason."""
    authorize(actor, "opportunities.change", opportunity)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
                          field=sorted(unknown)[0])
    workspace = opportunity.workspace
    new_status = fields.get("status", opportunity.status)
    check_transition(opportunity.status, new_status)
    if opportunity.status in CLOSED_STATUSES and new_status not in CLOSED_STATUSES:
        fields.setdefault("closed_on", None)
        fields.setdefault("lost_reason", "")
    if new_status != OpportunityStatus.WON and opportunity.status == OpportunityStatus.WON:
        fields.setdefault("won_mrr", None)
    if "account" in fields:
        _check_account(workspace, fields["account"])
    before = {name: getattr(opportunity, name) for name in fields}
    for name, value in fields.items():
        setattr(opportunity, name, value)
    if "account" in fields and before["account"] != opportunity.account:
        authorize(actor, "opportunities.create", opportunity)
    if "raised_by" in fields and before["raised_by"] != opportunity.raised_by:
        _authorize_credit(actor, opportunity)
    try:
        _validate(workspace, opportunity)
    except DomainError:
        for name, value in before.items():  # the caller's instance stays as it was stored
            setattr(opportunity, name, value)
        raise
    changes = model_changes(_Before(before), {name: getattr(opportunity, name) for name in fields})
    if not changes:
        return opportunity
    opportunity.save()
    action = "opportunity.status_changed" if "status" in changes else "opportunity.updated"
    record_audit(workspace=workspace, actor=actor, action=action, obj=opportunity, changes=changes)
    return opportunity


def change_status(*, opportunity, actor, status, won_mrr=None, lost_reason="", closed_on=None):
    """Move a toss-up to `status` (qualified, won with its won MRR, lost with a reason)."""
    fields = {"status": status}
    if status == OpportunityStatus.WON:
        fields["won_mrr"] = won_mrr
    if status == OpportunityStatus.LOST:
        fields["lost_reason"] = lost_reason or ""
    if status in CLOSED_STATUSES:
        fields["closed_on"] = closed_on or opportunity.closed_on or opportunity.workspace.today()
    return update_opportunity(opportunity=opportunity, actor=actor, **fields)


@transaction.atomic
def upsert_opportunity(*, workspace, actor, external_id, **fields):
    """Create or update the toss-up with this external ID: (toss-up, created). The CRM keeps the
    status in sync this way; the same payload twice writes once (the second changes nothing)."""
    if not (external_id or "").strip():
        raise DomainError(_("This field is required to upsert."), field="external_id")
    existing = Opportunity.objects.for_workspace(workspace).filter(external_id=external_id).first()
    if existing is None:
        if "account" not in fields:
            raise DomainError(_("Give account (an id) or account_external_id."), field="account")
        if "estimated_mrr" not in fields:
            raise DomainError(_("Give an amount."), field="estimated_mrr")
        return create_opportunity(workspace=workspace, actor=actor, external_id=external_id, **fields), True
    fields.pop("external_id", None)
    return update_opportunity(opportunity=existing, actor=actor, **fields), False


@transaction.atomic
def bulk_upsert_opportunities(*, workspace, actor, rows):
    """Upsert many toss-ups by external ID: all of them or, if any row breaks a rule, none (RowErrors)."""
    results, errors = [], []
    for index, row in enumerate(rows):
        row = dict(row)
        external_id = row.pop("external_id")
        try:
            with transaction.atomic():
                results.append(upsert_opportunity(workspace=workspace, actor=actor, external_id=external_id, **row))
        except DomainError as exc:
            errors.append({"index": index, "errors": {exc.field or "non_field_errors": [exc.message]}})
    if errors:
        raise RowErrors(errors)
    created = sum(1 for _opp, was_created in results if was_created)
    return {"created": created, "updated": len(results) - created, "rows": results}


@transaction.atomic
def delete_opportunity(*, opportunity, actor):
    authorize(actor, "opportunities.delete", opportunity)
    record_audit(workspace=opportunity.workspace, actor=actor, action="opportunity.deleted", obj=opportunity)
    opportunity.delete()
