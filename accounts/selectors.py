"""Reads of accounts, contacts and touchpoints. Every function takes the workspace explicitly."""

from .filtersets import AccountFilterSet
from .models import Account, Contact, LifecycleStage, Touchpoint

ACCOUNT_ORDERINGS = {
    # public name: database ordering (always ending in a unique key, so pages are stable)
    "name": ["name", "id"],
    "-name": ["-name", "-id"],
    "arr": ["arr", "id"],
    "-arr": ["-arr", "-id"],
    "renewal_date": ["renewal_date", "id"],
    "-renewal_date": ["-renewal_date", "-id"],
    "health_score": ["health_score", "id"],
    "-health_score": ["-health_score", "-id"],
    "updated_at": ["updated_at", "id"],
    "-updated_at": ["-updated_at", "-id"],
}


def account_list(*, workspace, filters=None, request=None, ordering="name"):
    accounts = Account.objects.for_workspace(workspace).select_related("owner__user", "stage")
    if filters is not None:
        accounts = AccountFilterSet(filters, queryset=accounts, request=request).qs
    return accounts.order_by(*ACCOUNT_ORDERINGS.get(ordering, ACCOUNT_ORDERINGS["name"]))


def account_timeline(*, account, limit=100):
    return (
        Touchpoint.objects.for_workspace(account.workspace)
        .filter(account=account)
        .select_related("author__user")
        .prefetch_related("contacts")
        .order_by("-occurred_at", "-id")[:limit]
    )


def account_contacts(*, account):
    return Contact.objects.for_workspace(account.workspace).filter(account=account)


def stages(*, workspace):
    return LifecycleStage.objects.for_workspace(workspace)
