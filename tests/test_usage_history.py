"""Loading usage history from files, rebuilding rollups in one pass, retention from today, and the
"raw events gone" report: service, command, API and page."""

import datetime as dt
import io
import json
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from usage.models import DailyAccountUsage, HistoryImport, UsageEvent
from usage.nightly import step as nightly_usage_step
from usage.services import update_ingest_settings
from usage.services.history import HistoryError, check_to_file, import_history, rebuild_rollups, start_import
from usage.services.rollups import enforce_retention
from workspaces.policy import SYSTEM

from .factories import AccountFactory

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def today(ws):
    return ws.today()


def at(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TOKYO)


def csv_file(rows, header="message_id,timestamp,account,user_id,event"):
    lines = [header] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def load(ws, data, fmt="csv", actor=SYSTEM):
    return start_import(workspace=ws, actor=actor, chunks=[data], filename=f"h.{fmt}")


def rollups(ws):
    return sorted((r.account_id, r.day, r.events, r.active_users, r.event_counts)
                  for r in DailyAccountUsage.all_workspaces.filter(workspace=ws))


def events(ws):
    return sorted(UsageEvent.all_workspaces.filter(workspace=ws).values_list("message_id", "account_id", "user_id"))


# --- Service ------------------------------------------------------------------------------------

def test_hand_computed_rollups_after_a_csv_import(ws, account, today):
    other = AccountFactory(workspace=ws, external_id="crm-other")
    d1, d2 = today - dt.timedelta(days=3), today - dt.timedelta(days=2)
    data = csv_file([
        ("m1", at(d1, 0, 5).isoformat(), "crm-sakura", "u1", "Report Exported"),
        ("m2", at(d1, 23, 59).isoformat(), "crm-sakura", "u2", "Dashboard Viewed"),
        ("m3", at(d1, 12).isoformat(), "crm-sakura", "u1", "Report Exported"),
        ("m4", at(d2, 9).isoformat(), "crm-other", "", "Login"),
        ("m5", at(d2, 10).isoformat(), "crm-unknown", "u9", "Login"),  # no such account: kept, unmatched
    ])
    job = load(ws, data)
    assert job.status == "done", job.failure
    assert job.summary["rows"] == 5 and job.summary["inserted"] == 5 and job.summary["duplicates"] == 0
    assert job.summary["days_rebuilt"] == 2 and job.summary["days_without_events"] == []
    assert rollups(ws) == sorted([
        (account.pk, d1, 3, 2, {"Report Exported": 2, "Dashboard Viewed": 1}),
        (other.pk, d2, 1, 0, {"Login": 1}),
    ])
    assert UsageEvent.all_workspaces.get(workspace=ws, message_id="m5").account_id is None


def test_the_same_file_twice_stores_the_same_rows(ws, account, today):
    day = today - dt.timedelta(days=5)
    data = csv_file([(f"m{i}", at(day, 9, i).isoformat(), "crm-sakura", f"u{i % 3}", "Login") for i in range(30)]
                    + [("m1", at(day, 9, 1).isoformat(), "crm-sakura", "u1", "Login")])  # repeated inside the file
    first = load(ws, data)
    before_events, before_rollups = events(ws), rollups(ws)
    second = load(ws, data)
    assert first.summary["inserted"] == 30 and first.summary["duplicates"] == 1
    assert second.summary["inserted"] == 0 and second.summary["duplicates"] == 31
    assert events(ws) == before_events and len(before_events) == 30
    assert rollups(ws) == before_rollups == [(account.pk, day, 30, 3, {"Login": 30})]


def test_rollups_after_import_equal_those_the_nightly_builds_from_the_same_events(ws, account, today):
    other = AccountFactory(workspace=ws, external_id="crm-other")
    rows = []
    for back in range(0, 12):
        day = today - dt.timedelta(days=back)
        for i in range(back % 4 + 1):
            rows.append((f"{back}-{i}", at(day, (i * 7) % 24, i).isoformat(),
                         "crm-sakura" if i % 2 else "crm-other", f"u{i % 3}", ["Login", "Export"][i % 2]))
    load(ws, csv_file(rows))
    imported = rollups(ws)
    assert imported
    DailyAccountUsage.all_workspaces.filter(workspace=ws).delete()
    for back in range(11, -1, -1):  # the nightly, day by day
        nightly_usage_step(workspace=ws, as_of=today - dt.timedelta(days=back))
    assert rollups(ws) == imported
    assert {r[0] for r in imported} == {account.pk, other.pk}


def test_ndjson_in_the_segment_shape_with_identify_and_group(ws, account, today):
    day = today - dt.timedelta(days=1)
    lines = [
        {"type": "group", "messageId": "g1", "userId": "u7", "groupId": "crm-sakura", "timestamp": at(day, 8).isoformat()},
        {"type": "track", "messageId": "t1", "userId": "u7", "event": "Report Exported",  # no groupId: the user's
         "timestamp": at(day, 9).isoformat(), "properties": {"rows": 10}},
        {"type": "page", "messageId": "p1", "userId": "u8", "name": "Home", "context": {"groupId": "crm-sakura"},
         "timestamp": at(day, 10).isoformat()},
    ]
    job = load(ws, "\n".join(json.dumps(line) for line in lines).encode(), fmt="ndjson")
    assert job.status == "done", job.failure
    assert events(ws) == [("p1", account.pk, "u8"), ("t1", account.pk, "u7")]
    assert rollups(ws) == [(account.pk, day, 2, 2, {"Report Exported": 1, "Home": 1})]
    assert UsageEvent.all_workspaces.get(message_id="t1").properties == {"rows": 10}


@pytest.mark.parametrize("row, line, field", [
    (("", "2025-01-01T00:00:00Z", "crm-sakura", "u1", "Login"), 3, "message_id"),
    (("m2", "yesterday", "crm-sakura", "u1", "Login"), 3, "timestamp"),
    (("m2", "1999-01-01T00:00:00Z", "crm-sakura", "u1", "Login"), 3, "timestamp"),
    (("m2", "2025-01-01T00:00:00Z", "crm-sakura", "u1", ""), 3, "event"),
    (("m2", "9999-12-31T23:00:00-05:00", "crm-sakura", "u1", "Login"), 3, "timestamp"),
    (("m2", "2025-01-01T00:00:00+15:00", "crm-sakura", "u1", "Login"), 3, "timestamp"),
    (("m2", "2025-01-01T00:00:00Z", "crm-sakura", "u1", "x" * 201), 3, "event"),
    (("m2", "2025-01-01T00:00:00Z", "", "", "Login"), 3, "account"),
])
def test_a_bad_row_refuses_the_file_naming_line_and_field(ws, account, row, line, field):
    data = csv_file([("m1", "2025-01-01T00:00:00Z", "crm-sakura", "u1", "Login"), row])
    with pytest.raises(HistoryError) as caught:
        load(ws, data)
    assert (caught.value.errors[0]["line"], caught.value.errors[0]["field"]) == (line, field)
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 0
    assert HistoryImport.all_workspaces.filter(workspace=ws).count() == 0


def test_optional_columns_type_and_properties(ws, account, today):
    data = csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Home", "page", '"{""rows"": 3}"'),
                     ("b", at(today, 10).isoformat().replace("+09:00", ""), "crm-sakura", "u1", "Login", "", "")],
                    header="message_id,timestamp,account,user_id,event,event_type,properties")
    job = load(ws, data)
    assert job.status == "done", job.failure
    stored = {e.message_id: e for e in UsageEvent.all_workspaces.filter(workspace=ws)}
    assert (stored["a"].event_type, stored["a"].properties) == ("page", {"rows": 3})
    assert (stored["b"].event_type, stored["b"].properties) == ("track", {})
    # a timestamp without an offset is UTC
    assert stored["b"].occurred_at == dt.datetime.combine(today, dt.time(10), tzinfo=dt.UTC)
    with pytest.raises(HistoryError) as caught:
        load(ws, csv_file([("c", at(today, 9).isoformat(), "crm-sakura", "u1", "Home", "click", "")],
                          header="message_id,timestamp,account,user_id,event,event_type,properties"))
    assert caught.value.errors[0]["field"] == "event_type"


def test_missing_columns_and_bad_ndjson_are_named():
    with pytest.raises(HistoryError) as caught:
        check_to_file([b"message_id,timestamp,event\nm1,2025-01-01T00:00:00Z,Login\n"], file_format="csv")
    assert caught.value.errors[0]["line"] == 1 and caught.value.errors[0]["field"] == "account"
    with pytest.raises(HistoryError) as caught:
        check_to_file([b'{"type":"track","messageId":"a","userId":"u","event":"x","timestamp":"2025-01-01T00:00:00Z"}\n'
                       b'{not json\n'], file_format="ndjson")
    assert caught.value.errors[0]["line"] == 2


# --- Retention and "raw events gone" -------------------------------------------------------------

def test_retention_counts_from_today_not_from_the_recomputed_day(ws, account, today):
    update_ingest_settings(workspace=ws, actor=SYSTEM, retention_days=30)
    kept_day, old_day = today - dt.timedelta(days=29), today - dt.timedelta(days=31)
    load(ws, csv_file([("kept", at(kept_day, 9).isoformat(), "crm-sakura", "u1", "Login"),
                       ("old", at(old_day, 9).isoformat(), "crm-sakura", "u1", "Login"),
                       ("now", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")]))
    # A recompute of a day far in the past: counted from that day, the line would be 30 days before
    # it (nothing deleted); counted from that day forwards it could delete "now". From today: only "old".
    enforce_retention(workspace=ws, as_of=today - dt.timedelta(days=200))
    assert sorted(UsageEvent.all_workspaces.filter(workspace=ws).values_list("message_id", flat=True)) == ["kept", "now"]
    nightly_usage_step(workspace=ws, as_of=today - dt.timedelta(days=20))
    assert sorted(UsageEvent.all_workspaces.filter(workspace=ws).values_list("message_id", flat=True)) == ["kept", "now"]
    # the old day keeps the rollup the import built from its events
    assert DailyAccountUsage.all_workspaces.get(account=account, day=old_day).events == 1


def test_a_rebuild_of_days_whose_raw_events_are_gone_says_so_and_keeps_their_rollups(ws, account, today):
    gone_day = today - dt.timedelta(days=400)
    DailyAccountUsage.all_workspaces.create(workspace=ws, account=account, day=gone_day, events=7, active_users=2,
                                            event_counts={"Login": 7})
    result = rebuild_rollups(workspace=ws, first=gone_day - dt.timedelta(days=1), last=gone_day + dt.timedelta(days=1))
    assert result["days_without_events"] == [gone_day - dt.timedelta(days=1), gone_day, gone_day + dt.timedelta(days=1)]
    assert result["days_rebuilt"] == 0
    assert DailyAccountUsage.all_workspaces.get(account=account, day=gone_day).events == 7


def test_old_history_is_rebuilt_from_imported_events_and_other_old_days_are_named(ws, account, today):
    d1, d3 = today - dt.timedelta(days=700), today - dt.timedelta(days=698)
    job = load(ws, csv_file([("a", at(d1, 9).isoformat(), "crm-sakura", "u1", "Login"),
                             ("b", at(d3, 9).isoformat(), "crm-sakura", "u1", "Login")]))
    assert job.summary["days_rebuilt"] == 2
    assert job.summary["days_without_events"] == [(d1 + dt.timedelta(days=1)).isoformat()]
    assert [r[1] for r in rollups(ws)] == [d1, d3]


def test_the_commands_say_when_raw_events_are_gone(ws, account, today):
    old = today - dt.timedelta(days=400)
    out = io.StringIO()
    call_command("usage_history", "--workspace", ws.slug, "--rebuild", old.isoformat(), old.isoformat(), stdout=out)
    assert "raw events of 1 day(s) are gone" in out.getvalue() and old.isoformat() in out.getvalue()
    out = io.StringIO()
    call_command("recompute", "--workspace", ws.slug, "--as-of", old.isoformat(), "--only", "usage", stdout=out)
    assert "raw usage events of this day are gone" in out.getvalue()
    out = io.StringIO()
    call_command("recompute", "--workspace", ws.slug, "--only", "usage", stdout=out)
    assert "gone" not in out.getvalue()


def test_the_command_loads_a_file_and_refuses_a_bad_one(ws, account, today, tmp_path):
    good = tmp_path / "h.csv"
    good.write_bytes(csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")]))
    out = io.StringIO()
    call_command("usage_history", "--workspace", ws.slug, "--file", str(good), stdout=out)
    assert "import done" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([("b", "nope", "crm-sakura", "u1", "Login")]))
    err = io.StringIO()
    with pytest.raises(Exception, match="nothing was written"):
        call_command("usage_history", "--workspace", ws.slug, "--file", str(bad), stderr=err)
    assert "line 2, timestamp" in err.getvalue()


# --- API -----------------------------------------------------------------------------------------

API = "/api/v1/usage/history/"


def test_api_raw_csv_body_loads_and_reports(ws, account, manager, api_for, today):
    api = api_for(manager)
    body = csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")])
    response = api.generic("POST", API, body, content_type="text/csv")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "done" and response.json()["summary"]["inserted"] == 1
    job_id = response.json()["id"]
    assert api.get(f"{API}{job_id}/").json()["summary"]["rows"] == 1


def test_api_multipart_and_ndjson(ws, account, admin, api_for, today):
    line = {"type": "track", "messageId": "n1", "userId": "u1", "event": "Login",
            "context": {"groupId": "crm-sakura"}, "timestamp": at(today, 9).isoformat()}
    api = api_for(admin)
    response = api.post(API, {"file": SimpleUploadedFile("h.ndjson", json.dumps(line).encode())}, format="multipart")
    assert response.status_code == 202, response.content
    assert events(ws) == [("n1", account.pk, "u1")]


def test_api_bad_row_is_a_400_naming_line_and_field(ws, account, manager, api_for, today):
    body = csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login"),
                     ("b", at(today, 9).isoformat(), "crm-sakura", "u1", "")])
    response = api_for(manager).generic("POST", API, body, content_type="text/csv")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid_rows" and data["message"]
    assert data["errors"][0]["line"] == 3 and data["errors"][0]["field"] == "event"
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 0


def test_api_rebuild_reports_days_without_events(ws, account, manager, api_for, today):
    old = today - dt.timedelta(days=500)
    response = api_for(manager).post(f"{API}rebuild/", {"first_day": old.isoformat(), "last_day": old.isoformat()},
                                     format="json")
    assert response.status_code == 202, response.content
    assert response.json()["summary"]["days_without_events"] == [old.isoformat()]
    bad = api_for(manager).post(f"{API}rebuild/", {"first_day": "x", "last_day": old.isoformat()}, format="json")
    assert bad.status_code == 400 and "first_day" in bad.json()


@pytest.mark.parametrize("persona", ["csm", "viewer"])
def test_api_refuses_csms_and_viewers(ws, account, api_for, request, persona, today):
    member = request.getfixturevalue(persona)
    body = csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")])
    response = api_for(member).generic("POST", API, body, content_type="text/csv")
    assert response.status_code == 403
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 0


def test_a_token_of_another_workspace_loads_into_its_own_only(ws, other_ws, account, outsider, api_for, today):
    from workspaces.models import Role

    outsider.role = Role.ADMIN
    outsider.save()
    AccountFactory(workspace=other_ws, external_id="crm-sakura")
    body = csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")])
    api = api_for(outsider)
    response = api.generic("POST", API, body, content_type="text/csv")
    assert response.status_code == 202
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 0
    assert DailyAccountUsage.all_workspaces.filter(workspace=ws).count() == 0
    assert UsageEvent.all_workspaces.filter(workspace=other_ws).count() == 1
    mine = load(ws, body)
    assert api.get(f"{API}{mine.pk}/").status_code == 404
    assert [job["id"] for job in api.get(API).json()["results"]] == [response.json()["id"]]


# --- Page ----------------------------------------------------------------------------------------

def test_page_upload_shows_progress_and_outcome(ws, account, manager, login, client, today):
    login(manager)
    url = reverse("usage:history")
    upload = SimpleUploadedFile("h.csv", csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")]))
    response = client.post(url, {"action": "import", "file": upload})
    assert response.status_code == 302
    page = client.get(url)
    assert page.status_code == 200
    job = HistoryImport.all_workspaces.get(workspace=ws)
    assert job.status == "done"
    assert f'data-job="{job.pk}" data-status="done"' in page.content.decode()
    # a job still running makes the page refresh itself, with its progress shown
    HistoryImport.all_workspaces.filter(pk=job.pk).update(status="rebuilding")
    page = client.get(url).content.decode()
    assert 'http-equiv="refresh"' in page and "<progress" in page


def test_page_upload_with_a_bad_row_names_it_and_stores_nothing(ws, account, manager, login, client):
    login(manager)
    upload = SimpleUploadedFile("h.csv", csv_file([("a", "2025-13-01", "crm-sakura", "u1", "Login")]))
    response = client.post(reverse("usage:history"), {"action": "import", "file": upload})
    assert response.status_code == 400
    html = response.content.decode()
    assert "history-errors" in html and "<td>2</td>" in html and "<code>timestamp</code>" in html
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 0


def test_page_rebuild_of_gone_days_flags_them(ws, account, admin, login, client, today):
    login(admin)
    old = today - dt.timedelta(days=400)
    client.post(reverse("usage:history"), {"action": "rebuild", "first_day": old.isoformat(),
                                           "last_day": old.isoformat()})
    html = client.get(reverse("usage:history")).content.decode()
    assert "data-raw-events-gone" in html and old.isoformat() in html


@pytest.mark.parametrize("persona", ["csm", "viewer"])
def test_page_refuses_csms_and_viewers(ws, account, login, client, request, persona, today):
    login(request.getfixturevalue(persona))
    upload = SimpleUploadedFile("h.csv", csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")]))
    assert client.get(reverse("usage:history")).status_code == 403
    assert client.post(reverse("usage:history"), {"action": "import", "file": upload}).status_code == 403
    assert UsageEvent.all_workspaces.filter(workspace=ws).count() == 0


def test_import_history_service_directly(ws, account, today):
    checked, normalised = check_to_file([csv_file([("a", at(today, 9).isoformat(), "crm-sakura", "u1", "Login")])],
                                        file_format="csv")
    result = import_history(workspace=ws, normalised=normalised)
    assert result["inserted"] == 1 and result["first_day"] == today


# --- The columnar check, the plain insert and the event table without foreign keys ----------------

def _rows(text):
    import csv

    return [(*row[:5], dt.datetime.fromisoformat(row[5]), row[6]) for row in csv.reader(io.StringIO(text))]


WELL_FORMED = (
    "message_id,timestamp,account,user_id,event,event_type\n"
    "m1,2025-01-01T00:00:00Z,crm-sakura,u1,Login,\n"
    " m2 ,2025-01-01 09:30:00.25+09:00, crm-sakura ,u2,\"Report, Exported\",PAGE\n"
    "m3,2025-01-02T10:00:00,,u3,Home,screen\n"  # naive: UTC; no account: the user's
    "m4,2025-01-03T23:59:59.123456-05:30,crm-other,,\"Say \"\"hi\"\"\",track\n"
    "\n"
)


def test_a_well_formed_csv_is_checked_column_by_column_exactly_as_row_by_row():
    from django.utils import timezone

    from usage.services.history import CheckedFile, _read_csv, _read_csv_columnar, _text_lines

    now = timezone.now()
    by_column, by_row = io.StringIO(), io.StringIO()
    columns, rows = CheckedFile(None), CheckedFile(__import__("csv").writer(by_row))
    spool = io.BytesIO(WELL_FORMED.encode())
    assert _read_csv_columnar(spool, by_column, columns, now) is True
    errors = []
    _read_csv(_text_lines([WELL_FORMED.encode()]), rows, errors, now)
    assert errors == []
    assert _rows(by_column.getvalue()) == _rows(by_row.getvalue())
    assert _rows(by_column.getvalue())[1][:5] == ("m2", "crm-sakura", "u2", "page", "Report, Exported")
    assert (columns.rows, columns.first, columns.last) == (rows.rows, rows.first, rows.last) == (
        4, dt.datetime(2025, 1, 1, 0, 0, tzinfo=dt.UTC), dt.datetime(2025, 1, 4, 5, 29, 59, 123456, tzinfo=dt.UTC))


@pytest.mark.parametrize("bad_row, line, field", [
    ("m9,2025-02-30T00:00:00Z,crm-sakura,u1,Login", 5, "timestamp"),  # no such day
    ("m9,2025-01-01T00:00:00+14:30,crm-sakura,u1,Login", 5, "timestamp"),  # no such offset
    ("m9,2025-01-01T00:00:00Z,crm-sakura,u1", 5, "row"),  # a cell short
    ("m9,2025-01-01T00:00:00Z,crm-sakura,u1,   ", 5, "event"),
])
def test_the_columnar_check_declines_a_late_bad_row_and_the_row_check_names_it(monkeypatch, bad_row, line, field):
    import usage.services.history as history

    monkeypatch.setattr(history, "COLUMNAR_BLOCK", 64)  # blocks of a row or two: the bad row comes late
    good = [f"m{i},2025-01-0{i}T00:00:00Z,crm-sakura,u{i},Login" for i in range(1, 4)]
    data = ("message_id,timestamp,account,user_id,event\n" + "\n".join([*good, bad_row]) + "\n").encode()
    with pytest.raises(HistoryError) as caught:
        check_to_file([data], file_format="csv")
    assert (caught.value.errors[0]["line"], caught.value.errors[0]["field"]) == (line, field)
    # Without the bad row, several blocks make the same normalised file as one block does.
    checked, small_blocks = check_to_file([data.rsplit(b"\n", 2)[0] + b"\n"], file_format="csv")
    monkeypatch.setattr(history, "COLUMNAR_BLOCK", 16 << 20)
    _, one_block = check_to_file([data.rsplit(b"\n", 2)[0] + b"\n"], file_format="csv")
    assert checked.rows == 3 and small_blocks.getvalue() == one_block.getvalue()
    assert [r[0] for r in _rows(one_block.getvalue())] == ["m1", "m2", "m3"]


def test_a_file_repeating_an_id_stored_meanwhile_is_loaded_without_it(ws, account, today):
    """The plain insert meets the unique constraint (an id twice in the file, one the tracking API
    stored after the file was checked) and the load is redone skipping conflicts: nothing lost."""
    from usage.services import insert_events

    day = today - dt.timedelta(days=1)
    job = start_import(workspace=ws, actor=SYSTEM, chunks=[csv_file(
        [("a", at(day, 9).isoformat(), "crm-sakura", "u1", "Login"),
         ("b", at(day, 10).isoformat(), "crm-sakura", "u2", "Login"),
         ("a", at(day, 11).isoformat(), "crm-sakura", "u1", "Login")])], filename="h.csv", run=False)
    now = at(day, 12)
    insert_events([(ws.pk, "b", account.pk, "crm-sakura", "u2", "track", "Login", at(day, 10), now, {})])
    from usage.services.history import run_job

    job = run_job(job_id=job.pk)
    assert job.status == "done", job.failure
    assert (job.summary["rows"], job.summary["inserted"], job.summary["duplicates"]) == (3, 1, 2)
    assert events(ws) == [("a", account.pk, "u1"), ("b", account.pk, "u2")]
    assert rollups(ws) == [(account.pk, day, 2, 2, {"Login": 2})]


def test_a_load_that_fails_leaves_the_events_and_rollups_as_they_were(ws, account, today):
    from django.core.files.base import ContentFile

    from usage.services.history import run_job

    day = today - dt.timedelta(days=2)
    load(ws, csv_file([("old", at(day, 9).isoformat(), "crm-sakura", "u1", "Login")]))
    before = (events(ws), rollups(ws))
    # A checked file spoilt in storage: its second row's time is no time; the database refuses it.
    job = HistoryImport(workspace=ws, rows=2, first_day=day, last_day=day)
    job.file.save("history.csv", ContentFile(
        f"new,crm-sakura,u1,track,Login,{at(day, 10).isoformat()},{{}}\n"
        "new2,crm-sakura,u1,track,Login,not-a-time,{}\n"), save=True)
    with pytest.raises(Exception):  # noqa: B017 - the database's or the parser's error, by backend
        run_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.failure
    assert (events(ws), rollups(ws)) == before


def test_deleting_an_account_or_a_workspace_deletes_its_events(ws, account, other_ws, today):
    """The event table has no foreign keys in the database: Django's cascade must take the events."""
    from accounts.services import delete_account

    other = AccountFactory(workspace=ws, external_id="crm-other")
    day = today - dt.timedelta(days=1)
    load(ws, csv_file([("a", at(day, 9).isoformat(), "crm-sakura", "u1", "Login"),
                       ("b", at(day, 9).isoformat(), "crm-other", "u2", "Login")]))
    load(other_ws, csv_file([("a", at(day, 9).isoformat(), "crm-elsewhere", "u1", "Login")]))
    delete_account(account=account, actor=SYSTEM)
    assert events(ws) == [("b", other.pk, "u2")]
    assert rollups(ws) == [(other.pk, day, 1, 1, {"Login": 1})]
    assert events(other_ws) == [("a", None, "u1")]
    other_ws.delete()  # offboarding a workspace (one with no accounts: stages protect theirs)
    assert UsageEvent.all_workspaces.filter(workspace_id=other_ws.pk).count() == 0
    assert events(ws) == [("b", other.pk, "u2")]


@pytest.mark.django_db(transaction=True)
def test_a_load_holds_its_workspace_and_accounts_against_deletion(ws, account, other_account):
    """What the foreign keys' checks locked, the load locks itself: until it commits, neither the
    workspace nor its accounts can be deleted (FOR UPDATE waits); another workspace's can."""
    import psycopg2
    from django.db import connection, transaction

    from usage.services.batches import hold_accounts

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with transaction.atomic():
            hold_accounts(workspace_id=ws.pk, every=True)
            with other.cursor() as cursor:
                for table, pk in (("accounts_account", account.pk), ("workspaces_workspace", ws.pk)):
                    with pytest.raises(psycopg2.errors.LockNotAvailable):
                        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])
                    other.rollback()
                cursor.execute("SELECT 1 FROM accounts_account WHERE id = %s FOR UPDATE NOWAIT", [other_account.pk])
                assert cursor.fetchone() == (1,)
                other.rollback()
        with other.cursor() as cursor:  # committed: free again
            cursor.execute("SELECT 1 FROM accounts_account WHERE id = %s FOR UPDATE NOWAIT", [account.pk])
            assert cursor.fetchone() == (1,)
    finally:
        other.close()
