"""Reads of accounts, contacts and touchpoints. Every function takes the workspace explicitly."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext as _

from workspaces.models import Membership

from .filtersets import AccountFilterSet
from .models import Account, ChurnReasonCategory, Contact, ContractVersion, LifecycleStage, Touchpoint

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


# --- values of accounts as they were on a day (no look-ahead) ------------------------------------
# Contract lines whose unit counts seats (case-insensitive; "ID" is how Japanese contracts count users).
SEAT_UNITS = {"seat", "seats", "id", "ids", "user", "users", "license", "licenses", "licence", "licences",
              "席", "ライセンス", "ユーザー", "アカウント"}
AS_OF_COLUMNS = ["arr", "licensed_seats", "renewal_date", "contract_start", "owner_id", "status", "churned_on",
                 "plan", "attributes"]


def lines_known_on(*, workspace, day):
    """The contract lines as they were known on `day`: the versions (ContractVersion) valid that day,
    valid_from <= day < valid_to. A line edited later reads its values of that day; a line deleted
    later still counts; a line created later, or a line known only from after the day (e.g. the
    migration that introduced versions recorded the lines of then from that day), does not exist.
    Each row has the line's fields (`line_id` empty once the line is deleted)."""
    return ContractVersion.objects.for_workspace(workspace).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=day), valid_from__lte=day)


def attributes_as_of(*, workspace, day, account_ids=None):
    """What was known of each account's tracked fields on `day`: a DataFrame indexed by account id.

    Columns `arr` and `licensed_seats` (float, NaN = unknown), `renewal_date` and `contract_start`
    (datetime.date or None), `owner_id` (float id, NaN = no owner or unknown), `status`, `churned_on`,
    `plan`, `attributes` (dict of the custom attributes, None = unknown), and `known_<column>`
    (bool: the value was known on the day, from the lines or the change log).

    - From the contract lines where an account had lines known on the day (`lines_known_on`: each
      line as its version of that day said, never as edited since; a line deleted since still
      counts, one created since does not): ARR = 12 × the MRR of its lines running on the day (from
      the first line's start on), seats = the quantity of its running seat lines (from the first seat
      line's start on), the next renewal = the earliest renewal date (else end date) on or after the
      day among the running lines, contract start = the first line's start.
    - Otherwise (and for owner, status, plan, attributes): the change log (AccountChange), the latest
      value on or before the day. Before an account's first row nothing is known.

    Set-based: three queries whatever the number of accounts.
    """
    # Imported here: pandas is heavy and most readers of this module do not need it.
    import pandas as pd

    from .models import ATTRIBUTE_PREFIX, AccountChange

    accounts = Account.objects.for_workspace(workspace)
    changes = AccountChange.objects.for_workspace(workspace).filter(valid_from__lte=day)
    lines = lines_known_on(workspace=workspace, day=day)
    if account_ids is not None:
        account_ids = list(account_ids)
        accounts, changes, lines = (accounts.filter(pk__in=account_ids), changes.filter(account_id__in=account_ids),
                                    lines.filter(account_id__in=account_ids))
    index = pd.Index(list(accounts.order_by().values_list("pk", flat=True)), name="id")
    out = pd.DataFrame(index=index, columns=AS_OF_COLUMNS, dtype=object)

    # 1. The change log: the latest row per account and field on or before the day.
    if connection.vendor == "postgresql":  # only the latest row per account and field leaves the database
        changes = changes.order_by("account_id", "field", "-valid_from", "-id").distinct("account_id", "field")
    else:
        changes = changes.order_by()
    log = pd.DataFrame.from_records(
        list(changes.values_list("account_id", "field", "value", "owner_id", "valid_from", "id")),
        columns=["account_id", "field", "value", "owner_id", "valid_from", "id"])
    log = log.sort_values(["valid_from", "id"]).drop_duplicates(["account_id", "field"], keep="last")
    known = pd.Series(index.isin(log["account_id"].unique()), index=index)

    def logged(field):
        rows = log[log["field"] == field].set_index("account_id")
        return (rows["owner_id"] if field == "owner" else rows["value"]).reindex(index)

    out["arr"] = pd.to_numeric(logged("arr"), errors="coerce").astype(float)
    out["licensed_seats"] = pd.to_numeric(logged("licensed_seats"), errors="coerce").astype(float)
    for field in ("renewal_date", "contract_start", "churned_on"):
        out[field] = logged(field).map(_day, na_action="ignore").astype(object)
    out["owner_id"] = pd.to_numeric(logged("owner"), errors="coerce").astype(float)
    out["status"] = logged("status").astype(object)
    out["plan"] = logged("plan").astype(object)
    attrs = log[log["field"].str.startswith(ATTRIBUTE_PREFIX) & log["value"].notna()]
    by_account = {}
    for account_id, field, value in zip(attrs["account_id"], attrs["field"], attrs["value"], strict=True):
        by_account.setdefault(account_id, {})[field[len(ATTRIBUTE_PREFIX):]] = value
    out["attributes"] = pd.Series([by_account.get(a, {}) if k else None for a, k in zip(index, known, strict=True)],
                                  index=index, dtype=object)
    for column in AS_OF_COLUMNS:
        out[f"known_{column}"] = known
    # An owner or renewal date known to be empty is known; NaN in `arr`/seats from a known empty value stays NaN.

    # 2. The contract lines known on the day, where an account had them.
    frame = pd.DataFrame.from_records(
        list(lines.order_by().values_list("account_id", "mrr", "quantity", "unit", "start_date", "end_date",
                                          "renewal_date")),
        columns=["account_id", "mrr", "quantity", "unit", "start", "end", "renewal"])
    frame = frame[frame["account_id"].isin(index)]
    if not frame.empty:
        when = pd.Timestamp(day)
        start, end = pd.to_datetime(frame["start"]), pd.to_datetime(frame["end"])
        running = (start <= when) & (end.isna() | (end > when))
        account = frame["account_id"]
        first = start.groupby(account).min().reindex(index)
        started = (first <= when).fillna(False).astype(bool)
        mrr = pd.to_numeric(frame["mrr"], errors="coerce").astype(float).where(running, 0.0)
        arr = (mrr.groupby(account).sum() * 12).reindex(index)
        out.loc[started, "arr"] = arr[started].round(2)
        out.loc[started, "known_arr"] = True
        seat = frame["unit"].fillna("").str.strip().str.lower().isin(SEAT_UNITS) & frame["quantity"].notna()
        if seat.any():
            first_seat = start[seat].groupby(account[seat]).min().reindex(index)
            seats_started = (first_seat <= when).fillna(False).astype(bool)
            quantity = pd.to_numeric(frame["quantity"], errors="coerce").astype(float).where(running & seat, 0.0)
            seats = quantity[seat].groupby(account[seat]).sum().reindex(index)
            out.loc[seats_started, "licensed_seats"] = seats[seats_started]
            out.loc[seats_started, "known_licensed_seats"] = True
        renews = pd.to_datetime(frame["renewal"]).fillna(end)
        upcoming = running & (renews >= when)
        nxt = renews[upcoming].groupby(account[upcoming]).min().reindex(index)
        # Lines running that day say when they renew; where none says, the change log's date stands.
        from_lines = started & nxt.notna()
        out.loc[from_lines, "renewal_date"] = nxt[from_lines].dt.date
        out.loc[from_lines, "known_renewal_date"] = True
        has_lines = first.notna()
        out.loc[has_lines, "contract_start"] = first[has_lines].dt.date
        out.loc[has_lines, "known_contract_start"] = True
    out["arr"] = out["arr"].astype(float)
    out["licensed_seats"] = out["licensed_seats"].astype(float)
    out["owner_id"] = out["owner_id"].astype(float)
    for column in ("renewal_date", "contract_start", "churned_on", "status", "plan"):
        out[column] = out[column].where(out[column].notna(), None)
    return out


def _day(value):
    import datetime as dt

    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def contacts_by_reference(*, workspace, references):
    """{reference: Contact or an error message} for the references a spreadsheet gives for contacts: a
    contact's external ID, else its e-mail (case-insensitive). Two queries whatever their number."""
    references = [r for r in references if r]
    contacts = Contact.objects.for_workspace(workspace)
    by_external = {c.external_id: c for c in contacts.filter(external_id__in=references).exclude(external_id="")}
    emails = [r for r in references if "@" in r]
    by_email = {}
    for contact in contacts.filter(email__in=emails + [e.lower() for e in emails]):
        by_email.setdefault(contact.email.lower(), []).append(contact)
    found = {}
    for reference in references:
        if reference in by_external:
            found[reference] = by_external[reference]
        elif len(by_email.get(reference.lower(), [])) == 1:
            found[reference] = by_email[reference.lower()][0]
        elif by_email.get(reference.lower()):
            found[reference] = _("Several contacts have this e-mail; use the contact's external ID.")
        else:
            found[reference] = _("No contact with this external ID or e-mail.")
    return found
