"""Reads of accounts, contacts and touchpoints. Every function takes the workspace explicitly."""

from django.contrib.auth import get_user_model

from workspaces.models import Membership

from .filtersets import AccountFilterSet
from .models import Account, ChurnReasonCategory, Contact, LifecycleStage, Touchpoint

User = get_user_model()

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


# What an account row of the API list reads besides the account's own columns.
_OWNER_AND_STAGE = {
    "owner__user__username": "username", "owner__user__first_name": "first_name",
    "owner__user__last_name": "last_name", "stage__name": "stage_name",
}


def account_rows(*, workspace, ids):
    """The accounts `ids` (a page of ids), in that order, as plain dicts for the API list.

    One query for the accounts with their owner's and stage's names, one for the tag names; no
    model instance per row. `owner` and `stage` are instances, one per distinct owner or stage, so
    that they read as everywhere else (e.g. `Membership.display_name`); `tags` is a list of names.
    """
    if not ids:
        return []
    columns = [field.attname for field in Account._meta.concrete_fields]
    found = Account.objects.for_workspace(workspace).filter(pk__in=ids).values(*columns, *_OWNER_AND_STAGE)
    by_id = {row["id"]: row for row in found}
    tags = {account_id: [] for account_id in by_id}
    names = (
        Account.tags.through.objects.filter(account_id__in=list(by_id))
        .order_by("tag__name", "tag_id")  # Tag's own ordering, as `account.tags.all()` gives them
        .values_list("account_id", "tag__name")
    )
    for account_id, name in names:
        tags[account_id].append(name)
    owners, stages_by_id, rows = {}, {}, []
    for account_id in ids:
        row = by_id.get(account_id)
        if row is None:  # deleted since the page was counted
            continue
        joined = {key: row.pop(column) for column, key in _OWNER_AND_STAGE.items()}
        if row["owner_id"] is not None and row["owner_id"] not in owners:
            user = User(username=joined["username"], first_name=joined["first_name"], last_name=joined["last_name"])
            owners[row["owner_id"]] = Membership(pk=row["owner_id"], workspace=workspace, user=user)
        if row["stage_id"] is not None and row["stage_id"] not in stages_by_id:
            stages_by_id[row["stage_id"]] = LifecycleStage(pk=row["stage_id"], workspace=workspace,
                                                           name=joined["stage_name"])
        row["owner"] = owners.get(row["owner_id"])
        row["stage"] = stages_by_id.get(row["stage_id"])
        row["tags"] = tags[account_id]
        rows.append(row)
    return rows


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


# --- churn reasons: what other apps read (the revenue report groups churn by these) ---------------
def churn_reasons(*, workspace, include_archived=True):
    """The workspace's churn reasons by position; archived ones too unless told otherwise."""
    reasons = ChurnReasonCategory.objects.for_workspace(workspace)
    return reasons if include_archived else reasons.filter(archived=False)


def churn_reason_names(workspace):
    """{code: name} of every churn reason of the workspace, archived ones included (past churn keeps
    its reason). An account's code missing here (data older than the reasons) reads as the code itself."""
    return dict(ChurnReasonCategory.objects.for_workspace(workspace).values_list("code", "name"))


def onboarding_failure_codes(workspace):
    """The codes whose churn counts as onboarding failure (archived ones included)."""
    return set(ChurnReasonCategory.objects.for_workspace(workspace)
               .filter(counts_as_onboarding_failure=True).values_list("code", flat=True))


def churn_reason_choices(workspace, *, current=""):
    """(code, name) of the reasons a churn may name now, by position: the reasons not archived, plus
    `current` (an account's own reason, even archived, so that editing it keeps it)."""
    rows = ChurnReasonCategory.objects.for_workspace(workspace).values_list("code", "name", "archived")
    return [(code, name) for code, name, archived in rows if not archived or code == current]
