"""Recording a renewal's outcome (docs/renewals.md). The one write of this app.

`record_outcome(actor=…, line=…, outcome=…, new_mrr=…)`, in one transaction:
- renewed (flat, with expansion, with contraction): the line ends on its renewal day (exclusive end)
  and a successor line starts that day: same product, unit and quantity (unless a new quantity is
  given), the new MRR, the same term length; its renewal date follows the same rule as the line's.
  A successor the CRM already imported (same account and product, starting that day) is adopted;
- churned: the line ends on its renewal day; when no other line of the account runs on or after
  that day, the account is churned on that day with the reason (a churn reason is required).

Lines and accounts are written through accounts.services (the accounts write path), so their
validation, rules, webhooks and audit apply; the outcome itself is audited here.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import AccountStatus, Contract
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .models import RENEWED_OUTCOMES, Outcome, RenewalOutcome
from .terms import add_term, term_between


def churn_reason_codes(workspace):
    """The churn reasons a churn may name now: the workspace's reasons that are not archived."""
    return {code for code, _name in account_selectors.churn_reason_choices(workspace)}


def _money(value, field):
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter an amount."), field=field) from None
    if not amount.is_finite():
        raise DomainError(_("Enter an amount."), field=field)
    return amount


def successor_dates(line, due_on):
    """(start, end, renewal date) of the line that follows `line` from `due_on`: the same term."""
    term = term_between(line.start_date, due_on)
    later = add_term(due_on, term)
    return due_on, (later if line.end_date is not None else None), (later if line.renewal_date is not None else None)


def _check(line, outcome, new_mrr, churn_reason, workspace):
    due_on = line.renews_on
    if due_on is None:
        raise DomainError(_("This line has neither a renewal date nor an end date: it does not come up for "
                            "renewal."), field="line")
    if not line.start_date < due_on or not line.is_active_on(due_on - dt.timedelta(days=1)):
        raise DomainError(_("This line does not run up to its renewal day %(day)s.") % {"day": due_on}, field="line")
    if outcome not in Outcome.values:
        raise DomainError(_("Choose renewed, renewed with expansion, renewed with contraction or churned."),
                          field="outcome")
    if outcome in RENEWED_OUTCOMES:
        if new_mrr is None:
            raise DomainError(_("Enter the new MRR of the renewed line."), field="new_mrr")
        if new_mrr <= 0:
            raise DomainError(_("The new MRR of a renewal is more than zero (a line that stops is churned)."),
                              field="new_mrr")
        if outcome == Outcome.EXPANDED and new_mrr <= line.mrr:
            raise DomainError(_("An expansion renews above the MRR before (%(mrr)s).") % {"mrr": line.mrr},
                              field="new_mrr")
        if outcome == Outcome.CONTRACTED and new_mrr >= line.mrr:
            raise DomainError(_("A contraction renews below the MRR before (%(mrr)s).") % {"mrr": line.mrr},
                              field="new_mrr")
        if outcome == Outcome.RENEWED and new_mrr != line.mrr:
            raise DomainError(_("A renewal at another MRR than before (%(mrr)s) is an expansion or a contraction.")
                              % {"mrr": line.mrr}, field="new_mrr")
    elif not churn_reason:
        raise DomainError(_("Choose why the customer churned."), field="churn_reason")
    elif churn_reason not in churn_reason_codes(workspace):
        raise DomainError(_("Unknown churn reason: %(code)s.") % {"code": churn_reason}, field="churn_reason")
    return due_on


@transaction.atomic
def record_outcome(*, actor, line, outcome, new_mrr=None, quantity=None, note="", churn_reason="", churn_note=""):
    """Record what happened at `line`'s renewal (see the module's docstring); the RenewalOutcome."""
    authorize(actor, "renewals.record", line)
    workspace = line.workspace
    line = Contract.objects.for_workspace(workspace).select_for_update().select_related("account").get(pk=line.pk)
    new_mrr = _money(new_mrr, "new_mrr")
    churn_reason = (churn_reason or "").strip()
    if outcome in RENEWED_OUTCOMES:
        churn_reason, churn_note = "", ""
    due_on = _check(line, outcome, new_mrr, churn_reason, workspace)
    if RenewalOutcome.objects.for_workspace(workspace).filter(line=line, due_on=due_on).exists():
        raise DomainError(_("An outcome is already recorded for this renewal."), field="line")
    account = line.account
    previous_mrr = line.mrr
    next_dates = successor_dates(line, due_on)  # from the line as it was, before it ends on due_on
    if line.end_date != due_on:
        account_services.save_contract(workspace=workspace, actor=actor, contract=line, account=account,
                                       end_date=due_on)
    successor = None
    if outcome in RENEWED_OUTCOMES:
        successor = (Contract.objects.for_workspace(workspace)
                     .filter(account=account, product=line.product, start_date=due_on).exclude(pk=line.pk)
                     .order_by("id").first())
        if successor is None:
            start, end, renewal = next_dates
            successor = account_services.save_contract(
                workspace=workspace, actor=actor, account=account, product=line.product, mrr=new_mrr,
                quantity=line.quantity if quantity is None else quantity, unit=line.unit, start_date=start,
                end_date=end, renewal_date=renewal)
        elif successor.mrr != new_mrr or (quantity is not None and successor.quantity != quantity):
            changes = {"mrr": new_mrr} | ({"quantity": quantity} if quantity is not None else {})
            successor = account_services.save_contract(workspace=workspace, actor=actor, contract=successor,
                                                       account=account, **changes)
    elif account.status == AccountStatus.ACTIVE:
        runs_on = (Contract.objects.for_workspace(workspace).filter(account=account).exclude(pk=line.pk)
                   .filter(Q(end_date__isnull=True) | Q(end_date__gt=due_on)).exists())
        if not runs_on:
            account_services.update_account(account=account, actor=actor, status=AccountStatus.CHURNED,
                                            churned_on=due_on, churn_reason=churn_reason, churn_note=churn_note)
    entry = RenewalOutcome(
        workspace=workspace, line=line, successor=successor, account=account, due_on=due_on, outcome=outcome,
        previous_mrr=previous_mrr, new_mrr=new_mrr if outcome in RENEWED_OUTCOMES else None,
        note=(note or "").strip(), churn_reason=churn_reason, churn_note=(churn_note or "").strip(),
        recorded_by=acting_member(actor), recorded_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise DomainError(_("An outcome is already recorded for this renewal."), field="line") from None
    record_audit(workspace=workspace, actor=actor, action="renewal.recorded", obj=entry, changes={
        "line": str(line.pk), "due_on": due_on.isoformat(), "outcome": outcome,
        "previous_mrr": str(previous_mrr), "new_mrr": None if entry.new_mrr is None else str(entry.new_mrr),
        "successor": None if successor is None else str(successor.pk), "churn_reason": churn_reason,
    })
    return entry
