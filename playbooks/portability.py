"""What of the playbooks capability travels in a workspace archive: every playbook with every version,
the runs with the steps they did and the accounts held back (the comparison group of "did it work?"),
and every task, manual or made by a run or an alert.

Runs, holds and tasks travel rather than being recomputed: a run followed the version of its day,
and "did it work?" compares what happened after it started. Foreign keys are renamed like every
other part's; ids inside values are renamed here:

- a definition names a segment and a lifecycle stage (trigger, `set_field` steps) and, in its
  condition, stages and owners (segment rules);
- a run's `why` names what matched (a segment, a stage, a contact) and the member who enrolled it;
  a done `set_field` step names the stage it set (an `add_to_segment` step names its segment);
- a run's or hold's `reason_key` names its occurrence, some with an id in it ("segment:12:2026-11-02",
  "stage:4:…", "contact_left:31"): renamed too, or the next night would not recognise the occurrence
  and would enrol the account again.

The archive's playbooks are the restored workspace's whole library: an import creates its workspace
without provisioning, so the default library is not put in next to them (a library playbook the
source deleted stays deleted, one it renamed or edited stays so). Only an archive made before this
part existed gets the default library (`defaults`).
"""

from workspaces.transfer import Part, Table

from . import services
from .models import Playbook, PlaybookHold, PlaybookRun, PlaybookVersion, RunAction, Task

SEGMENT, STAGE, MEMBER, CONTACT = ("segments.Segment", "accounts.LifecycleStage", "workspaces.Membership",
                                   "accounts.Contact")
# The segment rule fields (a definition's condition) whose values are ids, and the model they name.
RULE_ID_FIELDS = {"stage": STAGE, "owner": MEMBER}
# reason_key prefixes followed by an id: "segment:<id>:<day>", "stage:<id>:<day>", "contact_left:<id>".
REASON_ID_PREFIXES = {"segment": SEGMENT, "stage": STAGE, "contact_left": CONTACT}
# The ids in a run's `why["values"]`.
WHY_ID_VALUES = {"segment": SEGMENT, "stage": STAGE, "contact": CONTACT}


def _ref(idmap, model, value):
    return idmap.json_ref(model, value) if isinstance(value, int) and not isinstance(value, bool) else value


def _renamed_rules(rules, idmap):
    if not isinstance(rules, dict):
        return rules
    if "conditions" in rules:
        return {**rules, "conditions": [_renamed_rules(item, idmap) for item in rules["conditions"]]}
    model = RULE_ID_FIELDS.get(rules.get("field"))
    if model and isinstance(rules.get("value"), list):
        return {**rules, "value": [_ref(idmap, model, v) for v in rules["value"]]}
    return rules


def renamed_definition(definition, idmap):
    """A copy of a definition with every segment, stage and owner id renamed through `idmap`."""
    if not isinstance(definition, dict):
        return definition
    definition = dict(definition)
    if isinstance(definition.get("trigger"), dict):
        trigger = dict(definition["trigger"])
        for key, model in (("segment", SEGMENT), ("stage", STAGE)):
            if key in trigger:
                trigger[key] = _ref(idmap, model, trigger[key])
        definition["trigger"] = trigger
    if isinstance(definition.get("steps"), list):
        definition["steps"] = [_renamed_step(step, idmap) for step in definition["steps"]]
    if definition.get("condition") is not None:
        definition["condition"] = _renamed_rules(definition["condition"], idmap)
    return definition


def _renamed_step(step, idmap):
    if not isinstance(step, dict):
        return step
    if step.get("kind") == "set_field" and step.get("field") == "stage":
        return {**step, "value": _ref(idmap, STAGE, step.get("value"))}
    if step.get("kind") == "add_to_segment":
        return {**step, "segment": _ref(idmap, SEGMENT, step.get("segment"))}
    return step


def renamed_reason_key(reason_key, idmap):
    prefix, _sep, rest = (reason_key or "").partition(":")
    model = REASON_ID_PREFIXES.get(prefix)
    if model is None:
        return reason_key
    old, sep, tail = rest.partition(":")
    if not old.isdigit():
        return reason_key
    return f"{prefix}:{idmap.json_ref(model, int(old))}{sep}{tail}"


def _rename_definition(values, context):
    values["definition"] = renamed_definition(values.get("definition"), context.idmap)
    return values


def _rename_run(values, context):
    values["reason_key"] = renamed_reason_key(values.get("reason_key"), context.idmap)
    why = values.get("why")
    if isinstance(why, dict):
        why = dict(why)
        if isinstance(why.get("values"), dict):
            why["values"] = {k: _ref(context.idmap, WHY_ID_VALUES[k], v) if k in WHY_ID_VALUES else v
                             for k, v in why["values"].items()}
        if isinstance(why.get("by"), int):  # a member enrolled it by hand ("nightly" otherwise)
            why["by"] = _ref(context.idmap, MEMBER, why["by"])
        values["why"] = why
    return values


def _rename_hold(values, context):
    values["reason_key"] = renamed_reason_key(values.get("reason_key"), context.idmap)
    return values


def _rename_action_result(values, context):
    result = values.get("result")
    if isinstance(result, dict) and "stage" in result:
        values["result"] = {**result, "stage": _ref(context.idmap, STAGE, result["stage"])}
    if isinstance(result, dict) and "segment" in result:
        values["result"] = {**result, "segment": _ref(context.idmap, SEGMENT, result["segment"])}
    return values


PART = Part("playbooks", [
    Table(Playbook),
    Table(PlaybookVersion, into=_rename_definition),
    Table(PlaybookRun, into=_rename_run),
    Table(RunAction, keep_ids=False, into=_rename_action_result),
    Table(PlaybookHold, keep_ids=False, into=_rename_hold),
    Table(Task),  # after the runs it belongs to; the audit log names tasks, so their ids are kept
], defaults=services.ensure_defaults)
