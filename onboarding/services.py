"""Writes of onboarding: defaults, settings, handoffs (page, API, CSV), the milestone plan and the
milestones' done days (page, API, CSV). Every write checks the policy and leaves an audit row."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact, TouchTier
from accounts.selectors import contacts_by_reference
from imports.selectors import CellError, FileError, clean_text, is_blank, parse_date, read_file
from workspaces.audit import audit_event, record_audit
from workspaces.errors import DomainError, NotAllowed, RowErrors
from workspaces.models import AuditEvent
from workspaces.policy import acting_member, authorize

from . import defaults, selectors
from .models import HANDOFF_FIELDS, AccountMilestone, Handoff, MilestoneTemplate, OnboardingSettings
from .signals import handoff_completed

TEXT_FIELDS = ("why_bought", "objectives", "contract_terms", "fit_criteria", "risks")
CONTACT_FIELDS = ("decision_maker", "key_person")
MAX_TEXT = 5000
MAX_UPLOAD_ROWS = 5000


def ensure_defaults(*, workspace):
    """The settings row and the default milestone plan; idempotent (a key already there is left alone)."""
    OnboardingSettings.objects.for_workspace(workspace).get_or_create(workspace=workspace)
    existing = set(MilestoneTemplate.objects.for_workspace(workspace).filter(tier="").values_list("key", flat=True))
    MilestoneTemplate.objects.bulk_create([
        MilestoneTemplate(workspace=workspace, tier="", **row)
        for row in defaults.milestone_templates() if row["key"] not in existing])


def on_stage_move_checks(sender, *, workspace, account_ids, **kwargs):
    """Receiver of accounts.signals.stage_move_checks: the handoff gate."""
    return selectors.gate_errors(workspace=workspace, account_ids=account_ids)


# --- settings and the plan ---------------------------------------------------------------------------
@transaction.atomic
def save_settings(*, workspace, actor, required_fields=None, handoff_gates_stage=None):
    authorize(actor, "onboarding.manage")
    settings, _created = OnboardingSettings.objects.for_workspace(workspace).get_or_create(workspace=workspace)
    changes = {}
    if required_fields is not None:
        unknown = [name for name in required_fields if name not in HANDOFF_FIELDS]
        if unknown:
            raise DomainError(_("Unknown handoff field(s): %(names)s.") % {"names": ", ".join(unknown)},
                              field="required_fields")
        wanted = [name for name in HANDOFF_FIELDS if name in required_fields]
        if wanted != settings.required_fields:
            changes["required_fields"] = [", ".join(settings.required_fields), ", ".join(wanted)]
            settings.required_fields = wanted
    if handoff_gates_stage is not None and handoff_gates_stage != settings.handoff_gates_stage:
        changes["handoff_gates_stage"] = [str(settings.handoff_gates_stage), str(handoff_gates_stage)]
        settings.handoff_gates_stage = handoff_gates_stage
    settings.save()
    if "required_fields" in changes:
        _recheck_completion(workspace, actor, settings.required_fields)
    if changes:
        record_audit(workspace=workspace, actor=actor, action="onboarding_settings.updated", obj=settings,
                     changes=changes)
    return settings


def _recheck_completion(workspace, actor, required):
    """After the required fields changed: handoffs now complete get their completion, handoffs now
    incomplete lose it (each change audited as the handoff's)."""
    newly, audits = [], []
    now = timezone.now()
    for handoff in Handoff.objects.for_workspace(workspace).iterator(chunk_size=2000):
        complete = not handoff.missing(required)
        if complete and handoff.completed_at is None:
            change = [None, now.isoformat()]
            handoff.completed_at, handoff.completed_by = now, acting_member(actor)
            newly.append(handoff.account_id)
        elif not complete and handoff.completed_at is not None:
            change = [handoff.completed_at.isoformat(), None]
            handoff.completed_at, handoff.completed_by = None, None
        else:
            continue
        handoff.save(update_fields=["completed_at", "completed_by", "updated_at"])
        audits.append(audit_event(workspace=workspace, actor=actor, obj=handoff, action="handoff.updated",
                                  changes={"completed_at": change}))
    AuditEvent.objects.bulk_create(audits)
    if newly:
        handoff_completed.send(sender=Handoff, workspace=workspace, account_ids=newly)


def _clean_template(workspace, template, values):
    problems = {}
    name = (values.get("name") or "").strip()
    if not name:
        problems["name"] = _("This field is required.")
    elif len(name) > 80:
        problems["name"] = _("At most 80 characters.")
    key = (values.get("key") or "").strip()
    if not key:
        problems["key"] = _("This field is required.")
    elif len(key) > 40 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in key):
        problems["key"] = _("Letters, digits, - and _ only (at most 40).")
    day = values.get("target_day")
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 3650:
        problems["target_day"] = _("A whole number of days between 0 and 3650.")
    tier = values.get("tier") or ""
    if tier not in ("", *TouchTier.values):
        problems["tier"] = _("Not a touch tier.")
    taken = MilestoneTemplate.objects.for_workspace(workspace).filter(key=key, tier=tier)
    if template is not None:
        taken = taken.exclude(pk=template.pk)
    if not problems and taken.exists():
        problems["key"] = _("This milestone already has a row for this tier.")
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    return {"key": key, "name": name, "target_day": day, "tier": tier,
            "position": values.get("position") if isinstance(values.get("position"), int) else 0}


@transaction.atomic
def save_template(*, workspace, actor, template=None, **values):
    authorize(actor, "onboarding.manage")
    created = template is None
    if template is not None:
        values = {"key": template.key, "name": template.name, "target_day": template.target_day,
                  "tier": template.tier, "position": template.position, **values}
    clean = _clean_template(workspace, template, values)
    template = template or MilestoneTemplate(workspace=workspace)
    changes = {k: [str(getattr(template, k, "")), str(v)] for k, v in clean.items()
               if created or getattr(template, k) != v}
    for name, value in clean.items():
        setattr(template, name, value)
    template.save()
    record_audit(workspace=workspace, actor=actor, obj=template, changes=changes,
                 action="milestone_template.created" if created else "milestone_template.updated")
    return template


@transaction.atomic
def delete_template(*, template, actor):
    authorize(actor, "onboarding.manage")
    record_audit(workspace=template.workspace, actor=actor, action="milestone_template.deleted", obj=template)
    template.delete()


def _account_refused(workspace, actor, action, account, refuse_rows):
    """Why a row's account cannot be written (another workspace's, or one the actor may not edit), or
    None. A refusal of the policy is the row's error where the caller collects them, else raised (403)."""
    if account is None or account.workspace_id != workspace.pk:
        return _("Not found in this workspace.")
    try:
        authorize(actor, action, account)
    except NotAllowed as exc:
        if not refuse_rows:
            raise
        return str(exc.message)
    return None


# --- handoffs ----------------------------------------------------------------------------------------
def _check_handoff_values(workspace, values):
    problems = {}
    for name in TEXT_FIELDS:
        if name in values:
            values[name] = (values[name] or "").strip()
            if len(values[name]) > MAX_TEXT:
                problems[name] = _("At most %(n)s characters.") % {"n": MAX_TEXT}
    for name in CONTACT_FIELDS:
        contact = values.get(name)
        if contact is not None and (not isinstance(contact, Contact) or contact.workspace_id != workspace.pk):
            problems[name] = _("Not found in this workspace.")
    return problems


@transaction.atomic
def save_handoffs(*, workspace, actor, rows, refuse_rows=False):
    """Create or update the handoffs of `rows` ([{"account": Account, <field>: value…}], a field left
    out keeps its value), all or nothing: RowErrors names each bad row's index and field. A row of an
    account the actor may not edit raises NotAllowed, or is a row error on `account` with
    refuse_rows (imports). Returns the handoffs, in row order."""
    required = selectors.required_fields(workspace)
    accounts = [row["account"] for row in rows]
    existing = {h.account_id: h for h in Handoff.objects.for_workspace(workspace).filter(
        account_id__in=[a.pk for a in accounts if a is not None])}
    errors, plans, seen = [], [], set()
    for index, row in enumerate(rows):
        values = dict(row)
        account = values.pop("account")
        problems = {}
        refused = _account_refused(workspace, actor, "onboarding.edit_handoff", account, refuse_rows)
        if refused:
            errors.append({"index": index, "errors": {"account": [refused]}})
            continue
        if account.pk in seen:
            errors.append({"index": index, "errors": {"account": [_("This account is in the file twice.")]}})
            continue
        seen.add(account.pk)
        problems = _check_handoff_values(workspace, values)
        if problems:
            errors.append({"index": index, "errors": {k: [str(v)] for k, v in problems.items()}})
            continue
        plans.append((account, values))
    if errors:
        raise RowErrors(errors)
    now, member = timezone.now(), acting_member(actor)
    saved, audits, newly = [], [], []
    for account, values in plans:
        handoff = existing.get(account.pk)
        created = handoff is None
        if created:
            handoff = Handoff(workspace=workspace, account=account)
        changes = {}
        for name in HANDOFF_FIELDS:
            if name not in values:
                continue
            new = values[name]
            attr = f"{name}_id" if name in CONTACT_FIELDS else name
            new_value = new.pk if name in CONTACT_FIELDS and new is not None else new
            old = getattr(handoff, attr)
            if old != new_value:
                changes[name] = [None if old is None else str(old), None if new_value is None else str(new_value)]
                setattr(handoff, attr, new_value)
        complete = not handoff.missing(required)
        if complete and handoff.completed_at is None:
            handoff.completed_at, handoff.completed_by = now, member
            changes["completed_at"] = [None, now.isoformat()]
            newly.append(account.pk)
        elif not complete and handoff.completed_at is not None:
            changes["completed_at"] = [handoff.completed_at.isoformat(), None]
            handoff.completed_at, handoff.completed_by = None, None
        if created or changes:
            handoff.save()
            audits.append(audit_event(workspace=workspace, actor=actor, obj=handoff, changes=changes,
                                      action="handoff.created" if created else "handoff.updated"))
        saved.append(handoff)
    AuditEvent.objects.bulk_create(audits)
    if newly:
        handoff_completed.send(sender=Handoff, workspace=workspace, account_ids=newly)
    return saved


def save_handoff(*, workspace, actor, account, **values):
    """One account's handoff (page and API): errors as DomainError naming the field."""
    try:
        return save_handoffs(workspace=workspace, actor=actor, rows=[{"account": account, **values}])[0]
    except RowErrors as exc:
        field, messages = next(iter(exc.errors[0]["errors"].items()))
        raise DomainError(" ".join(messages), field=field) from None


# --- milestones --------------------------------------------------------------------------------------
@transaction.atomic
def record_milestones(*, workspace, actor, rows, refuse_rows=False):
    """Set (or clear, with None) the done day of account milestones: rows [{"account", "key",
    "done_on"}], all or nothing (RowErrors by index and field). A done day cannot be after the
    workspace's today. Returns the AccountMilestone rows."""
    names = selectors.milestone_names(workspace)
    today = workspace.today()
    errors, plans = [], {}
    for index, row in enumerate(rows):
        account, key, done_on = row.get("account"), row.get("key"), row.get("done_on")
        problems = {}
        refused = _account_refused(workspace, actor, "onboarding.record_milestone", account, refuse_rows)
        if refused:
            errors.append({"index": index, "errors": {"account": [refused]}})
            continue
        if key not in names:
            problems["milestone"] = [_("Not a milestone of this workspace's onboarding plan.")]
        if done_on is not None and not isinstance(done_on, dt.date):
            problems["done_on"] = [_("Enter a valid date.")]
        elif done_on is not None and done_on > today:
            problems["done_on"] = [_("A milestone cannot be done after today.")]
        if problems:
            errors.append({"index": index, "errors": problems})
            continue
        plans[(account.pk, key)] = (account, key, done_on)
    if errors:
        raise RowErrors(errors)
    existing = {(m.account_id, m.key): m for m in AccountMilestone.objects.for_workspace(workspace).filter(
        account_id__in={pk for pk, _k in plans})}
    member, saved, audits = acting_member(actor), [], []
    for (pk, key), (account, _key, done_on) in plans.items():
        milestone = existing.get((pk, key)) or AccountMilestone(workspace=workspace, account=account, key=key)
        if milestone.pk is not None and milestone.done_on == done_on:
            saved.append(milestone)
            continue
        changes = {"account": [None, str(account)], "milestone": [None, names[key]],
                   "done_on": [milestone.done_on and milestone.done_on.isoformat(), done_on and done_on.isoformat()]}
        milestone.done_on, milestone.done_by = done_on, member if done_on else None
        milestone.save()
        audits.append(audit_event(workspace=workspace, actor=actor, obj=milestone, action="milestone.updated",
                                  changes=changes))
        saved.append(milestone)
    AuditEvent.objects.bulk_create(audits)
    return saved


def record_milestone(*, workspace, actor, account, key, done_on):
    try:
        return record_milestones(workspace=workspace, actor=actor,
                                 rows=[{"account": account, "key": key, "done_on": done_on}])[0]
    except RowErrors as exc:
        field, messages = next(iter(exc.errors[0]["errors"].items()))
        raise DomainError(" ".join(messages), field=field) from None


# --- CSV ---------------------------------------------------------------------------------------------
class UploadErrors(Exception):
    """The sheet cannot be saved; `errors` is a list of {"row", "field", "message"} (row None: the file)."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


HANDOFF_COLUMNS = {
    "account": {"account", "account external id", "account_external_id", "external id", "取引先", "アカウント"},
    "why_bought": {"why bought", "why they bought", "購入理由"},
    "objectives": {"objectives", "目的", "目標"},
    "decision_maker": {"decision maker", "決裁者"},
    "key_person": {"key person", "キーパーソン"},
    "contract_terms": {"contract terms", "契約条件"},
    "fit_criteria": {"fit criteria", "適合条件"},
    "risks": {"risks", "リスク"},
}
MILESTONE_COLUMNS = {
    "account": HANDOFF_COLUMNS["account"],
    "milestone": {"milestone", "key", "マイルストーン"},
    "done_on": {"done on", "done_on", "date", "完了日"},
}


def _column_map(headers, spec):
    found = {}
    for position, header in enumerate(headers):
        name = clean_text(header).lower().replace("_", " ").strip()
        for canonical, names in spec.items():
            if name in names or name == canonical.replace("_", " "):
                found.setdefault(canonical, position)
    return found


def _read(data, filename, spec, required):
    try:
        sheet = read_file(data, filename=filename)
    except FileError as exc:
        raise UploadErrors([{"row": None, "field": "file", "message": str(exc)}]) from None
    columns = _column_map(sheet.headers, spec)
    missing = [name for name in required if name not in columns]
    if missing:
        raise UploadErrors([{"row": None, "field": name, "message": _("This column is missing.")} for name in missing])
    if len(sheet.rows) > MAX_UPLOAD_ROWS:
        raise UploadErrors([{"row": None, "field": "file",
                             "message": _("At most %(n)s rows per file.") % {"n": MAX_UPLOAD_ROWS}}])

    def cell(cells, name):
        position = columns.get(name)
        return cells[position] if position is not None and position < len(cells) else None

    return sheet, columns, cell


def find_accounts(workspace, references):
    """{reference: Account or message}: an account's external ID, else its name when one account has it."""
    accounts = Account.objects.for_workspace(workspace)
    refs = [r for r in references if r]
    by_ext = {a.external_id: a for a in accounts.filter(external_id__in=refs).exclude(external_id="")}
    by_name = {}
    for account in accounts.filter(name__in=[r for r in refs if r not in by_ext]):
        by_name.setdefault(account.name, []).append(account)
    found = {}
    for ref in refs:
        if ref in by_ext:
            found[ref] = by_ext[ref]
        elif len(by_name.get(ref, [])) == 1:
            found[ref] = by_name[ref][0]
        elif by_name.get(ref):
            found[ref] = _("Several accounts have this name; use the account's external ID.")
        else:
            found[ref] = _("No account with this external ID or name.")
    return found


def _finish(errors, numbers, rows, save, dry_run):
    if not errors:
        try:
            with transaction.atomic():
                result = save(rows)
                if dry_run:
                    transaction.set_rollback(True)
            return result
        except RowErrors as exc:
            errors = [{"row": numbers[e["index"]], "field": field, "message": " ".join(messages)}
                      for e in exc.errors for field, messages in e["errors"].items()]
    raise UploadErrors(errors)


def import_handoffs(*, workspace, actor, data, filename="", dry_run=False):
    """A CSV/XLSX of handoffs (a CRM export): all rows saved, or none and every problem by row and
    column. An empty cell leaves the field as it is. With dry_run nothing is kept."""
    authorize(actor, "onboarding.import")
    sheet, columns, cell = _read(data, filename, HANDOFF_COLUMNS, ("account",))
    accounts = find_accounts(workspace, {clean_text(cell(c, "account")) for _n, c in sheet.rows})
    contacts = contacts_by_reference(workspace=workspace, references={
        clean_text(cell(c, name)) for _n, c in sheet.rows for name in CONTACT_FIELDS})
    errors, rows, numbers = [], [], []
    for number, cells in sheet.rows:
        row, problems = {}, {}
        ref = clean_text(cell(cells, "account"))
        found = accounts.get(ref) if ref else _("This field is required.")
        if isinstance(found, Account):
            row["account"] = found
        else:
            problems["account"] = str(found)
        for name in TEXT_FIELDS:
            if name in columns and not is_blank(cell(cells, name)):
                row[name] = clean_text(cell(cells, name))
        for name in CONTACT_FIELDS:
            if name in columns and not is_blank(cell(cells, name)):
                contact = contacts.get(clean_text(cell(cells, name)))
                if isinstance(contact, Contact):
                    row[name] = contact
                else:
                    problems[name] = str(contact)
        for name, message in problems.items():
            errors.append({"row": number, "field": name, "message": message})
        rows.append(row)
        numbers.append(number)
    return _finish(errors, numbers, rows, lambda rows: save_handoffs(
        workspace=workspace, actor=actor, rows=rows, refuse_rows=True), dry_run)


def import_milestones(*, workspace, actor, data, filename="", dry_run=False):
    """A CSV/XLSX of milestone done days (account, milestone key or name, done on; an empty date
    clears it), all or nothing."""
    authorize(actor, "onboarding.import")
    sheet, _columns, cell = _read(data, filename, MILESTONE_COLUMNS, ("account", "milestone", "done_on"))
    accounts = find_accounts(workspace, {clean_text(cell(c, "account")) for _n, c in sheet.rows})
    names = selectors.milestone_names(workspace)
    by_name = {name.lower(): key for key, name in names.items()}
    errors, rows, numbers = [], [], []
    for number, cells in sheet.rows:
        row, problems = {}, {}
        ref = clean_text(cell(cells, "account"))
        found = accounts.get(ref) if ref else _("This field is required.")
        if isinstance(found, Account):
            row["account"] = found
        else:
            problems["account"] = str(found)
        label = clean_text(cell(cells, "milestone"))
        key = label if label in names else by_name.get(label.lower())
        if key is None:
            problems["milestone"] = _("Not a milestone of this workspace's onboarding plan.")
        row["key"] = key
        raw = cell(cells, "done_on")
        row["done_on"] = None
        if not is_blank(raw):
            try:
                row["done_on"] = parse_date(raw)
            except CellError as exc:
                problems["done_on"] = exc.message
        for name, message in problems.items():
            errors.append({"row": number, "field": name, "message": message})
        rows.append(row)
        numbers.append(number)
    return _finish(errors, numbers, rows, lambda rows: record_milestones(
        workspace=workspace, actor=actor, rows=rows, refuse_rows=True), dry_run)
