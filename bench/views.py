"""The baseline for the API's framework overhead: the same page of accounts, by hand.

It authenticates the same token, runs the same filter, order, count and page query, and returns the
same JSON document as `GET /api/v1/accounts/` — every field of every account, the owner and stage
as `{"id", "name"}`, the tag names, `count`/`next`/`previous` — built from `.values()` rows by plain
Python: no DRF, no FilterSet, no serializer. The ratio of the API's latency to this view's is what
the framework costs.

(Until 2026-11-30 it returned 11 of the 26 fields, 12 KB where the API returns 32 KB: the ratio
then also counted the reading and encoding of the fields this view left out.)
"""

from django.http import JsonResponse

from accounts.models import Account
from workspaces.models import ApiToken

PAGE_SIZE = 50
COLUMNS = ["id", "name", "external_id", "domain", "owner_id", "arr", "plan", "licensed_seats", "contract_start",
           "renewal_date", "stage_id", "stage_entered_at", "status", "churned_on", "churn_reason", "churn_note",
           "attributes", "touch_tier", "health_score", "health_band", "health_change_30d", "created_at",
           "updated_at"]
JOINED = ["owner__user__username", "owner__user__first_name", "owner__user__last_name", "stage__name"]


def _owner(row):
    if row["owner_id"] is None:
        return None
    full = f"{row['owner__user__first_name']} {row['owner__user__last_name']}".strip()
    return {"id": row["owner_id"], "name": full or row["owner__user__username"]}


def account_page_values(request):
    header = request.headers.get("Authorization", "")
    key = header.removeprefix("Token ").strip()
    token = ApiToken.objects.active().select_related("membership").filter(key_hash=ApiToken.hash_key(key)).first()
    if token is None:
        return JsonResponse({"detail": "Invalid token."}, status=401)
    accounts = Account.objects.for_workspace(token.membership.workspace_id)
    if request.GET.get("owner"):
        accounts = accounts.filter(owner_id=request.GET["owner"])
    if request.GET.get("touch_tier"):
        accounts = accounts.filter(touch_tier=request.GET["touch_tier"])
    accounts = accounts.order_by("-health_score", "-id")
    page = max(int(request.GET.get("page", 1)), 1)
    start = (page - 1) * PAGE_SIZE
    rows = list(accounts.values(*COLUMNS, *JOINED)[start:start + PAGE_SIZE])
    tags = {row["id"]: [] for row in rows}
    for account_id, name in (Account.tags.through.objects.filter(account_id__in=list(tags))
                             .order_by("tag__name", "tag_id").values_list("account_id", "tag__name")):
        tags[account_id].append(name)
    results = []
    for row in rows:
        out = {column: row[column] for column in COLUMNS if column not in ("owner_id", "stage_id")}
        out["owner"] = _owner(row)
        out["stage"] = None if row["stage_id"] is None else {"id": row["stage_id"], "name": row["stage__name"]}
        out["tags"] = tags[row["id"]]
        results.append(out)
    count = accounts.count()
    base = request.build_absolute_uri(request.path)
    query = request.GET.copy()
    query["page"] = page + 1
    following = f"{base}?{query.urlencode()}" if start + PAGE_SIZE < count else None
    query["page"] = page - 1
    previous = f"{base}?{query.urlencode()}" if page > 1 else None
    return JsonResponse({"count": count, "next": following, "previous": previous, "results": results})
