"""Writes of programmes: programmes, sessions, and attendance imported by CSV or API.

Every write asks the policy first and is audited. Attendance is all or nothing: a file (or an API
batch) with one bad row writes nothing, and the error names the row and the field. The same file
imported twice writes nothing the second time: an attendance is keyed by (session, contact), and
the touchpoint an attended session makes is keyed by an external ID derived from that pair.
"""

import csv
import io

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import services as accounts_services
from accounts.models import Contact
from workspaces.audit import audit_event, model_changes, record_audit
from workspaces.errors import DomainError, RowErrors
from workspaces.models import AuditEvent
from workspaces.policy import acting_member, authorize

from .models import Attendance, AttendanceStatus, Programme, ProgrammeSession

MAX_ROWS = 10_000
CSV_COLUMNS = ("email", "contact_external_id", "status")
# Attendance only moves forward: a registration list imported after the attendance list keeps "attended".
STATUS_RANK = {AttendanceStatus.REGISTERED: 0, AttendanceStatus.ATTENDED: 1}


def touchpoint_external_id(attendance_or_pair):
    """The external ID of the touchpoint an attended session makes: one per (session, contact)."""
    session_id, contact_id = attendance_or_pair
    return f"programme-attendance:{session_id}:{contact_id}"


# --- programmes and sessions -----------------------------------------------------------------------
@transaction.atomic
def save_programme(*, workspace, actor, programme=None, **fields):
    authorize(actor, "programmes.manage", programme)
    created = programme is None
    programme = programme or Programme(workspace=workspace, created_by=acting_member(actor))
    changes = {} if created else model_changes(programme, fields)
    for name, value in fields.items():
        setattr(programme, name, value)
    programme.full_clean()
    programme.save()
    if created or changes:
        record_audit(workspace=workspace, actor=actor, obj=programme, changes=changes,
                     action="programme.created" if created else "programme.updated")
    return programme


@transaction.atomic
def delete_programme(*, programme, actor):
    """Deletes the programme, its sessions and attendance; the touchpoints they made stay on the
    accounts' timelines (they happened)."""
    authorize(actor, "programmes.manage", programme)
    record_audit(workspace=programme.workspace, actor=actor, action="programme.deleted", obj=programme)
    programme.delete()


@transaction.atomic
def save_session(*, workspace, actor, programme, session=None, **fields):
    authorize(actor, "programmes.manage", programme)
    if programme.workspace_id != workspace.pk:
        raise DomainError(_("Choose a programme of this workspace."), field="programme")
    created = session is None
    session = session or ProgrammeSession(workspace=workspace, programme=programme)
    changes = {} if created else model_changes(session, fields)
    for name, value in fields.items():
        setattr(session, name, value)
    session.full_clean()
    session.save()
    if created or changes:
        record_audit(workspace=workspace, actor=actor, obj=session, changes=changes,
                     action="programme_session.created" if created else "programme_session.updated")
    return session


@transaction.atomic
def delete_session(*, session, actor):
    authorize(actor, "programmes.manage", session.programme)
    record_audit(workspace=session.workspace, actor=actor, action="programme_session.deleted", obj=session)
    session.delete()


# --- attendance ----------------------------------------------------------------------------------
def read_attendance_csv(data):
    """[(sheet row number, {column: text})] from a CSV file's bytes (UTF-8, with or without BOM).

    Row numbers are the sheet's: the header is row 1, the first attendee row 2. Columns: email
    and/or contact_external_id (one is enough), status (registered or attended; empty: attended)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(_("The file is not UTF-8 text; save it as CSV UTF-8."), field="file") from None
    reader = csv.DictReader(io.StringIO(text))
    headers = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if not {"email", "contact_external_id"} & set(headers):
        raise DomainError(_("The file needs an “email” or a “contact_external_id” column."), field="file")
    reader.fieldnames = headers
    rows = []
    for number, raw in enumerate(reader, start=2):
        values = {name: (raw.get(name) or "").strip() for name in CSV_COLUMNS if name in headers}
        if not any(values.values()):
            continue  # a blank line
        rows.append((number, values))
        if len(rows) > MAX_ROWS:
            raise DomainError(_("At most %(max)d rows per file.") % {"max": MAX_ROWS}, field="file")
    if not rows:
        raise DomainError(_("The file has no attendee rows."), field="file")
    return rows


def _contacts_for(workspace, rows):
    """({lowercased email: [contacts]}, {external id: contact}) for the rows, in two queries."""
    emails = {v.get("email", "").lower() for _, v in rows} - {""}
    ext_ids = {v.get("contact_external_id", "") for _, v in rows} - {""}
    contacts = Contact.objects.for_workspace(workspace).select_related("account")
    by_email = {}
    if emails:
        # Emails are compared without case (two contacts whose emails differ only in case are both found).
        for contact in contacts.annotate(email_lower=Lower("email")).filter(email_lower__in=emails):
            by_email.setdefault(contact.email.lower(), []).append(contact)
    by_ext = {c.external_id: c for c in contacts.filter(external_id__in=ext_ids)} if ext_ids else {}
    return by_email, by_ext


def _resolve(row_values, by_email, by_ext, add_error):
    ext = row_values.get("contact_external_id", "")
    email = row_values.get("email", "").lower()
    if ext:
        contact = by_ext.get(ext)
        if contact is None:
            add_error("contact_external_id", _("No contact of this workspace has the external ID “%(id)s”.")
                      % {"id": ext})
        return contact
    if not email:
        add_error("email", _("Give the contact's email or external ID."))
        return None
    found = by_email.get(email, [])
    if not found:
        add_error("email", _("No contact of this workspace has the email “%(email)s”.") % {"email": email})
        return None
    if len(found) > 1:
        add_error("email", _("Several contacts have the email “%(email)s”: give the contact's external ID.")
                  % {"email": email})
        return None
    return found[0]


def _status(value, add_error):
    value = (value or "").strip().lower() or AttendanceStatus.ATTENDED
    if value not in AttendanceStatus.values:
        add_error("status", _("Status must be “registered” or “attended”, not “%(value)s”.") % {"value": value})
        return None
    return value


@transaction.atomic
def import_attendance(*, session, actor, rows):
    """Record attendance of `session` from `rows` = [(row number, {"email", "contact_external_id",
    "status"})]: all of them, or, if any row is bad, none (RowErrors naming each row and field).

    A contact attended → a touchpoint of the programme's channel, at the session's time, on the
    contact's account (through the accounts write path, so coverage counts it). Registered makes no
    touchpoint. Returns {"created", "updated", "unchanged", "touchpoints"}."""
    authorize(actor, "programmes.import_attendance", session)
    wanted, errors = _plan(session, rows)
    if errors:
        raise RowErrors(errors)
    return _write_attendance(session, actor, wanted)


def attendance_errors(*, session, rows):
    """The row errors `import_attendance` would raise for `rows`, without writing anything."""
    return _plan(session, rows)[1]


def _plan(session, rows):
    """({contact id: (contact, status)}, [row errors]) for the rows."""
    workspace = session.workspace
    by_email, by_ext = _contacts_for(workspace, rows)
    errors, wanted = [], {}
    for index, values in rows:
        row_errors = {}

        def add_error(field, message, row_errors=row_errors):
            row_errors.setdefault(field, []).append(str(message))

        contact = _resolve(values, by_email, by_ext, add_error)
        status = _status(values.get("status"), add_error)
        if contact is not None and contact.has_left and status == AttendanceStatus.ATTENDED \
                and contact.left_on <= workspace.local_day(session.starts_at):
            add_error("email" if not values.get("contact_external_id") else "contact_external_id",
                      _("This contact had left their company before the session."))
        if row_errors:
            errors.append({"index": index, "errors": row_errors})
            continue
        # The same contact twice in one file: the furthest status wins (attended over registered).
        previous = wanted.get(contact.pk)
        if previous is None or STATUS_RANK[status] > STATUS_RANK[previous[1]]:
            wanted[contact.pk] = (contact, status)
    return wanted, errors


def _write_attendance(session, actor, wanted):
    """Touchpoints first (so that new rows are inserted with theirs), then the attendance rows."""
    workspace = session.workspace
    existing = {a.contact_id: a for a in Attendance.objects.for_workspace(workspace).filter(
        session=session, contact_id__in=list(wanted))}
    new, raised, events = [], [], []
    for contact_id, (contact, status) in wanted.items():
        attendance = existing.get(contact_id)
        if attendance is None:
            new.append(Attendance(workspace=workspace, session=session, contact=contact, status=status))
        elif STATUS_RANK[status] > STATUS_RANK[attendance.status]:
            events.append(audit_event(workspace=workspace, actor=actor, action="attendance.updated", obj=attendance,
                                      changes={"status": [attendance.status, status]}))
            attendance.status = status
            attendance.updated_at = timezone.now()
            raised.append(attendance)
    touchpoints = _make_touchpoints(session, actor, [a for a in new + raised if a.status == AttendanceStatus.ATTENDED])
    Attendance.objects.bulk_create(new)
    if raised:
        Attendance.objects.for_workspace(workspace).bulk_update(raised, ["status", "updated_at", "touchpoint"])
    events += [audit_event(workspace=workspace, actor=actor, action="attendance.created", obj=a,
                           changes={"status": [None, a.status]}) for a in new]
    AuditEvent.objects.bulk_create(events)
    return {"created": len(new), "updated": len(raised), "unchanged": len(wanted) - len(new) - len(raised),
            "touchpoints": touchpoints}


def _make_touchpoints(session, actor, attended):
    """The touchpoints of newly attended rows, through the accounts write path (one batch); sets
    each row's touchpoint (the caller saves the rows)."""
    attended = [a for a in attended if a.touchpoint_id is None]
    if not attended:
        return 0
    programme = session.programme
    summary = f"{programme.name}: {session.title}"
    result = accounts_services.bulk_upsert_touchpoints(workspace=session.workspace, actor=actor, rows=[
        {"external_id": touchpoint_external_id((session.pk, a.contact_id)), "account": a.contact.account,
         "channel": programme.channel, "occurred_at": session.starts_at, "summary": summary,
         "contacts": [a.contact]}
        for a in attended
    ])
    by_ext = {tp.external_id: tp for tp in result["touchpoints"]}
    for attendance in attended:
        attendance.touchpoint = by_ext[touchpoint_external_id((session.pk, attendance.contact_id))]
    return result["created"]
