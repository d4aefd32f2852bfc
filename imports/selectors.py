"""Reads for imports and exports. Every function takes the workspace explicitly."""

import json
from types import SimpleNamespace

from django.core.exceptions import ValidationError

from accounts.filtersets import AccountFilterSet
from accounts.models import Account, Contact, Contract, Touchpoint

from .columns import ACCOUNTS, CONTACTS, CONTRACTS, TOUCHPOINTS, export_columns
from .importers import MemberDirectory
from .models import ImportJob, ImportMapping
from .readers import FileError, read_file  # noqa: F401 (for capabilities that read sheets of their own)
from .values import CellError, clean_text, is_blank, parse_date, parse_int  # noqa: F401 (the same)

# Other capabilities read their own small sheets (e.g. survey responses) with the same readers and
# cell parsers as the imports (encodings, Japanese dates, full-width digits): read_file(data,
# filename=) -> Sheet(headers, rows of (row number, cells)), FileError; parse_date, parse_int,
# clean_text, is_blank, CellError.

ITERATOR_CHUNK = 2000


def saved_mapping(*, workspace, object_type):
    saved = ImportMapping.objects.for_workspace(workspace).filter(object_type=object_type).first()
    return saved.columns if saved else {}


def recent_jobs(*, workspace, limit=20):
    return ImportJob.objects.for_workspace(workspace).select_related("created_by__user")[:limit]


def _account_ref(account):
    return [account.external_id, account.name]


def export_table(*, workspace, object_type, filters=None, request=None):
    """(headers, rows) of one object type, in canonical columns, so that the file imports back as is.

    For accounts, `filters` (a query dict) goes through the account list's FilterSet; filters that
    do not validate raise ValidationError naming the field rather than silently exporting everything.
    """
    headers = [column.name for column in export_columns(object_type)]
    tz = workspace.tz
    member = MemberDirectory.export_value
    if object_type == ACCOUNTS:
        accounts = Account.objects.for_workspace(workspace)
        if filters:
            filterset = AccountFilterSet(filters, queryset=accounts,
                                         request=request or SimpleNamespace(workspace=workspace))
            if not filterset.is_valid():
                raise ValidationError(filterset.errors)
            accounts = filterset.qs
        accounts = (accounts.select_related("owner__user", "stage").prefetch_related("tags")
                    .order_by("name", "id").distinct())
        rows = (
            [a.external_id, a.name, a.domain, member(a.owner), a.arr, a.plan, a.licensed_seats, a.contract_start,
             a.renewal_date, a.stage.name if a.stage else "", a.status, a.churned_on, a.churn_reason, a.churn_note,
             ", ".join(sorted(tag.name for tag in a.tags.all())),
             json.dumps(a.attributes, ensure_ascii=False, sort_keys=True) if a.attributes else ""]
            for a in accounts.iterator(chunk_size=ITERATOR_CHUNK)
        )
    elif object_type == CONTACTS:
        contacts = Contact.objects.for_workspace(workspace).select_related("account").order_by("account__name", "id")
        rows = (
            [c.external_id, *_account_ref(c.account), c.name, c.email, c.title, c.role, c.is_key_person, c.left_on]
            for c in contacts.iterator(chunk_size=ITERATOR_CHUNK)
        )
    elif object_type == TOUCHPOINTS:
        touchpoints = (Touchpoint.objects.for_workspace(workspace).select_related("account", "author__user")
                       .order_by("occurred_at", "id"))
        rows = (
            [t.external_id, *_account_ref(t.account), t.occurred_at.astimezone(tz), t.channel, t.summary,
             t.sentiment, member(t.author)]
            for t in touchpoints.iterator(chunk_size=ITERATOR_CHUNK)
        )
    elif object_type == CONTRACTS:
        contracts = (Contract.objects.for_workspace(workspace).select_related("account")
                     .order_by("account__name", "start_date", "id"))
        rows = (
            [c.external_id, *_account_ref(c.account), c.product, c.mrr, c.quantity, c.unit, c.start_date, c.end_date,
             c.renewal_date]
            for c in contracts.iterator(chunk_size=ITERATOR_CHUNK)
        )
    else:
        raise KeyError(object_type)
    return headers, rows
