"""The account list's export button: the list as filtered (every page), in CSV or Excel, never
another workspace's accounts."""

import csv
import io
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AccountStatus
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(ws, csm, csm2, other_ws, outsider):
    for i in range(60):  # more than one page of the list
        AccountFactory(workspace=ws, owner=csm, name=f"Big {i:02d} KK", arr=Decimal("5000000"))
    AccountFactory(workspace=ws, owner=csm2, name="Big but not mine KK", arr=Decimal("5000000"))
    AccountFactory(workspace=ws, owner=csm, name="Small KK", arr=Decimal("100000"))
    AccountFactory(workspace=ws, owner=csm, name="Big churned KK", arr=Decimal("5000000"),
                   status=AccountStatus.CHURNED, churned_on=ws.today())
    AccountFactory(workspace=other_ws, owner=outsider, name="Big other workspace KK", arr=Decimal("9000000"))


def _export_links(page):
    return {kind: unescape(href) for href, kind in
            re.findall(r'href="([^"]+)" data-testid="export-(csv|xlsx)"', page)}


def _csv_names(response):
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    return sorted(row["name"] for row in rows)


def test_export_holds_exactly_the_filtered_list(login, csm, book):
    client = login(csm)
    query = {"owner": csm.pk, "status": "active", "arr_min": "1000000", "sort": "-arr", "page": "2"}
    listing = client.get(reverse("accounts:list"), query)
    assert listing.status_code == 200
    shown = sorted(a.name for a in listing.context["paginator"].object_list)
    assert len(shown) == 60 and "Small KK" not in shown and "Big churned KK" not in shown
    links = _export_links(listing.content.decode())
    assert set(links) == {"csv", "xlsx"} and "page=" not in links["csv"] and "sort=" not in links["csv"]
    exported = client.get(links["csv"])
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert _csv_names(exported) == shown
    workbook = load_workbook(io.BytesIO(client.get(links["xlsx"]).content))
    sheet = workbook.active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    names = sorted(row[header.index("name")] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == shown


def test_unfiltered_export_is_the_whole_workspace_and_nothing_else(login, viewer, book):
    client = login(viewer)  # every member reads, so every member may export what they read
    listing = client.get(reverse("accounts:list"))
    links = _export_links(listing.content.decode())
    names = _csv_names(client.get(links["csv"]))
    assert len(names) == listing.context["paginator"].count == 63
    assert "Big other workspace KK" not in names


def test_another_workspaces_member_exports_only_their_own(login, outsider, csm, book):
    client = login(outsider)
    links = _export_links(client.get(reverse("accounts:list"), {"arr_min": "1000000"}).content.decode())
    assert _csv_names(client.get(links["csv"])) == ["Big other workspace KK"]
    # Naming a member of another workspace is an error, not a way in (and the button is not offered).
    refused = client.get(reverse("accounts:list"), {"owner": csm.pk})
    assert _export_links(refused.content.decode()) == {}
    assert client.get(reverse("imports:export", args=["accounts", "csv"]), {"owner": csm.pk}).status_code == 400
