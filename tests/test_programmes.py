"""Programmes: attendance import (touchpoints of the programme's channel, idempotent, all or nothing),
coverage counting the touch, the effect report on hand-built data, the API and the pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from accounts.models import AccountStatus, LifecycleStage, StageChange, Touchpoint, TouchTier
from coverage.computation import compute_coverage
from coverage.selectors import account_coverage
from coverage.services import assign_tiers
from programmes import selectors, services
from programmes.models import Attendance, AttendanceStatus
from usage.models import DailyAccountUsage
from workspaces.errors import NotAllowed, RowErrors
from workspaces.models import AuditEvent

from .factories import AccountFactory, ContactFactory, ProgrammeFactory, ProgrammeSessionFactory

pytestmark = pytest.mark.django_db


def csv_file(text, name="attendance.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def webinar(ws):
    return ProgrammeFactory(workspace=ws, name="Monthly webinar", kind="webinar")


@pytest.fixture
def session(webinar):
    return ProgrammeSessionFactory(programme=webinar, title="Getting started",
                                   starts_at=timezone.now() - dt.timedelta(days=2))


@pytest.fixture
def people(ws, csm):
    sakura = AccountFactory(workspace=ws, owner=csm, name="Sakura KK", external_id="crm-sakura")
    fuji = AccountFactory(workspace=ws, owner=csm, name="Fuji KK", external_id="crm-fuji")
    return {
        "aoi": ContactFactory(account=sakura, name="Aoi", email="aoi@sakura.example", external_id="c-aoi"),
        "ren": ContactFactory(account=sakura, name="Ren", email="ren@sakura.example", external_id="c-ren"),
        "hana": ContactFactory(account=fuji, name="Hana", email="Hana@Fuji.example", external_id="c-hana"),
    }


def rows_of(text):
    return services.read_attendance_csv(text.encode("utf-8"))


# --- import --------------------------------------------------------------------------------------
def test_attended_rows_log_touchpoints_of_the_programme_channel_at_the_session_time(ws, manager, session, people):
    result = services.import_attendance(session=session, actor=manager, rows=rows_of(
        "email,contact_external_id,status\naoi@sakura.example,,attended\n,c-ren,registered\nhana@fuji.example,,\n"))
    assert result == {"created": 3, "updated": 0, "unchanged": 0, "touchpoints": 2}
    touches = Touchpoint.objects.for_workspace(ws).order_by("account__name")
    assert [(t.account.name, t.channel, t.occurred_at) for t in touches] == [
        ("Fuji KK", "webinar", session.starts_at), ("Sakura KK", "webinar", session.starts_at)]
    assert [list(t.contacts.all()) for t in touches] == [[people["hana"]], [people["aoi"]]]
    ren = Attendance.objects.for_workspace(ws).get(contact=people["ren"])
    assert ren.status == AttendanceStatus.REGISTERED and ren.touchpoint is None
    assert AuditEvent.objects.for_workspace(ws).filter(action="attendance.created").count() == 3


def test_the_same_file_twice_creates_nothing_twice_and_attendance_only_moves_forward(ws, manager, session, people):
    text = "email,status\naoi@sakura.example,attended\nren@sakura.example,registered\n"
    services.import_attendance(session=session, actor=manager, rows=rows_of(text))
    again = services.import_attendance(session=session, actor=manager, rows=rows_of(text))
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "touchpoints": 0}
    assert Touchpoint.objects.for_workspace(ws).count() == 1
    # Ren attended after all; a later registration list does not undo Aoi's attendance.
    third = services.import_attendance(session=session, actor=manager, rows=rows_of(
        "email,status\nren@sakura.example,attended\naoi@sakura.example,registered\n"))
    assert third == {"created": 0, "updated": 1, "unchanged": 1, "touchpoints": 1}
    assert Touchpoint.objects.for_workspace(ws).count() == 2
    assert set(Attendance.objects.for_workspace(ws).values_list("status", flat=True)) == {"attended"}


def test_a_bad_row_names_row_and_field_and_nothing_is_written(ws, manager, session, people):
    rows = rows_of("email,contact_external_id,status\naoi@sakura.example,,attended\n"
                   "nobody@x.example,,attended\n,c-missing,attended\nren@sakura.example,,maybe\n,,attended\n")
    with pytest.raises(RowErrors) as caught:
        services.import_attendance(session=session, actor=manager, rows=rows)
    errors = {e["index"]: sorted(e["errors"]) for e in caught.value.errors}
    assert errors == {3: ["email"], 4: ["contact_external_id"], 5: ["status"], 6: ["email"]}
    assert not Attendance.objects.for_workspace(ws).exists()
    assert not Touchpoint.objects.for_workspace(ws).exists()


def test_an_email_shared_by_two_contacts_asks_for_the_external_id(ws, manager, session, people):
    ContactFactory(account=people["hana"].account, name="Hana 2", email="hana@fuji.example")
    with pytest.raises(RowErrors) as caught:
        services.import_attendance(session=session, actor=manager, rows=rows_of("email\nhana@fuji.example\n"))
    assert "external ID" in caught.value.errors[0]["errors"]["email"][0]


def test_a_contact_of_another_workspace_is_not_found(ws, manager, session, other_account):
    ContactFactory(account=other_account, email="spy@other.example", external_id="c-spy")
    with pytest.raises(RowErrors):
        services.import_attendance(session=session, actor=manager, rows=rows_of("contact_external_id\nc-spy\n"))


def test_only_managers_import_attendance(session, csm, people):
    with pytest.raises(NotAllowed):
        services.import_attendance(session=session, actor=csm, rows=rows_of("email\naoi@sakura.example\n"))


def test_a_file_without_a_contact_column_is_refused():
    from workspaces.errors import DomainError
    with pytest.raises(DomainError) as caught:
        rows_of("name,status\nAoi,attended\n")
    assert caught.value.field == "file"


# --- coverage counts the touch -------------------------------------------------------------------
def test_a_tech_touch_account_becomes_covered_by_an_attended_webinar(ws, manager, csm, session):
    small = AccountFactory(workspace=ws, owner=csm, name="Small KK", arr=Decimal("100000"))
    contact = ContactFactory(account=small, email="kai@small.example")
    assign_tiers(workspace=ws, as_of=ws.today())
    small.refresh_from_db()
    assert small.touch_tier == TouchTier.TECH
    compute_coverage(workspace=ws, day=ws.today())
    assert account_coverage(account=small).covered is False
    services.import_attendance(session=session, actor=manager, rows=rows_of(f"email\n{contact.email}\n"))
    row = account_coverage(account=small)
    assert row.covered is True and row.last_touch_on == ws.local_day(session.starts_at)


# --- the effect report on hand-built data --------------------------------------------------------
def _account(ws, csm, name, *, stage, tier=TouchTier.TECH, **fields):
    return AccountFactory(workspace=ws, owner=csm, name=name, stage=stage, touch_tier=tier,
                          contract_start=ws.today() - dt.timedelta(days=800), **fields)


def _moved(ws, account, day, from_stage, to_stage):
    StageChange.objects.create(workspace=ws, account=account, from_stage=from_stage, to_stage=to_stage,
                               changed_at=ws.day_start(day) + dt.timedelta(hours=10))
    account.stage = to_stage
    account.save(update_fields=["stage"])


def _usage(ws, account, day, events):
    DailyAccountUsage.objects.create(workspace=ws, account=account, day=day, events=events, active_users=1)


@pytest.fixture
def effect_world(ws, csm, manager, webinar):
    """A webinar 120 days ago. Attendees: 10 tech-touch accounts in Onboarding; 4 moved to Adoption
    within 60 days, 1 only on day 70. Comparison: 12 tech-touch Onboarding accounts that did not
    attend (one of them only registered); 3 moved on day 30. Excluded: another stage, another tier,
    churned before the day. Usage: 10 events each in the 30 days before; in the 30 days from day 60,
    attendees 6×20 + 4×5, comparison 3×20 + 9×10."""
    onboarding, adoption = list(LifecycleStage.objects.for_workspace(ws).order_by("position"))[:2]
    day = ws.today() - dt.timedelta(days=120)
    session = ProgrammeSessionFactory(programme=webinar, title="Kick-off", starts_at=ws.day_start(day)
                                      + dt.timedelta(hours=14))
    attendees = [_account(ws, csm, f"Attendee {i:02}", stage=onboarding) for i in range(10)]
    comparison = [_account(ws, csm, f"Comparable {i:02}", stage=onboarding) for i in range(12)]
    _account(ws, csm, "Other stage", stage=adoption)
    _account(ws, csm, "High touch", stage=onboarding, tier=TouchTier.HIGH)
    _account(ws, csm, "Gone", stage=onboarding, status=AccountStatus.CHURNED, churned_on=day - dt.timedelta(days=5))
    lines = ["email,status"]
    for i, account in enumerate(attendees):
        contact = ContactFactory(account=account, email=f"a{i}@attendee.example")
        lines.append(f"{contact.email},attended")
    registered = ContactFactory(account=comparison[0], email="only@registered.example")
    lines.append(f"{registered.email},registered")
    services.import_attendance(session=session, actor=manager, rows=rows_of("\n".join(lines) + "\n"))
    for account in attendees[:4]:
        _moved(ws, account, day + dt.timedelta(days=10), onboarding, adoption)
    _moved(ws, attendees[4], day + dt.timedelta(days=70), onboarding, adoption)
    for account in comparison[:3]:
        _moved(ws, account, day + dt.timedelta(days=30), onboarding, adoption)
    for i, account in enumerate(attendees):
        _usage(ws, account, day - dt.timedelta(days=10), 10)
        _usage(ws, account, day + dt.timedelta(days=30), 1000)  # between the windows: not counted
        _usage(ws, account, day + dt.timedelta(days=70), 20 if i < 6 else 5)
    for i, account in enumerate(comparison):
        _usage(ws, account, day - dt.timedelta(days=30), 10)
        _usage(ws, account, day + dt.timedelta(days=89), 20 if i < 3 else 10)
    return {"session": session, "day": day}


def test_effect_report_compares_attendees_with_comparable_accounts(ws, webinar, effect_world):
    report = selectors.effect_report(workspace=ws, today=ws.today(), programme=webinar)
    a, c = report["attendees"], report["comparison"]
    assert (a["accounts"], a["progressed"], a["progression_rate"]) == (10, 4, 0.4)
    assert (c["accounts"], c["progressed"], c["progression_rate"]) == (12, 3, 0.25)
    assert (a["events_before"], a["events_after"], a["usage_change"]) == (100, 140, 0.4)
    assert (c["events_before"], c["events_after"], c["usage_change"]) == (120, 150, 0.25)
    assert (a["grew"], a["grew_share"], c["grew"], c["grew_share"]) == (6, 0.6, 3, 0.25)
    assert report["difference"]["progression_rate"] == pytest.approx(0.15)
    assert report["difference"]["usage_change"] == pytest.approx(0.15)
    assert {u["account"] for u in report["units"]} & {"Other stage", "High touch", "Gone"} == set()


def test_effect_export_lists_the_accounts_of_both_groups(ws, manager, webinar, effect_world, login):
    response = login(manager).get(reverse("programmes:effect_export", args=[webinar.pk]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 10 + 12
    assert sum(1 for line in lines if line.startswith("Attendees,")) == 10
    assert "Attendee 00,Kick-off" in lines[1]


def test_effect_report_says_not_enough_data_below_ten_accounts(ws, csm, manager, webinar, effect_world):
    recent = ProgrammeSessionFactory(programme=webinar, title="Recent", starts_at=timezone.now()
                                     - dt.timedelta(days=10))
    report = selectors.effect_report(workspace=ws, today=ws.today(), session=recent)
    assert report["too_recent"] == [recent]
    assert report["attendees"]["accounts"] == 0 and report["attendees"]["progression_rate"] is None
    # Nine attendees only: the rates are withheld, the counts are shown.
    Attendance.objects.for_workspace(ws).filter(contact__account__name="Attendee 09").delete()
    report = selectors.effect_report(workspace=ws, today=ws.today(), session=effect_world["session"])
    assert report["attendees"]["accounts"] == 9 and report["attendees"]["progressed"] == 4
    assert report["attendees"]["progression_rate"] is None and report["attendees"]["usage_change"] is None
    # Attendee 09 never attended now: it joins the comparison.
    assert report["comparison"]["accounts"] == 13


def test_effect_report_runs_a_fixed_number_of_queries(ws, webinar, effect_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        selectors.effect_report(workspace=ws, today=ws.today(), programme=webinar)


# --- API -----------------------------------------------------------------------------------------
def test_api_imports_attendance_and_reports_bad_rows(ws, manager, session, people, api_for):
    api = api_for(manager)
    url = f"/api/v1/programme-sessions/{session.pk}/attendance/"
    bad = api.post(url, {"rows": [{"email": "aoi@sakura.example"}, {"email": "x@y.example"},
                                  {"contact_external_id": "c-ren", "status": "maybe"}]}, format="json")
    assert bad.status_code == 400
    assert [(e["index"], sorted(e["errors"])) for e in bad.json()["errors"]] == [(1, ["email"]), (2, ["status"])]
    assert not Attendance.objects.for_workspace(ws).exists()
    ok = api.post(url, {"rows": [{"email": "aoi@sakura.example"}, {"contact_external_id": "c-ren",
                                                                    "status": "registered"}]}, format="json")
    assert ok.status_code == 200 and ok.json() == {"created": 2, "updated": 0, "unchanged": 0, "touchpoints": 1}
    assert api.post(url, {"rows": []}, format="json").status_code == 400
    assert api.post(url, {"rows": "nope"}, format="json").status_code == 400
    listed = api.get("/api/v1/programme-attendance/", {"session": session.pk}).json()
    assert listed["count"] == 2


def test_api_manages_programmes_and_sessions(ws, manager, csm, api_for):
    api = api_for(manager)
    created = api.post("/api/v1/programmes/", {"name": "Success newsletter", "kind": "newsletter"}, format="json")
    assert created.status_code == 201 and created.json()["channel"] == "newsletter"
    assert api.post("/api/v1/programmes/", {"name": "X", "kind": "podcast"}, format="json").status_code == 400
    pk = created.json()["id"]
    session = api.post("/api/v1/programme-sessions/", {"programme": pk, "title": "Issue 1",
                                                      "starts_at": "2026-01-05T09:00:00+09:00"}, format="json")
    assert session.status_code == 201 and session.json()["attended_count"] == 0
    assert api.post("/api/v1/programme-sessions/", {"programme": pk, "title": "No date"},
                    format="json").status_code == 400
    assert api_for(csm).post("/api/v1/programmes/", {"name": "Mine", "kind": "webinar"},
                             format="json").status_code == 403
    assert api_for(csm).get(f"/api/v1/programmes/{pk}/").status_code == 200
    effect = api.get(f"/api/v1/programmes/{pk}/effect/").json()
    assert effect["attendees"]["progression_rate"] is None and "not proof" in effect["note"]


def test_api_tenancy(ws, other_ws, manager, outsider, session, people, api_for):
    api = api_for(outsider)
    assert api.get(f"/api/v1/programmes/{session.programme_id}/").status_code == 404
    assert api.get(f"/api/v1/programme-sessions/{session.pk}/").status_code == 404
    assert api.post(f"/api/v1/programme-sessions/{session.pk}/attendance/",
                    {"rows": [{"email": "aoi@sakura.example"}]}, format="json").status_code == 404
    assert api.get("/api/v1/programmes/").json()["count"] == 0
    mine = ProgrammeFactory(workspace=other_ws, name="Theirs")
    assert api.post("/api/v1/programme-sessions/", {"programme": session.programme_id, "title": "Steal",
                                                    "starts_at": "2026-01-05T09:00:00Z"}, format="json").status_code == 400
    assert api.get("/api/v1/programmes/").json()["count"] == 1 and mine.pk
    services.import_attendance(session=session, actor=manager, rows=rows_of("email\naoi@sakura.example\n"))
    assert api.get("/api/v1/programme-attendance/").json()["count"] == 0


# --- pages ---------------------------------------------------------------------------------------
def test_pages_show_empty_states(ws, manager, login):
    client = login(manager)
    page = client.get(reverse("programmes:list"))
    assert page.status_code == 200 and "No programmes yet" in page.content.decode()
    programme = ProgrammeFactory(workspace=ws)
    page = client.get(reverse("programmes:detail", args=[programme.pk]))
    assert "No sessions yet" in page.content.decode()
    session = ProgrammeSessionFactory(programme=programme)
    page = client.get(reverse("programmes:session", args=[session.pk]))
    assert "No attendance recorded" in page.content.decode()
    page = client.get(reverse("programmes:effect", args=[programme.pk]))
    assert page.status_code == 200 and "not proof" in page.content.decode()


def test_import_page_names_row_and_field_and_imports(ws, manager, session, people, login):
    client = login(manager)
    url = reverse("programmes:import", args=[session.pk])
    bad = client.post(url, {"file": csv_file("email,status\naoi@sakura.example,attended\nnobody@x.example,\n")})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "nobody@x.example" in text and "<td class=\"num\">3</td><td>email</td>" in text
    ok = client.post(url, {"file": csv_file("email\naoi@sakura.example\n")})
    assert ok.status_code == 302
    assert Touchpoint.objects.for_workspace(ws).get().channel == "webinar"
    page = client.get(reverse("programmes:session", args=[session.pk]))
    assert "Aoi" in page.content.decode()
    export = client.get(reverse("programmes:export", args=[session.programme_id]))
    assert export.status_code == 200 and "aoi@sakura.example" in export.content.decode("utf-8-sig")


def test_csm_views_but_does_not_manage_or_import(ws, csm, session, login):
    client = login(csm)
    assert client.get(reverse("programmes:session", args=[session.pk])).status_code == 200
    assert client.post(reverse("programmes:create"), {"name": "X", "kind": "webinar"}).status_code == 403
    assert client.post(reverse("programmes:import", args=[session.pk]),
                       {"file": csv_file("email\nx@y.example\n")}).status_code == 403


def test_manager_creates_a_programme_and_a_session_on_pages(ws, manager, login):
    client = login(manager)
    response = client.post(reverse("programmes:create"), {"name": "User community", "kind": "community_event"})
    assert response.status_code == 302
    programme = selectors.programme_list(workspace=ws).get()
    assert programme.channel == "user_event"
    bad = client.post(reverse("programmes:session_create", args=[programme.pk]), {"title": "Meetup"})
    assert bad.status_code == 400
    ok = client.post(reverse("programmes:session_create", args=[programme.pk]),
                     {"title": "Meetup", "starts_at": "2026-03-01T18:00"})
    assert ok.status_code == 302


def test_pages_render_in_japanese(ws, manager, session, people, login):
    client = login(manager)
    with override("ja"):
        for url in (reverse("programmes:list"), reverse("programmes:detail", args=[session.programme_id]),
                    reverse("programmes:session", args=[session.pk]),
                    reverse("programmes:effect", args=[session.programme_id])):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
            assert response.status_code == 200
