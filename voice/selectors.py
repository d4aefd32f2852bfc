"""Reads of the voice of the customer. Other apps (health, playbooks) read survey responses only
through the functions here; every function takes the workspace explicitly and is set-based (a
query or two for all accounts, never one per account).

Definitions (docs/voice.md):
- A feature request's weight is the ARR (accounts.Account.arr, the account's current ARR) of the
  distinct accounts with evidence for it, and their count; narrowed to a segment or touch tier, only
  the accounts in it count.
- NPS of a set of responses = % promoters (9-10) − % detractors (0-6), passives 7-8 counted in the
  total only; no response, no NPS (None). Every response in the period counts (a contact who answers
  twice counts twice). CSAT: the share of 4-5 answers and the mean score.
"""

import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, Exists, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter

from accounts.models import MONEY, Account, TouchTier
from segments.selectors import segment_ids_as_of, segment_names

from .filtersets import FeatureRequestFilterSet, SurveyResponseFilterSet, account_q
from .models import FeatureRequest, FeatureRequestEvidence, SurveyKind, SurveyResponse

PROMOTER_MIN, DETRACTOR_MAX = 9, 6
CSAT_SATISFIED_MIN = 4
PERIODS = {"month": TruncMonth, "quarter": TruncQuarter}
CHUNK = 5000
RANKINGS = {"arr": ("-asking_arr", "-account_count", "title"), "count": ("-account_count", "-asking_arr", "title"),
            "recent": ("-last_heard", "title"), "title": ("title", "id"), "status": ("status", "title")}


# --- feature requests -------------------------------------------------------------------------------
def request_filterset(*, workspace, filters=None, request=None):
    """The FilterSet of the ranked list; its choices are the workspace's (a request or a stand-in)."""
    queryset = FeatureRequest.objects.for_workspace(workspace)
    return FeatureRequestFilterSet(filters, queryset=queryset, request=request or SimpleNamespace(workspace=workspace))


def _asking_stats(workspace, accounts_condition):
    """Subquery annotations of a FeatureRequest: the distinct accounts asking (those meeting
    `accounts_condition`), their count and summed ARR, the evidence count and the latest date."""
    asking = Account.objects.for_workspace(workspace).filter(accounts_condition).filter(Exists(
        FeatureRequestEvidence.objects.for_workspace(workspace).filter(
            request=OuterRef(OuterRef("pk")), account=OuterRef("pk"))))
    per_request = asking.order_by().values("workspace")
    evidence = FeatureRequestEvidence.objects.for_workspace(workspace).filter(
        request=OuterRef("pk"), account__in=Account.objects.for_workspace(workspace).filter(accounts_condition))
    per_evidence = evidence.order_by().values("request")
    return {
        "account_count": Coalesce(Subquery(per_request.annotate(n=Count("pk")).values("n")[:1]), Value(0),
                                  output_field=IntegerField()),
        "asking_arr": Coalesce(Subquery(per_request.annotate(s=Sum("arr")).values("s")[:1]), Value(0),
                               output_field=DecimalField(**MONEY)),
        "evidence_count": Coalesce(Subquery(per_evidence.annotate(n=Count("pk")).values("n")[:1]), Value(0),
                                   output_field=IntegerField()),
        "last_heard": Subquery(per_evidence.annotate(d=Max("date")).values("d")[:1]),
    }


def request_ranking(*, workspace, filters=None, request=None, ranking="arr"):
    """The workspace's feature requests through the FilterSet, each with `account_count`,
    `asking_arr`, `evidence_count` and `last_heard`, ranked by ARR asking (or `ranking`).
    Invalid filters raise ValidationError naming the fields."""
    filterset = request_filterset(workspace=workspace, filters=filters, request=request)
    if filterset.is_bound and not filterset.is_valid():
        # Filters naming nothing (a segment of another workspace, an unknown tier) are an error
        # naming the field, never a silent "everything".
        raise ValidationError(filterset.errors)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    cleaned = filterset.form.cleaned_data if filterset.is_bound else {}
    order = RANKINGS.get(ranking.lstrip("-"), RANKINGS["arr"])
    if ranking.startswith("-") and ranking.lstrip("-") in ("title", "status"):
        order = tuple("-" + o for o in order)
    return queryset.annotate(**_asking_stats(workspace, account_q(cleaned))).order_by(*order, "id")


def request_detail(*, workspace, pk):
    """One request with its stats (every account counts)."""
    return (FeatureRequest.objects.for_workspace(workspace).annotate(**_asking_stats(workspace, Q()))
            .get(pk=pk))


def request_evidence(*, request):
    return (FeatureRequestEvidence.objects.for_workspace(request.workspace).filter(request=request)
            .select_related("account", "contact", "created_by__user").order_by("-date", "-id"))


def account_requests(*, workspace, account):
    """The requests an account asked for, with its latest evidence date: for its page."""
    return (FeatureRequest.objects.for_workspace(workspace).filter(evidence__account=account)
            .annotate(heard=Max("evidence__date"), times=Count("evidence")).order_by("-heard", "title"))


def requests_for_choice(*, workspace):
    return FeatureRequest.objects.for_workspace(workspace).order_by("title")


EXPORT_HEADERS = ["id", "title", "status", "external_id", "accounts", "asking_arr", "evidence", "last_heard",
                  "asking_accounts"]


def export_rows(*, workspace, filters=None, request=None, ranking="arr"):
    """(headers, rows) of the ranked list, the accounts asking named in one cell (two queries)."""
    requests = list(request_ranking(workspace=workspace, filters=filters, request=request, ranking=ranking))
    names = defaultdict(set)
    pairs = (FeatureRequestEvidence.objects.for_workspace(workspace).filter(request__in=[r.pk for r in requests])
             .values_list("request_id", "account__name").distinct())
    for request_id, name in pairs:
        names[request_id].add(name)
    rows = [[r.pk, r.title, r.status, r.external_id, r.account_count, r.asking_arr, r.evidence_count,
             r.last_heard.isoformat() if r.last_heard else "", "; ".join(sorted(names[r.pk]))] for r in requests]
    return EXPORT_HEADERS, rows


# --- survey responses and NPS --------------------------------------------------------------------------
def response_list(*, workspace, filters=None, request=None):
    queryset = SurveyResponse.objects.for_workspace(workspace).select_related("contact", "account")
    if filters is not None:
        filterset = SurveyResponseFilterSet(filters, queryset=queryset,
                                            request=request or SimpleNamespace(workspace=workspace))
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
    return queryset


def _counts(kind):
    if kind == SurveyKind.CSAT:
        return {"responses": Count("pk"), "satisfied": Count("pk", filter=Q(score__gte=CSAT_SATISFIED_MIN)),
                "score_sum": Sum("score")}
    return {"responses": Count("pk"), "promoters": Count("pk", filter=Q(score__gte=PROMOTER_MIN)),
            "detractors": Count("pk", filter=Q(score__lte=DETRACTOR_MAX)), "score_sum": Sum("score")}


def score_of(counts, kind=SurveyKind.NPS):
    """Fill in the figures of one group's counts: NPS (or CSAT share) and the mean score."""
    n = counts.get("responses") or 0
    row = dict(counts)
    row["average"] = round(counts.get("score_sum", 0) / n, 2) if n else None
    if kind == SurveyKind.CSAT:
        row["csat"] = round(100 * counts["satisfied"] / n, 1) if n else None
        row["score"] = row["csat"]
        return row
    row["passives"] = n - counts.get("promoters", 0) - counts.get("detractors", 0)
    row["nps"] = round(100 * (counts["promoters"] - counts["detractors"]) / n, 1) if n else None
    row["score"] = row["nps"]
    return row


def _responses(workspace, kind, start, end, accounts_condition=None):
    responses = SurveyResponse.objects.for_workspace(workspace).filter(kind=kind)
    if start:
        responses = responses.filter(responded_on__gte=start)
    if end:
        responses = responses.filter(responded_on__lte=end)
    if accounts_condition:
        responses = responses.filter(account__in=Account.objects.for_workspace(workspace).filter(accounts_condition))
    return responses


def period_starts(start, end, period):
    """The first days of the months (or quarters) from the one holding `start` to the one holding `end`."""
    step = 3 if period == "quarter" else 1
    month = ((start.month - 1) // step) * step + 1
    day = dt.date(start.year, month, 1)
    days = []
    while day <= end:
        days.append(day)
        month_index = day.month - 1 + step
        day = dt.date(day.year + month_index // 12, month_index % 12 + 1, 1)
    return days


def nps_trend(*, workspace, start, end, kind=SurveyKind.NPS, period="month", segment=None, tier=None):
    """One row per period from `start` to `end` (inclusive): counts and NPS (or CSAT) of the
    responses in it, of the accounts in `segment` / `tier` when given. Empty periods have score None."""
    trunc = PERIODS.get(period, TruncMonth)
    condition = account_q({"segment": segment, "tier": tier})
    rows = (_responses(workspace, kind, start, end, condition).annotate(period=trunc("responded_on"))
            .order_by().values("period").annotate(**_counts(kind)))
    found = {}
    for row in rows:
        day = row.pop("period")
        found[day.date() if isinstance(day, dt.datetime) else day] = row
    empty = {name: 0 for name in _counts(kind)}
    return [{"period": day, **score_of(found.get(day, empty), kind)} for day in period_starts(start, end, period)]


def nps_total(*, workspace, start, end, kind=SurveyKind.NPS, segment=None, tier=None):
    condition = account_q({"segment": segment, "tier": tier})
    counts = _responses(workspace, kind, start, end, condition).aggregate(**_counts(kind))
    counts = {key: value or 0 for key, value in counts.items()}
    return score_of(counts, kind)


def nps_by_group(*, workspace, start, end, kind=SurveyKind.NPS, group_by="segment"):
    """[{"key", "name", counts…, "nps"}] per segment (membership on `end`) or per touch tier. An
    account in two segments counts in both; one in none is in no segment row."""
    per_account = (_responses(workspace, kind, start, end).order_by().values("account_id", "account__touch_tier")
                   .annotate(**_counts(kind)))
    groups = defaultdict(lambda: {name: 0 for name in _counts(kind)})
    if group_by == "tier":
        labels = dict(TouchTier.choices)
        for row in per_account:
            key = row["account__touch_tier"] or ""
            for name in _counts(kind):
                groups[key][name] += row[name] or 0
        return [{"key": key, "name": str(labels.get(key, "—")), **score_of(groups[key], kind)}
                for key in [*labels, ""] if key in groups]
    membership = segment_ids_as_of(workspace=workspace, day=end)
    for row in per_account:
        for segment_id in membership.get(row["account_id"], ()):
            for name in _counts(kind):
                groups[segment_id][name] += row[name] or 0
    names = segment_names(workspace=workspace, ids=list(groups))
    return sorted(({"key": key, "name": names[key], **score_of(groups[key], kind)} for key in groups if key in names),
                  key=lambda r: r["name"])


def nps_report(*, workspace, query):
    """The NPS report of a cleaned voice.forms.NpsQueryForm, as the page and the API show it."""
    common = {"workspace": workspace, "start": query["start"], "end": query["end"], "kind": query["kind"]}
    narrowed = {"segment": query.get("segment"), "tier": query.get("tier") or None}
    return {
        "kind": query["kind"], "period": query["period"], "start": query["start"], "end": query["end"],
        "total": nps_total(**common, **narrowed),
        "periods": nps_trend(**common, **narrowed, period=query["period"]),
        "group_by": query["group_by"],
        "groups": nps_by_group(**common, group_by=query["group_by"]),
    }


def latest_nps(*, workspace, as_of, account_ids=None):
    """{account_id: (score, responded_on)}: each account's latest NPS answer on or before `as_of`
    (later answers are not seen: the health of a past day reads what was known then). One query."""
    rows = (SurveyResponse.objects.for_workspace(workspace)
            .filter(kind=SurveyKind.NPS, responded_on__lte=as_of)
            .order_by("account_id", "-responded_on", "-id").values_list("account_id", "score", "responded_on"))
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    latest = {}
    for account_id, score, day in rows.iterator(chunk_size=CHUNK):
        latest.setdefault(account_id, (score, day))
    return latest


def detractor_responses(*, workspace, as_of, within_days=30, max_score=DETRACTOR_MAX, account_ids=None):
    """{account_id: {"response", "score", "responded_on", "contact"}}: the account's latest NPS
    answer of `max_score` or less given in the `within_days` days up to and including `as_of`."""
    since = as_of - dt.timedelta(days=within_days - 1)
    rows = (SurveyResponse.objects.for_workspace(workspace)
            .filter(kind=SurveyKind.NPS, score__lte=max_score, responded_on__gte=since, responded_on__lte=as_of)
            .order_by("account_id", "-responded_on", "-id")
            .values_list("account_id", "pk", "score", "responded_on", "contact__name"))
    if account_ids is not None:
        rows = rows.filter(account_id__in=list(account_ids))
    found = {}
    for account_id, pk, score, day, contact in rows:
        found.setdefault(account_id, {"response": pk, "score": score, "responded_on": day, "contact": contact})
    return found


def account_responses(*, workspace, account, limit=10):
    return (SurveyResponse.objects.for_workspace(workspace).filter(account=account)
            .select_related("contact").order_by("-responded_on", "-id")[:limit])
