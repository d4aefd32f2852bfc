"""The demo's renewal outcomes, read from its contract lines (docs/renewals.md).

Run after the revenue demo has written the contract history. For every line whose renewal day has
passed: a line of the same account and product that starts that day is its renewal (renewed, with
expansion or with contraction by the MRR), and a line that ends that day with no successor, on an
account that churned, is a churn (with the account's reason). The lines are already as the outcome
leaves them, so only the outcomes are written: in bulk, each audited as the demo.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import DateField
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import AccountStatus, Contract
from renewals.models import Outcome, RenewalOutcome
from workspaces.audit import audit_event
from workspaces.models import AuditEvent


def _outcome(before, after):
    if after > before:
        return Outcome.EXPANDED
    if after < before:
        return Outcome.CONTRACTED
    return Outcome.RENEWED


def seed_renewals(workspace, rng, today, actor):
    """Record the outcome of every past renewal the demo's lines tell; the number recorded."""
    lines = list(Contract.objects.for_workspace(workspace)
                 .annotate(renews_on_day=Coalesce("renewal_date", "end_date", output_field=DateField()))
                 .filter(renews_on_day__lt=today)
                 .select_related("account").order_by("renews_on_day", "id"))
    if not lines:
        return 0
    starts = defaultdict(list)  # (account, product, start) -> lines
    for line in Contract.objects.for_workspace(workspace).order_by("id"):
        starts[(line.account_id, line.product, line.start_date)].append(line)
    done = set(RenewalOutcome.objects.for_workspace(workspace).values_list("line_id", "due_on"))
    tz = workspace.tz
    rows = []
    for line in lines:
        due_on = line.renews_on_day
        if (line.pk, due_on) in done or line.start_date >= due_on:
            continue
        account = line.account
        successor = next((s for s in starts.get((line.account_id, line.product, due_on), []) if s.pk != line.pk),
                         None)
        recorded_at = timezone.make_aware(dt.datetime.combine(due_on, dt.time(rng.randint(9, 18))), tz)
        base = {"workspace": workspace, "line": line, "account": account, "due_on": due_on,
                "previous_mrr": line.mrr, "recorded_by": account.owner, "recorded_at": recorded_at}
        if successor is not None and successor.mrr > 0:
            rows.append(RenewalOutcome(**base, outcome=_outcome(line.mrr, successor.mrr), successor=successor,
                                       new_mrr=successor.mrr))
        elif line.end_date == due_on and account.status == AccountStatus.CHURNED:
            rows.append(RenewalOutcome(**base, outcome=Outcome.CHURNED, churn_reason=account.churn_reason
                                       or "other", churn_note=account.churn_note))
    created = RenewalOutcome.objects.bulk_create(rows, batch_size=1000)
    AuditEvent.objects.bulk_create([
        audit_event(workspace=workspace, actor=actor, action="renewal.recorded", obj=row, changes={
            "line": str(row.line_id), "due_on": row.due_on.isoformat(), "outcome": row.outcome,
            "previous_mrr": str(row.previous_mrr), "new_mrr": None if row.new_mrr is None else str(row.new_mrr)})
        for row in created], batch_size=1000)
    return len(created)
