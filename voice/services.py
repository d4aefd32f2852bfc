"""Writes of the voice of the customer: feature requests and their evidence, survey responses.

Every write checks the actor first (workspaces.policy) and is audited. CSMs file requests and add
evidence from the accounts they own; managers change a request's status, merge duplicates and
delete; survey responses come from a survey tool (API, CSV) and are recorded by managers or tokens.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Contact
from accounts.selectors import contacts_by_reference
from imports.selectors import CellError, FileError, clean_text, is_blank, parse_date, parse_int, read_file
from workspaces.audit import audit_event, model_changes, record_audit
from workspaces.errors import DomainError, RowErrors
from workspaces.models import AuditEvent
from workspaces.policy import acting_member, authorize

from .models import (
    SCORE_RANGE,
    EvidenceSource,
    FeatureRequest,
    FeatureRequestEvidence,
    RequestStatus,
    SurveyKind,
    SurveyResponse,
)

MAX_UPLOAD_ROWS = 10_000


def _clean_text(value, field, *, required=False, max_length=None):
    text = (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())
    if required and not text:
        raise DomainError(_("This field is required."), field=field)
    if max_length and len(text) > max_length:
        raise DomainError(_("At most %(n)s characters.") % {"n": max_length}, field=field)
    if "\x00" in text:
        raise DomainError(_("Remove the NUL character."), field=field)
    return text


def _full_clean(obj):
    try:
        obj.full_clean(exclude=["workspace"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(" ".join(messages), field=None if field == "__all__" else field) from None


# --- feature requests -------------------------------------------------------------------------------
@transaction.atomic
def file_request(*, workspace, actor, title, description="", external_id=""):
    """A new feature request (status new). Any CSM files one; the evidence says who asked."""
    authorize(actor, "voice.file_request")
    request = FeatureRequest(
        workspace=workspace, title=_clean_text(title, "title", required=True, max_length=200),
        description=_clean_text(description, "description"),
        external_id=_clean_text(external_id, "external_id", max_length=100), created_by=acting_member(actor),
    )
    _full_clean(request)
    request.save()
    record_audit(workspace=workspace, actor=actor, action="feature_request.created", obj=request)
    return request


@transaction.atomic
def update_request(*, request, actor, **fields):
    """Change a request's title, description, status or external ID (managers)."""
    authorize(actor, "voice.manage_requests", request)
    allowed = {"title", "description", "status", "external_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(_("Unknown field."), field=sorted(unknown)[0])
    clean = {}
    if "title" in fields:
        clean["title"] = _clean_text(fields["title"], "title", required=True, max_length=200)
    if "description" in fields:
        clean["description"] = _clean_text(fields["description"], "description")
    if "external_id" in fields:
        clean["external_id"] = _clean_text(fields["external_id"], "external_id", max_length=100)
    if "status" in fields:
        if fields["status"] not in RequestStatus.values:
            raise DomainError(_("Choose new, planned, shipped or declined."), field="status")
        clean["status"] = fields["status"]
    changes = model_changes(request, clean)
    if not changes:
        return request
    for name, value in clean.items():
        setattr(request, name, value)
    _full_clean(request)
    request.save()
    record_audit(workspace=request.workspace, actor=actor, action="feature_request.updated", obj=request,
                 changes=changes)
    return request


@transaction.atomic
def merge_requests(*, duplicate, into, actor):
    """Move the evidence of `duplicate` onto `into`, then delete `duplicate` (the audit log keeps
    its title, where it went, and each piece of evidence moved)."""
    authorize(actor, "voice.manage_requests", duplicate)
    authorize(actor, "voice.manage_requests", into)
    if duplicate.pk == into.pk:
        raise DomainError(_("A request cannot be merged into itself."), field="into")
    if duplicate.workspace_id != into.workspace_id:
        raise DomainError(_("Not found in this workspace."), field="into")
    evidence = list(FeatureRequestEvidence.objects.for_workspace(duplicate.workspace).filter(request=duplicate))
    FeatureRequestEvidence.objects.for_workspace(duplicate.workspace).filter(
        pk__in=[e.pk for e in evidence]).update(request=into)
    AuditEvent.objects.bulk_create([audit_event(
        workspace=into.workspace, actor=actor, action="feature_evidence.moved", obj=e,
        changes={"request": [str(duplicate.pk), str(into.pk)]}) for e in evidence])
    record_audit(workspace=into.workspace, actor=actor, action="feature_request.merged", obj=duplicate,
                 changes={"merged_into": [None, f"#{into.pk} {into.title}"[:200]]})
    duplicate.delete()
    return into


@transaction.atomic
def delete_request(*, request, actor):
    authorize(actor, "voice.manage_requests", request)
    record_audit(workspace=request.workspace, actor=actor, action="feature_request.deleted", obj=request)
    request.delete()


@transaction.atomic
def add_evidence(*, request, actor, account, date=None, quote="", source=EvidenceSource.CALL, contact=None):
    """An account asking for `request`: a quote, from whom, when and where we heard it."""
    authorize(actor, "voice.add_evidence", account)
    workspace = request.workspace
    if account.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="account")
    if contact is not None and contact.account_id != account.pk:
        raise DomainError(_("This contact is not one of the account's."), field="contact")
    if source not in EvidenceSource.values:
        raise DomainError(_("Choose a source."), field="source")
    day = date or workspace.today()
    if not isinstance(day, dt.date) or day > workspace.today():
        raise DomainError(_("The date cannot be in the future."), field="date")
    evidence = FeatureRequestEvidence(
        workspace=workspace, request=request, account=account, contact=contact,
        quote=_clean_text(quote, "quote", max_length=5000), date=day, source=source,
        created_by=acting_member(actor),
    )
    _full_clean(evidence)
    evidence.save()
    record_audit(workspace=workspace, actor=actor, action="feature_evidence.added", obj=evidence,
                 changes={"request": [None, str(request.pk)], "account": [None, str(account.pk)]})
    return evidence


@transaction.atomic
def remove_evidence(*, evidence, actor):
    authorize(actor, "voice.remove_evidence", evidence)
    record_audit(workspace=evidence.workspace, actor=actor, action="feature_evidence.removed", obj=evidence)
    evidence.delete()


# --- survey responses --------------------------------------------------------------------------------
RESPONSE_FIELDS = ("contact", "kind", "score", "comment", "responded_on")


def _check_response(values, workspace):
    """{field: [message]} of what is wrong with one response's values ({} when it is right)."""
    errors = {}
    kind = values.get("kind", SurveyKind.NPS)
    if kind not in SurveyKind.values:
        errors["kind"] = [_("Choose nps or csat.")]
    else:
        low, high = SCORE_RANGE[kind]
        score = values.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
            errors["score"] = [_("An %(kind)s score is a whole number from %(low)s to %(high)s.")
                               % {"kind": SurveyKind(kind).label, "low": low, "high": high}]
    contact = values.get("contact")
    if contact is None:
        errors["contact"] = [_("This field is required.")]
    elif contact.workspace_id != workspace.pk:
        errors["contact"] = [_("Not found in this workspace.")]
    day = values.get("responded_on")
    if not isinstance(day, dt.date):
        errors["responded_on"] = [_("This field is required.")]
    elif day > workspace.today():
        errors["responded_on"] = [_("The date cannot be in the future.")]
    comment = values.get("comment") or ""
    if len(comment) > 5000:
        errors["comment"] = [_("At most %(n)s characters.") % {"n": 5000}]
    if "\x00" in comment:
        errors["comment"] = [_("Remove the NUL character.")]
    return errors


def _apply(response, values):
    """Set `values` on `response`; the changes {field: [old, new]} (empty when nothing changed)."""
    data = {name: values[name] for name in RESPONSE_FIELDS if name in values}
    if "contact" in data:
        data["account_id"] = data["contact"].account_id
    compare = {("contact_id" if k == "contact" else k): (v.pk if k == "contact" else v) for k, v in data.items()}
    changes = model_changes(response, compare)
    for name, value in data.items():
        setattr(response, name, value)
    return changes


@transaction.atomic
def bulk_upsert_responses(*, workspace, actor, rows):
    """Create or update survey responses by external ID (a row without one is always new): all or
    none. `rows` are dicts of parsed fields (contact a Contact). Raises RowErrors by row index."""
    authorize(actor, "voice.record_responses")
    external_ids = [row.get("external_id") or "" for row in rows]
    existing = {r.external_id: r for r in SurveyResponse.objects.for_workspace(workspace).filter(
        external_id__in=[e for e in external_ids if e])}
    errors, plans, seen = [], [], {}
    for index, row in enumerate(rows):
        external_id = external_ids[index]
        if external_id and external_id in seen:
            errors.append({"index": index, "errors": {"external_id": [
                _("Also at index %(index)d of this list.") % {"index": seen[external_id]}]}})
            continue
        if external_id:
            seen[external_id] = index
        instance = existing.get(external_id) if external_id else None
        values = {"kind": SurveyKind.NPS, **row} if instance is None else {
            "contact": instance.contact, "kind": instance.kind, "score": instance.score,
            "comment": instance.comment, "responded_on": instance.responded_on, **row}
        problems = _check_response(values, workspace)
        if problems:
            errors.append({"index": index, "errors": problems})
            continue
        if instance is None:
            instance = SurveyResponse(workspace=workspace, external_id=external_id)
            _apply(instance, values)
            plans.append((instance, True, {}))
        else:
            plans.append((instance, False, _apply(instance, values)))
    if errors:
        raise RowErrors(errors)
    new = [instance for instance, created, _changes in plans if created]
    SurveyResponse.objects.bulk_create(new, batch_size=1000)
    changed = [(instance, changes) for instance, created, changes in plans if not created and changes]
    for instance, _changes in changed:
        instance.save()
    events = [audit_event(workspace=workspace, actor=actor, action="survey_response.recorded", obj=instance)
              for instance in new]
    events += [audit_event(workspace=workspace, actor=actor, action="survey_response.updated", obj=instance,
                           changes=changes) for instance, changes in changed]
    AuditEvent.objects.bulk_create(events, batch_size=1000)
    created = len(new)
    return {"created": created, "updated": len(plans) - created,
            "rows": [(instance, created) for instance, created, _changes in plans]}


def upsert_response(*, workspace, actor, external_id, **fields):
    """One response by external ID: (response, created)."""
    try:
        result = bulk_upsert_responses(workspace=workspace, actor=actor,
                                       rows=[{"external_id": external_id, **fields}])
    except RowErrors as exc:
        field, messages = next(iter(exc.errors[0]["errors"].items()))
        raise DomainError(" ".join(messages), field=field) from None
    return result["rows"][0]


@transaction.atomic
def delete_response(*, response, actor):
    authorize(actor, "voice.record_responses", response)
    record_audit(workspace=response.workspace, actor=actor, action="survey_response.deleted", obj=response)
    response.delete()


# --- CSV/XLSX upload of survey responses ---------------------------------------------------------------
UPLOAD_COLUMNS = {
    # canonical name: the headers that mean it (lower case, English and Japanese)
    "external_id": {"external_id", "external id", "id", "response id", "外部id", "回答id"},
    "contact": {"contact", "contact email", "email", "contact external id", "コンタクト", "メール", "メールアドレス"},
    "kind": {"kind", "survey", "type", "種類", "調査"},
    "score": {"score", "スコア", "点数"},
    "comment": {"comment", "コメント"},
    "responded_on": {"responded_on", "responded on", "date", "回答日", "日付"},
}
REQUIRED_COLUMNS = ("contact", "score", "responded_on")


class UploadErrors(Exception):
    """The sheet cannot be saved; `errors` is a list of {"row", "field", "message"} (row None: the file)."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


def _column_map(headers):
    found = {}
    for position, header in enumerate(headers):
        name = clean_text(header).lower().replace("_", " ").strip()
        for canonical, names in UPLOAD_COLUMNS.items():
            if name in names or name == canonical.replace("_", " "):
                found.setdefault(canonical, position)
    return found


def import_responses(*, workspace, actor, data, filename=""):
    """Read a CSV/XLSX of survey responses and upsert them all, or none: a problem raises
    UploadErrors naming the row (as the spreadsheet numbers it) and the column."""
    authorize(actor, "voice.record_responses")
    try:
        sheet = read_file(data, filename=filename)
    except FileError as exc:
        raise UploadErrors([{"row": None, "field": "file", "message": str(exc)}]) from None
    columns = _column_map(sheet.headers)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise UploadErrors([{"row": None, "field": name, "message": _("This column is missing.")} for name in missing])
    if len(sheet.rows) > MAX_UPLOAD_ROWS:
        raise UploadErrors([{"row": None, "field": "file",
                             "message": _("At most %(n)s rows per file.") % {"n": MAX_UPLOAD_ROWS}}])

    def cell(cells, name):
        position = columns.get(name)
        return cells[position] if position is not None and position < len(cells) else None

    references = sorted({clean_text(cell(cells, "contact")) for _number, cells in sheet.rows} - {""})
    contacts = contacts_by_reference(workspace=workspace, references=references)
    errors, rows, numbers = [], [], []
    for number, cells in sheet.rows:
        row, problems = {}, {}
        reference = clean_text(cell(cells, "contact"))
        found = contacts.get(reference) if reference else _("This field is required.")
        if isinstance(found, Contact):
            row["contact"] = found
        else:
            problems["contact"] = str(found)
        kind = clean_text(cell(cells, "kind")).lower() or SurveyKind.NPS
        if kind not in SurveyKind.values:
            problems["kind"] = _("Write nps or csat.")
        row["kind"] = kind
        for name, parse in (("score", parse_int), ("responded_on", parse_date)):
            raw = cell(cells, name)
            if is_blank(raw):
                problems[name] = _("This field is required.")
                continue
            try:
                row[name] = parse(raw)
            except CellError as exc:
                problems[name] = exc.message
        row["comment"] = clean_text(cell(cells, "comment"))
        row["external_id"] = clean_text(cell(cells, "external_id"))[:100]
        for name, messages in _check_response(row, workspace).items():
            problems.setdefault(name, " ".join(messages))
        for name, message in problems.items():
            errors.append({"row": number, "field": name, "message": message})
        rows.append(row)
        numbers.append(number)
    if not errors:
        try:
            return bulk_upsert_responses(workspace=workspace, actor=actor, rows=rows)
        except RowErrors as exc:
            errors = [{"row": numbers[e["index"]], "field": field, "message": " ".join(messages)}
                      for e in exc.errors for field, messages in e["errors"].items()]
    raise UploadErrors(errors)
