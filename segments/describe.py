"""Segment rules in words: "ARR ≥ ¥1,000,000 and touch tier is High touch" instead of the JSON.

`rule_names(workspace)` loads, once per page, the names the rules refer to by id (lifecycle
stages, members); `describe_rules(rules, names=…)` gives a tree for a nested list (groups as
"All of:" / "Any of:"), `rules_sentence(rules, names=…)` one line for a table. Every piece is
translated; values are shown the way the rest of the page shows them (money with the
workspace's currency, choices by their labels).
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import AccountStatus, HealthBand, LifecycleStage, TouchTier
from ui.templatetags.formatting import money
from workspaces.models import Membership

from .rules import FIELDS

SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}


def rule_names(workspace):
    """{"stage": {id: name}, "owner": {id: name}, "currency": code} for the rules of this workspace."""
    members = Membership.objects.for_workspace(workspace).select_related("user")
    return {
        "stage": dict(LifecycleStage.objects.for_workspace(workspace).values_list("pk", "name")),
        "owner": {m.pk: m.display_name for m in members},
        "currency": getattr(workspace, "currency", "JPY"),
    }


def _join(values):
    return pgettext("list separator", ", ").join(str(v) for v in values)


def _number(field, value, names):
    if field == "arr":
        return money(value, names.get("currency", "JPY"))
    if isinstance(value, float) and value != int(value):
        return f"{Decimal(str(value)):,}"
    return f"{int(value):,}"


def _choice_labels(kind, values, names):
    if kind in ("stage", "owner"):
        known = names.get(kind, {})
        return [known.get(v) or _("#%(id)s (deleted)") % {"id": v} for v in values]
    choices = {"status": AccountStatus, "health_band": HealthBand, "tier": TouchTier}.get(kind)
    if choices is None:  # tags: their names
        return [f"“{v}”" for v in values]
    labels = dict(choices.choices)
    return [str(labels.get(v, v)) for v in values]


def describe_condition(condition, *, names=None):
    """One condition as a sentence, e.g. "ARR ≥ ¥1,000,000" or "Touch tier is High touch"."""
    names = names or {}
    field, op, value = condition["field"], condition["op"], condition.get("value")
    kind, _ops, label = FIELDS[field]
    label = _(label)
    if kind == "added":
        return _("added by hand or by a playbook") if op == "yes" else _("not added by hand or by a playbook")
    if op == "is_empty":
        return _("%(field)s is empty") % {"field": label}
    if op == "is_not_empty":
        return _("%(field)s is set") % {"field": label}
    if kind == "number":
        if op == "between":
            return _("%(field)s between %(low)s and %(high)s") % {
                "field": label, "low": _number(field, value[0], names), "high": _number(field, value[1], names)}
        return f"{label} {SYMBOLS[op]} {_number(field, value, names)}"
    values = _choice_labels(kind, value, names)
    if kind == "tag":
        template = {"any": _("tagged %(tags)s"), "all": _("tagged all of %(tags)s"),
                    "none": _("not tagged %(tags)s")}[op]
        if op == "any" and len(values) > 1:
            template = _("tagged any of %(tags)s")
        if op == "none" and len(values) > 1:
            template = _("tagged none of %(tags)s")
        return template % {"tags": _join(values)}
    if op == "in":
        template = _("%(field)s is %(values)s") if len(values) == 1 else _("%(field)s is one of %(values)s")
    else:
        template = _("%(field)s is not %(values)s") if len(values) == 1 else _("%(field)s is none of %(values)s")
    return template % {"field": label, "values": _join(values)}


def _is_group(item):
    return isinstance(item, dict) and "conditions" in item


def describe_rules(rules, *, names=None):
    """A tree for a nested list: {"heading": "All of:", "items": [{"text": …} or a group, …]}.

    An empty group matches every account and says so.
    """
    rules = rules or {"op": "and", "conditions": []}
    heading = _("All of:") if rules.get("op", "and") == "and" else _("Any of:")
    items = []
    for item in rules.get("conditions", []):
        if _is_group(item):
            items.append({"group": describe_rules(item, names=names)})
        else:
            items.append({"text": describe_condition(item, names=names)})
    if not items:
        return {"heading": "", "items": [{"text": _("Every account")}]}
    return {"heading": heading, "items": items}


def rules_sentence(rules, *, names=None, nested=False):
    """The rules on one line: "ARR ≥ ¥1,000,000 and (Touch tier is High touch or tagged “vip”)"."""
    rules = rules or {"op": "and", "conditions": []}
    parts = [rules_sentence(item, names=names, nested=True) if _is_group(item) else describe_condition(item, names=names)
             for item in rules.get("conditions", [])]
    parts = [p for p in parts if p]
    if not parts:
        return "" if nested else _("Every account")
    joiner = pgettext("segment rules", " and ") if rules.get("op", "and") == "and" else pgettext("segment rules", " or ")
    text = joiner.join(parts)
    return f"({text})" if nested and len(parts) > 1 else text
