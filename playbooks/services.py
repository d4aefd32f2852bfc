"""Writes of playbook designs: create, edit (a changed definition is a new version), enable, delete,
and the default library of a new workspace. Enrolling and running are the engine's (engine.py).

Only managers (and admins) design playbooks: every write here checks the actor first.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Account, LifecycleStage
from segments.selectors import accounts_matching, segment_names, segments_taking_additions
from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import acting_member, authorize

from .definition import validate_definition
from .library import library
from .models import Playbook, PlaybookRun, PlaybookVersion, RunStatus

EDITABLE_FIELDS = ("name", "description", "enabled")


def latest_version(playbook):
    return PlaybookVersion.objects.for_workspace(playbook.workspace).filter(playbook=playbook).order_by("-number").first()


def _fail(path, message):
    raise DomainError(f"{path}: {message}", field="definition")


def check_references(*, workspace, definition):
    """The segments and lifecycle stages a (validated) definition names exist in this workspace.

    An id of another workspace reads exactly like one that does not exist."""
    trigger = definition["trigger"]
    if trigger.get("segment") is not None and not segment_names(workspace=workspace, ids=[trigger["segment"]]):
        _fail("trigger.segment", _("no such segment in this workspace."))
    stages = set(LifecycleStage.objects.for_workspace(workspace).values_list("pk", flat=True))
    if trigger.get("stage") is not None and trigger["stage"] not in stages:
        _fail("trigger.stage", _("no such lifecycle stage in this workspace."))
    named = {step["segment"] for step in definition["steps"] if step["kind"] == "add_to_segment"}
    taking = segments_taking_additions(workspace=workspace, ids=named) if named else {}
    for index, step in enumerate(definition["steps"]):
        if step["kind"] == "set_field" and step["field"] == "stage" and step["value"] not in stages:
            _fail(f"steps[{index + 1}].value", _("no such lifecycle stage in this workspace."))
        if step["kind"] == "add_to_segment" and step["segment"] not in taking:
            _fail(f"steps[{index + 1}].segment", _(
                "no such segment in this workspace counts accounts added by a playbook (its rules need the "
                "condition “Added by hand or by a playbook: yes”)."))
    if definition.get("condition") is not None:
        check_condition_shape(definition["condition"], "condition")
        check_condition_rules(workspace=workspace, condition=definition["condition"])


def check_condition_rules(*, workspace, condition):
    """The condition's fields, operators and values, as the segments app validates its own rules
    (through its selector, which compiles them for the engine); refused here, at design time, rather
    than holding every account back at night."""
    try:
        accounts_matching(workspace=workspace, rules=condition, as_of=workspace.today())
    except DomainError as exc:
        _fail("condition", exc.message)


MAX_CONDITION_DEPTH = 5


def check_condition_shape(group, path, depth=1):
    """The shape the segment rule editor writes: groups of {"op": "and"|"or", "conditions": [...]},
    leaves naming a field and an operator. What each field and operator accepts is the segments
    app's to say (the engine evaluates the rules through its selectors)."""
    if not isinstance(group, dict) or group.get("op", "and") not in ("and", "or") \
            or not isinstance(group.get("conditions", []), list):
        _fail(path, _("segment rules are expected: {\"op\": \"and\", \"conditions\": [...]}."))
    if depth > MAX_CONDITION_DEPTH:
        _fail(path, _("at most %(n)s levels of groups.") % {"n": MAX_CONDITION_DEPTH})
    for index, item in enumerate(group.get("conditions", [])):
        inner = f"{path}.conditions[{index}]"
        if isinstance(item, dict) and "conditions" in item:
            check_condition_shape(item, inner, depth + 1)
        elif not isinstance(item, dict) or not isinstance(item.get("field"), str) \
                or not isinstance(item.get("op"), str):
            _fail(inner, _("a condition names a field and an operator."))


def clean_definition(*, workspace, definition):
    """The validated definition with its defaults, refusing references outside the workspace."""
    clean = validate_definition(definition)
    check_references(workspace=workspace, definition=clean)
    return clean


@transaction.atomic
def save_playbook(*, workspace, actor, playbook=None, definition=None, note="", **fields):
    """Create or edit a playbook; `fields` may hold name, description and enabled.

    A changed definition becomes a new immutable version (number + 1): runs already going keep the
    version they started with."""
    authorize(actor, "playbooks.manage", playbook)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(name)s.") % {"name": sorted(unknown)[0]}, field=sorted(unknown)[0])
    created = playbook is None
    if created:
        playbook = Playbook(workspace=workspace, created_by=acting_member(actor))
        if definition is None:
            raise DomainError(_("A playbook needs a definition: a trigger and at least one step."), field="definition")
    elif playbook.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="playbook")
    if "name" in fields or created:
        fields["name"] = (fields.get("name") or "").strip()
        if not fields["name"]:
            raise DomainError(_("Give the playbook a name."), field="name")
        duplicate = Playbook.objects.for_workspace(workspace).filter(name=fields["name"]).exclude(pk=playbook.pk)
        if duplicate.exists():
            raise DomainError(_("A playbook with this name already exists."), field="name")
    if "description" in fields:
        fields["description"] = fields["description"] or ""
    clean = clean_definition(workspace=workspace, definition=definition) if definition is not None else None
    before = {name: getattr(playbook, name) for name in fields}
    for name, value in fields.items():
        setattr(playbook, name, value)
    if clean is not None:
        playbook.trigger_kind = clean["trigger"]["kind"]
    playbook.full_clean(exclude=["created_by"])
    playbook.save()
    changed = {name: [str(before[name]), str(getattr(playbook, name))] for name in fields
               if before[name] != getattr(playbook, name)}
    if created or changed:
        record_audit(workspace=workspace, actor=actor, obj=playbook,
                     action="playbook.created" if created else "playbook.updated", changes={} if created else changed)
    version = latest_version(playbook) if not created else None
    if clean is not None and (version is None or version.definition != clean):
        version = PlaybookVersion.objects.create(
            workspace=workspace, playbook=playbook, number=(version.number + 1) if version else 1,
            definition=clean, note=(note or "")[:300], created_by=acting_member(actor),
        )
        record_audit(workspace=workspace, actor=actor, action="playbook.version", obj=playbook,
                     changes={"version": version.number, "note": (note or "")[:300]})
    return playbook


@transaction.atomic
def set_enabled(*, playbook, actor, enabled):
    authorize(actor, "playbooks.manage", playbook)
    enabled = bool(enabled)
    if playbook.enabled != enabled:
        Playbook.objects.for_workspace(playbook.workspace).filter(pk=playbook.pk).update(enabled=enabled)
        playbook.enabled = enabled
        record_audit(workspace=playbook.workspace, actor=actor, obj=playbook,
                     action="playbook.enabled" if enabled else "playbook.disabled")
    return playbook


@transaction.atomic
def delete_playbook(*, playbook, actor):
    """Delete a playbook that never ran. One with runs keeps them (their tasks and the "did it
    work?" report point at them): disable it instead."""
    authorize(actor, "playbooks.manage", playbook)
    if PlaybookRun.objects.for_workspace(playbook.workspace).filter(playbook=playbook).exists():
        raise DomainError(_("This playbook has runs; their history stays. Disable it instead of deleting it."),
                          field="playbook")
    record_audit(workspace=playbook.workspace, actor=actor, action="playbook.deleted", obj=playbook)
    playbook.delete()


def enrol(*, playbook, actor, accounts, as_of=None):
    """Start `playbook` by hand on `accounts` (ids or accounts of the playbook's workspace): the
    account's CSM or a manager, each account checked; the engine applies the enrolment rules."""
    from . import engine

    workspace = playbook.workspace
    ids = [a.pk if isinstance(a, Account) else a for a in accounts]
    if not ids:
        raise DomainError(_("Choose at least one account."), field="accounts")
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise DomainError(_("Accounts are a list of account IDs."), field="accounts")
    found = {a.pk: a for a in Account.objects.for_workspace(workspace).filter(pk__in=ids).select_related("owner")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise DomainError(_("Not found in this workspace (id %(id)s).") % {"id": missing[0]}, field="accounts")
    chosen = [found[i] for i in dict.fromkeys(ids)]
    for account in chosen:
        authorize(actor, "playbooks.enrol", account)
    result = engine.enrol_accounts(playbook=playbook, accounts=chosen, actor=actor, as_of=as_of)
    skipped = []
    for entry in result.get("skipped", []):
        account = entry.get("account")
        account = found.get(account.pk if isinstance(account, Account) else account)
        skipped.append({"account": account.pk if account else entry.get("account"),
                        "name": account.name if account else "", "why": str(entry.get("why", ""))})
    return {"enrolled": [r.pk if hasattr(r, "pk") else r for r in result.get("enrolled", [])], "skipped": skipped}


def end_run(*, run, actor, why=""):
    """End an active run by hand (the account's CSM or a manager); its open tasks are cancelled
    or kept as the run's definition says."""
    from . import engine

    authorize(actor, "accounts.change_child", run)
    if run.status != RunStatus.ACTIVE:
        raise DomainError(_("This run has already ended."), field="run")
    why = (why or "").strip()[:200] or _("Ended by hand")
    open_tasks = run.version.definition.get("exit", {}).get("open_tasks", "cancel")
    return engine.end_run(run=run, actor=actor, why=why, open_tasks=open_tasks)


def preview(*, workspace, actor, definition, playbook=None, as_of=None, sample=10):
    """How many accounts an (unsaved) definition would enrol today, with a sample: before saving.
    With the `playbook` being edited, its runs and holds count (an account already running it is not
    counted again)."""
    from . import engine

    authorize(actor, "playbooks.manage", playbook)
    if playbook is not None and playbook.workspace_id != workspace.pk:
        raise DomainError(_("Not found in this workspace."), field="playbook")
    clean = clean_definition(workspace=workspace, definition=definition)
    extra = {"playbook": playbook} if playbook is not None else {}
    return engine.preview_playbook(workspace=workspace, definition=clean, as_of=as_of, sample=sample, **extra)


def ensure_defaults(*, workspace):
    """The default library in a new workspace; idempotent (a library playbook already there, or one
    whose name a manager already took, is left alone). Called by provisioning, in the workspace's
    language."""
    existing = Playbook.objects.for_workspace(workspace)
    keys = set(existing.exclude(library_key="").values_list("library_key", flat=True))
    names = set(existing.values_list("name", flat=True))
    for entry in library():
        if entry["library_key"] in keys or entry["name"] in names:
            continue
        definition = validate_definition(entry["definition"])
        playbook = Playbook.objects.create(
            workspace=workspace, name=entry["name"], description=entry["description"], enabled=entry["enabled"],
            trigger_kind=definition["trigger"]["kind"], library_key=entry["library_key"],
        )
        PlaybookVersion.objects.create(workspace=workspace, playbook=playbook, number=1, definition=definition,
                                       note=_("Default library"))
