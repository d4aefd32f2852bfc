"""The shape of a playbook definition, and its strict validation.

    {
      "trigger": {"kind": "renewal_within", "days": 120},
      "condition": {"op": "and", "conditions": [...]},     # optional: segment rules that must hold
      "enrolment": {"limit": "once_per_reason",            # once_per_reason | once_ever | times | times_per_days
                    "times": 2, "per_days": 365,            # for "times" and "times_per_days"
                    "cooldown_days": 30},                   # after a run ends, no new run for this long
      "steps": [
        {"kind": "task", "day": 0, "from": "enrolment",    # from: enrolment | previous (its completion)
         "due_days": 7, "assignee": {"rule": "owner"},      # owner | role (+ "role") | round_robin | fewest_open
         "type": "call", "priority": 3,
         "title": "Renewal call with {account}", "description": "Renews on {renewal_date}. {health_reason}"},
        {"kind": "add_tag", "day": 0, "tag": "renewal-watch"},
        {"kind": "set_field", "day": 0, "field": "stage" | "attribute", "name": "...", "value": ...},
        {"kind": "add_to_segment", "day": 0, "segment": 12},  # a segment whose rules count additions
        {"kind": "webhook", "day": 0, "event": "playbook.step"},
      ],
      "exit": {"when_trigger_clears": true, "open_tasks": "cancel"}   # or "keep"
    }

Trigger parameters (all days and points are positive integers):
    segment_entered   segment (id)
    health_red        -
    health_drop       points (within 30 days)
    stage_time        stage (id), days (optional: without it, the stage's "stuck after" days)
    level_changed     direction (any | rose | dropped), from_level, to_level (1-4, optional), within_days
    renewal_within    days (default 120)
    coverage_broken   tiers (list, optional: all tiers), min_overdue_days (default 0)
    key_contact_left  within_days (default 30)
    champion_vacant   -
    onboarding_late   milestone (optional key of the onboarding plan; none: any milestone), days (default 1): a
                      milestone not done this many days or more after its target day (onboarding.selectors)
    usage_below       active_users (fewer than this many active users in 30 days)
    new_account       within_days (default 14), on ("created", default: created this recently; "handoff": its
                      sales handoff was completed this recently, evaluated at once when it completes)
    nps_detractor     source "responses" (default): an NPS answer (voice) of max (default 6) or less given in
                      the within_days (default 30) up to the day, one occurrence per answer; source
                      "attribute": the custom attribute (default "nps") at or below max
    silent            days (no qualifying touch for this long) and drop (usage fell by this share, 0-1)
    plan_gap          min_gap (default 1): the account's success plan is this many levels or more short of
                      its objectives (the plan's gap, summed over objectives)
    schedule          every_days, tiers (optional), segment (optional)
    manual            -

Placeholders in titles and descriptions: {account}, {owner}, {renewal_date}, {health_score},
{health_reason}, {stage}, {arr}. An unknown placeholder is a validation error, not a blank.
"""

import string

from django.utils.translation import gettext as _

from workspaces.errors import DomainError

from .models import TaskPriority, TaskType, TriggerKind

# kind: {param: (type, required, default)}
TRIGGER_PARAMS = {
    TriggerKind.SEGMENT_ENTERED: {"segment": ("id", True, None)},
    TriggerKind.HEALTH_RED: {},
    TriggerKind.HEALTH_DROP: {"points": ("int", True, 15)},
    # No days: the stage's own "stuck after" threshold (accounts.LifecycleStage.stuck_after_days).
    TriggerKind.STAGE_TIME: {"stage": ("id", True, None), "days": ("int", False, None)},
    TriggerKind.RENEWAL_WITHIN: {"days": ("int", True, 120)},
    TriggerKind.COVERAGE_BROKEN: {"tiers": ("tiers", False, []), "min_overdue_days": ("int0", False, 0)},
    TriggerKind.KEY_CONTACT_LEFT: {"within_days": ("int", False, 30)},
    TriggerKind.CHAMPION_VACANT: {},
    TriggerKind.ONBOARDING_LATE: {"milestone": ("text", False, None), "days": ("int", False, 1)},
    TriggerKind.USAGE_BELOW: {"active_users": ("int", True, 1)},
    TriggerKind.NEW_ACCOUNT: {"within_days": ("int", False, 14), "on": ("new_on", False, "created")},
    TriggerKind.NPS_DETRACTOR: {"source": ("nps_source", False, "responses"), "max": ("int0", False, 6),
                                "within_days": ("int", False, 30), "attribute": ("text", False, "nps")},
    TriggerKind.SILENT: {"days": ("int", True, 60), "drop": ("share", True, 0.3)},
    TriggerKind.PLAN_GAP: {"min_gap": ("gap", False, 1)},
    TriggerKind.SCHEDULE: {"every_days": ("int", True, 90), "tiers": ("tiers", False, []),
                           "segment": ("id", False, None)},
    TriggerKind.LEVEL_CHANGED: {"direction": ("level_direction", False, "any"), "from_level": ("level", False, None),
                                "to_level": ("level", False, None), "within_days": ("int", False, 7)},
    TriggerKind.MANUAL: {},
}
LEVEL_DIRECTIONS = ["any", "rose", "dropped"]

# Triggers that describe a state: when it stops holding, the run may exit ("when_trigger_clears").
# The others describe an event or a date; their runs end when their steps are done.
STATE_TRIGGERS = {
    TriggerKind.SEGMENT_ENTERED, TriggerKind.HEALTH_RED, TriggerKind.HEALTH_DROP, TriggerKind.STAGE_TIME,
    TriggerKind.RENEWAL_WITHIN, TriggerKind.COVERAGE_BROKEN, TriggerKind.CHAMPION_VACANT,
    TriggerKind.ONBOARDING_LATE, TriggerKind.USAGE_BELOW, TriggerKind.NPS_DETRACTOR, TriggerKind.SILENT,
    TriggerKind.PLAN_GAP,
}

NPS_SOURCES = ["responses", "attribute"]
NEW_ACCOUNT_ON = ["created", "handoff"]


def is_state_trigger(trigger):
    """Whether runs may end when the trigger stops holding. A detractor's survey answer is an event
    (each answer is one occurrence, and leaving the window is no recovery), the attribute a state."""
    if trigger["kind"] == TriggerKind.NPS_DETRACTOR and trigger.get("source", "responses") == "responses":
        return False
    return trigger["kind"] in STATE_TRIGGERS


LIMITS = ["once_per_reason", "once_ever", "times", "times_per_days"]
STEP_KINDS = ["task", "add_tag", "set_field", "add_to_segment", "webhook"]
STEP_FROM = ["enrolment", "previous"]
ASSIGNEE_RULES = ["owner", "role", "round_robin", "fewest_open"]
EXIT_OPEN_TASKS = ["cancel", "keep"]
PLACEHOLDERS = ["account", "owner", "renewal_date", "health_score", "health_reason", "stage", "arr"]
TIERS = ["high", "low", "tech"]
MAX_STEPS = 30
MAX_DAYS = 3650


def _fail(path, message):
    raise DomainError(f"{path}: {message}" if path else message, field="definition")


def _int(path, value, *, minimum=1, maximum=MAX_DAYS):
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, _("a whole number is expected."))
    if not minimum <= value <= maximum:
        _fail(path, _("must be between %(low)s and %(high)s.") % {"low": minimum, "high": maximum})
    return value


def _choice(path, value, allowed):
    if value not in allowed:
        _fail(path, _("must be one of: %(choices)s.") % {"choices": ", ".join(str(a) for a in allowed)})
    return value


def _param(path, kind, value):
    if kind == "int":
        return _int(path, value)
    if kind == "int0":
        return _int(path, value, minimum=0, maximum=10_000)
    if kind == "id":
        return _int(path, value, maximum=2 ** 63 - 1)
    if kind == "gap":  # levels short, summed over the objectives
        return _int(path, value, minimum=1, maximum=1000)
    if kind == "nps_source":
        return _choice(path, value, NPS_SOURCES)
    if kind == "level_direction":
        return _choice(path, value, LEVEL_DIRECTIONS)
    if kind == "level":
        return _int(path, value, minimum=1, maximum=4)
    if kind == "new_on":
        return _choice(path, value, NEW_ACCOUNT_ON)
    if kind == "share":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            _fail(path, _("a share between 0 and 1 is expected."))
        return float(value)
    if kind == "tiers":
        if not isinstance(value, list):
            _fail(path, _("a list is expected."))
        return [_choice(path, tier, TIERS) for tier in value]
    if not isinstance(value, str) or not value.strip() or len(value) > 60:
        _fail(path, _("a name of at most 60 characters is expected."))
    return value.strip()


def validate_trigger(trigger):
    if not isinstance(trigger, dict):
        _fail("trigger", _("an object with a kind is expected."))
    kind = _choice("trigger.kind", trigger.get("kind"), TriggerKind.values)
    clean = {"kind": kind}
    params = TRIGGER_PARAMS[kind]
    unknown = set(trigger) - set(params) - {"kind"}
    if unknown:
        _fail("trigger", _("unknown parameter(s): %(names)s.") % {"names": ", ".join(sorted(unknown))})
    for name, (kind_of_value, required, default) in params.items():
        if trigger.get(name) is None:
            if required and default is None:
                _fail(f"trigger.{name}", _("is required."))
            clean[name] = default
        else:
            clean[name] = _param(f"trigger.{name}", kind_of_value, trigger[name])
    return clean


def validate_template(path, text, *, required):
    if not isinstance(text, str) or (required and not text.strip()):
        _fail(path, _("a text is required."))
    try:
        names = {field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}
    except ValueError:
        _fail(path, _("braces must be paired: write {account}, not {account."))
    unknown = names - set(PLACEHOLDERS)
    if unknown:
        _fail(path, _("unknown placeholder(s) %(names)s; available: %(available)s.") % {
            "names": ", ".join("{" + n + "}" for n in sorted(unknown)),
            "available": ", ".join("{" + n + "}" for n in PLACEHOLDERS)})
    return text


def validate_step(index, step):
    path = f"steps[{index + 1}]"
    if not isinstance(step, dict):
        _fail(path, _("an object is expected."))
    kind = _choice(f"{path}.kind", step.get("kind", "task"), STEP_KINDS)
    clean = {"kind": kind, "day": _int(f"{path}.day", step.get("day", 0), minimum=0),
             "from": _choice(f"{path}.from", step.get("from", "enrolment"), STEP_FROM)}
    if index == 0 and clean["from"] == "previous":
        _fail(f"{path}.from", _("the first step can only count from the enrolment."))
    if kind == "task":
        assignee = step.get("assignee") or {"rule": "owner"}
        if not isinstance(assignee, dict):
            _fail(f"{path}.assignee", _("an object with a rule is expected."))
        rule = _choice(f"{path}.assignee.rule", assignee.get("rule"), ASSIGNEE_RULES)
        clean_assignee = {"rule": rule}
        if rule in ("role", "round_robin", "fewest_open"):
            # Round robin and fewest-open pick among the members of a role (the team); default CSMs.
            clean_assignee["role"] = _choice(f"{path}.assignee.role", assignee.get("role", "csm"),
                                             ["admin", "manager", "csm"])
        clean.update(
            assignee=clean_assignee,
            type=_choice(f"{path}.type", step.get("type", TaskType.CALL), TaskType.values),
            priority=_choice(f"{path}.priority", step.get("priority", TaskPriority.NORMAL), TaskPriority.values),
            due_days=_int(f"{path}.due_days", step.get("due_days", 7), minimum=0),
            title=validate_template(f"{path}.title", step.get("title"), required=True)[:200],
            description=validate_template(f"{path}.description", step.get("description", ""), required=False),
        )
    elif kind == "add_tag":
        clean["tag"] = _param(f"{path}.tag", "text", step.get("tag"))
    elif kind == "add_to_segment":
        clean["segment"] = _param(f"{path}.segment", "id", step.get("segment"))
    elif kind == "set_field":
        field = _choice(f"{path}.field", step.get("field"), ["stage", "attribute"])
        clean["field"] = field
        if field == "stage":
            clean["value"] = _param(f"{path}.value", "id", step.get("value"))
        else:
            clean["name"] = _param(f"{path}.name", "text", step.get("name"))
            value = step.get("value")
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                _fail(f"{path}.value", _("a number or a text is expected."))
            clean["value"] = value
    else:  # webhook: the workspace's endpoints subscribed to "playbook.step" receive it
        clean["note"] = str(step.get("note", ""))[:200]
    return clean


def validate_definition(definition):
    """A cleaned copy of `definition`, with defaults filled in; DomainError naming the bad part."""
    if not isinstance(definition, dict):
        _fail("", _("The definition must be an object."))
    trigger = validate_trigger(definition.get("trigger"))
    condition = definition.get("condition") or None
    if condition is not None and not isinstance(condition, dict):
        _fail("condition", _("segment rules (an object) are expected."))
    enrolment = definition.get("enrolment") or {}
    if not isinstance(enrolment, dict):
        _fail("enrolment", _("an object is expected."))
    limit = _choice("enrolment.limit", enrolment.get("limit", "once_per_reason"), LIMITS)
    clean_enrolment = {"limit": limit,
                       "cooldown_days": _int("enrolment.cooldown_days", enrolment.get("cooldown_days", 0),
                                             minimum=0)}
    if limit in ("times", "times_per_days"):
        clean_enrolment["times"] = _int("enrolment.times", enrolment.get("times"), maximum=1000)
    if limit == "times_per_days":
        clean_enrolment["per_days"] = _int("enrolment.per_days", enrolment.get("per_days"))
    steps = definition.get("steps")
    if not isinstance(steps, list) or not steps:
        _fail("steps", _("at least one step is required."))
    if len(steps) > MAX_STEPS:
        _fail("steps", _("at most %(n)s steps.") % {"n": MAX_STEPS})
    clean_steps = [validate_step(i, step) for i, step in enumerate(steps)]
    exit_ = definition.get("exit") or {}
    if not isinstance(exit_, dict):
        _fail("exit", _("an object is expected."))
    clean_exit = {"when_trigger_clears": bool(exit_.get("when_trigger_clears", is_state_trigger(trigger))),
                  "open_tasks": _choice("exit.open_tasks", exit_.get("open_tasks", "cancel"), EXIT_OPEN_TASKS)}
    if clean_exit["when_trigger_clears"] and not is_state_trigger(trigger):
        clean_exit["when_trigger_clears"] = False  # an event or a date does not "clear"
    return {"trigger": trigger, "condition": condition, "enrolment": clean_enrolment, "steps": clean_steps,
            "exit": clean_exit}
