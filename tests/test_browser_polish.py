"""In a real browser: the account list's export downloads the list as filtered; a segment's rules
read as a nested list; pages ask for no missing favicon."""

import csv
import io
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from segments.services import save_segment

from .factories import AccountFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_export_the_filtered_account_list(browser_login, ws, csm, csm2, other_ws, outsider):
    AccountFactory(workspace=ws, owner=csm, name="Fuji Trading KK", arr=Decimal("3000000"))
    AccountFactory(workspace=ws, owner=csm, name="Fuji Small KK", arr=Decimal("200000"))
    AccountFactory(workspace=ws, owner=csm2, name="Sakura Foods KK", arr=Decimal("3000000"))
    AccountFactory(workspace=other_ws, owner=outsider, name="Fuji Elsewhere KK", arr=Decimal("3000000"))
    missing = []
    page = browser_login(csm)
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/accounts/")
    page.fill("form.filters input[name=q]", "Fuji")
    page.fill("form.filters input[name=arr_min]", "1000000")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.accounts tbody tr")
    expect(rows).to_have_count(1)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("accounts-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        names = [row["name"] for row in csv.DictReader(io.StringIO(handle.read()))]
    assert names == ["Fuji Trading KK"]
    assert page.locator('link[rel="icon"]').count() == 1
    assert missing == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_segment_rules_read_as_a_nested_list(browser_login, ws, manager):
    rules = {"op": "and", "conditions": [
        {"field": "arr", "op": "gte", "value": 1000000},
        {"op": "or", "conditions": [{"field": "touch_tier", "op": "in", "value": ["high"]},
                                    {"field": "seats", "op": "gt", "value": 50}]}]}
    segment = save_segment(workspace=ws, actor=manager, name="Big or close", rules=rules)
    page = browser_login(manager)
    page.goto(f"/segments/{segment.pk}/")
    panel = page.locator("section.segment-rules")
    expect(panel.locator("> ul.rule-tree > li")).to_have_count(2)
    expect(panel.locator("> ul.rule-tree > li").first).to_have_text("ARR ≥ ¥1,000,000")
    nested = panel.locator("ul.rule-tree ul.rule-tree > li")
    expect(nested).to_have_text(["Touch tier is High touch", "Seats > 50"])
    expect(panel).to_contain_text("Any of:")
