"""Reads of toss-ups: the list (through the one FilterSet), an account's toss-ups, and the KPI per CSM.

The KPI (docs/expansion.md): for the toss-ups handed over in [start, end), per CSM credited
(`raised_by`): pipeline generated = how many and the sum of their estimated MRR; then, second, how
many of those were won and their won MRR, and the win rate = won ÷ (won + lost) (open ones are not
decided yet, so they count in neither). One grouped query.
"""

from django.db.models import Count, Q, Sum

from workspaces.models import Membership, Role

from .filtersets import OpportunityFilterSet
from .models import Opportunity, OpportunityStatus

# Sort keys of the list (page and API): key -> ordering, ties broken by id.
OPPORTUNITY_ORDERINGS = {
    "handed_over_on": ("handed_over_on",), "-handed_over_on": ("-handed_over_on",),
    "account": ("account__name",), "-account": ("-account__name",),
    "kind": ("kind",), "-kind": ("-kind",),
    "estimated_mrr": ("estimated_mrr",), "-estimated_mrr": ("-estimated_mrr",),
    "won_mrr": ("won_mrr",), "-won_mrr": ("-won_mrr",),
    "status": ("status", "-handed_over_on"), "-status": ("-status", "-handed_over_on"),
    "raised_by": ("raised_by__user__first_name", "raised_by__user__last_name"),
    "-raised_by": ("-raised_by__user__first_name", "-raised_by__user__last_name"),
}
DEFAULT_ORDERING = "-handed_over_on"


def opportunities_of(*, workspace):
    return (Opportunity.objects.for_workspace(workspace)
            .select_related("account", "raised_by__user", "handed_to__user"))


def opportunity_list(*, workspace, filters=None, request=None, ordering=DEFAULT_ORDERING):
    rows = opportunities_of(workspace=workspace).order_by(
        *OPPORTUNITY_ORDERINGS.get(ordering, OPPORTUNITY_ORDERINGS[DEFAULT_ORDERING]), "-id")
    if filters is not None:
        rows = OpportunityFilterSet(filters, queryset=rows, request=request).qs
    return rows


def account_opportunities(*, account, limit=10):
    """The account's toss-ups, newest first (its panel on the account page)."""
    return list(opportunities_of(workspace=account.workspace).filter(account=account)
                .order_by("-handed_over_on", "-id")[:limit])


def _rate(won, lost):
    return won / (won + lost) if won + lost else None


def pipeline_kpis(*, workspace, start, end, opportunities=None):
    """Pipeline generated per CSM in [start, end) and the outcome of that pipeline.

    `opportunities` narrows what counts (e.g. the FilterSet's kind, segment or tier); every active
    CSM has a row, with zeros when they handed nothing over, and so does any other member credited.
    Returns {"rows": [...], "total": {...}}, rows sorted by pipeline amount, biggest first."""
    rows = opportunities if opportunities is not None else Opportunity.objects.for_workspace(workspace)
    won = Q(status=OpportunityStatus.WON)
    sums = (rows.filter(handed_over_on__gte=start, handed_over_on__lt=end).order_by()
            .values("raised_by").annotate(
                count=Count("id"), amount=Sum("estimated_mrr"), won_count=Count("id", filter=won),
                won_amount=Sum("won_mrr", filter=won), lost_count=Count("id", filter=Q(status=OpportunityStatus.LOST)),
                open_count=Count("id", filter=Q(status__in=[OpportunityStatus.HANDED_OVER,
                                                            OpportunityStatus.QUALIFIED]))))
    by_member = {row["raised_by"]: row for row in sums}
    members = {m.pk: m for m in Membership.objects.for_workspace(workspace).select_related("user").filter(
        Q(pk__in=[pk for pk in by_member if pk is not None]) | Q(role=Role.CSM, is_active=True))}
    result = []
    for pk in set(members) | set(by_member):
        result.append(_kpi_row(members.get(pk), by_member.get(pk, {})))
    result.sort(key=lambda r: (-r["amount"], -r["count"], r["member"] is None,
                               r["member"].display_name if r["member"] else ""))
    total = _kpi_row(None, {key: sum((row[key] for row in result), 0) for key in (
        "count", "amount", "won_count", "won_amount", "lost_count", "open_count")})
    return {"rows": result, "total": total, "start": start, "end": end}


def _kpi_row(member, sums):
    row = {"member": member}
    for key in ("count", "won_count", "lost_count", "open_count"):
        row[key] = sums.get(key) or 0
    for key in ("amount", "won_amount"):
        row[key] = sums.get(key) or 0
    row["win_rate"] = _rate(row["won_count"], row["lost_count"])
    return row
