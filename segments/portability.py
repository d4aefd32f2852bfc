"""What of the segments capability travels in a workspace archive: segments, their current
members, the accounts added to them by hand or by a playbook, and the whole membership history (which past days' coverage and health read).

A segment's rules name lifecycle stages and owners by id (tags by name): those ids are renamed to
the new rows' ids on import. A rule that named a stage or member the source no longer had keeps
naming nothing (see workspaces.transfer.IdMap.json_ref).
"""

from workspaces.transfer import Part, Table

from .models import Segment, SegmentAddition, SegmentMembership, SegmentMembershipEvent

# The rule fields whose values are ids, and the model they name.
ID_FIELDS = {"stage": "accounts.LifecycleStage", "owner": "workspaces.Membership"}


def renamed_rules(rules, idmap):
    """A copy of a rule tree with every stage and owner id renamed through `idmap`."""
    if not isinstance(rules, dict):
        return rules
    if "conditions" in rules:
        return {**rules, "conditions": [renamed_rules(item, idmap) for item in rules["conditions"]]}
    model = ID_FIELDS.get(rules.get("field"))
    if model and isinstance(rules.get("value"), list):
        return {**rules, "value": [idmap.json_ref(model, v) if isinstance(v, int) else v for v in rules["value"]]}
    return rules


def _rename_rules(values, context):
    values["rules"] = renamed_rules(values.get("rules"), context.idmap)
    return values


PART = Part("segments", [
    Table(Segment, into=_rename_rules),
    Table(SegmentMembership, keep_ids=False),
    Table(SegmentMembershipEvent, keep_ids=False),
    Table(SegmentAddition, keep_ids=False),
])
