"""The baseline for the API's framework overhead: the same page of accounts, by hand.

It authenticates the same token, runs the same filter, order, count and page query, and returns
`.values()` as JSON — no DRF, no FilterSet, no serializer. The ratio of the API's latency to this
view's is what the framework costs.
"""

from django.http import JsonResponse

from accounts.models import Account
from workspaces.models import ApiToken

PAGE_SIZE = 50
FIELDS = ["id", "name", "external_id", "owner_id", "arr", "touch_tier", "health_score", "health_band",
          "renewal_date", "status", "stage_id"]


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
    rows = list(accounts.values(*FIELDS)[start:start + PAGE_SIZE])
    return JsonResponse({"count": accounts.count(), "results": rows})
