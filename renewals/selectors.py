"""Reads of renewals (docs/renewals.md). Every function takes the workspace explicitly; other apps
(playbooks) read renewals only through here.

A contract line *comes up for renewal* on its `renews_on` day: its renewal date, else its end date
(exclusive: the first day it no longer runs). It is *up for renewal* on that day when it runs the day
before (start <= day - 1 < end). An outcome (renewals.models.RenewalOutcome) records what happened.
"""


from django.db.models import DateField, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

from accounts.models import Account, Contract
from accounts.selectors import lines_known_on

from .models import RENEWED_OUTCOMES, RenewalOutcome

CHUNK = 5000


def renewal_lines(*, workspace):
    """Every line of the workspace with a renewal day, annotated: `renews_on_day` (its renewal day)
    and `has_outcome` (an outcome is recorded for that day)."""
    outcome = RenewalOutcome.objects.for_workspace(workspace).filter(line=OuterRef("pk"),
                                                                     due_on=OuterRef("renews_on_day"))
    return (Contract.objects.for_workspace(workspace)
            .annotate(renews_on_day=Coalesce("renewal_date", "end_date", output_field=DateField()))
            .filter(renews_on_day__isnull=False)
            # it runs the day before it renews: start < renewal day <= end (end exclusive)
            .filter(start_date__lt=F("renews_on_day"))
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=F("renews_on_day")))
            .annotate(has_outcome=Exists(outcome)))


def upcoming_renewals(*, workspace, start, end, include_past_due_from=None):
    """The lines that come up for renewal on a day in [start, end), with their account; with
    `include_past_due_from`, also those due in [that day, start) that have no outcome yet (past due)."""
    window = Q(renews_on_day__gte=start, renews_on_day__lt=end)
    if include_past_due_from is not None:
        window |= Q(renews_on_day__gte=include_past_due_from, renews_on_day__lt=start, has_outcome=False)
    return (renewal_lines(workspace=workspace).filter(window)
            .select_related("account", "account__owner__user"))


def next_renewal_by_account(*, workspace, as_of, account_ids=None):
    """{account_id: the next day (on or after `as_of`) one of its lines comes up for renewal}, among
    the lines running on `as_of` as they were known that day (their versions: a line edited, ended or
    deleted since reads as it was; accounts.selectors.lines_known_on); an account without any line
    known that day falls back to its own renewal date (when it is on or after `as_of`). Two queries,
    whatever the number of accounts."""
    known = lines_known_on(workspace=workspace, day=as_of)
    lines = (known
             .annotate(renews_on_day=Coalesce("renewal_date", "end_date", output_field=DateField()))
             .filter(start_date__lte=as_of, renews_on_day__gte=as_of)
             .filter(Q(end_date__isnull=True) | Q(end_date__gt=as_of)))
    if account_ids is not None:
        lines = lines.filter(account_id__in=list(account_ids))
    result = {}
    for account_id, day in lines.order_by().values_list("account_id", "renews_on_day"):
        if account_id not in result or day < result[account_id]:
            result[account_id] = day
    any_line = known.filter(account=OuterRef("pk"))
    fallback = (Account.objects.for_workspace(workspace).filter(renewal_date__gte=as_of)
                .filter(~Exists(any_line)))
    if account_ids is not None:
        fallback = fallback.filter(pk__in=list(account_ids))
    for account_id, day in fallback.values_list("pk", "renewal_date"):
        result[account_id] = day
    return result


def renewal_outcomes(*, workspace):
    return RenewalOutcome.objects.for_workspace(workspace).select_related("account", "line", "recorded_by__user")


def renewal_days(*, workspace, account_ids, start, end):
    """{account_id: [renewal days in [start, end) with a renewed outcome (flat, up or down)]}, sorted."""
    result = {}
    ids = list(account_ids)
    for first in range(0, len(ids), CHUNK):
        rows = (RenewalOutcome.objects.for_workspace(workspace)
                .filter(account_id__in=ids[first:first + CHUNK], outcome__in=RENEWED_OUTCOMES,
                        due_on__gte=start, due_on__lt=end)
                .order_by("due_on").values_list("account_id", "due_on"))
        for account_id, day in rows:
            result.setdefault(account_id, []).append(day)
    return result


def renewed_account_ids(*, workspace, start, end):
    """The accounts with a renewed outcome (flat, up or down) due in [start, end)."""
    return set(RenewalOutcome.objects.for_workspace(workspace)
               .filter(outcome__in=RENEWED_OUTCOMES, due_on__gte=start, due_on__lt=end)
               .values_list("account_id", flat=True).distinct())



__all__ = ["next_renewal_by_account", "renewal_days", "renewal_lines", "renewal_outcomes", "renewed_account_ids",
           "upcoming_renewals"]
