"""Playbook definitions and runs in words, for the pages: "Renewal within 120 days", "Day 0: Call
“Renewal call with {account}”, due in 7 days, for the account's CSM", "Why: renewal in 118 days
(2027-03-27)".

`reference_names(workspace)` loads once per page the names a definition refers to by id (segments,
lifecycle stages); the other functions take them as `names`. A reference that no longer exists
reads "#12 (deleted)".
"""


from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import LifecycleStage, TouchTier
from segments.selectors import segments_of

from .models import TaskPriority, TaskType, TriggerKind
from .triggers import describe_why as trigger_sentence


def reference_names(workspace):
    return {
        "segment": dict(segments_of(workspace=workspace).values_list("pk", "name")),
        "stage": dict(LifecycleStage.objects.for_workspace(workspace).values_list("pk", "name")),
    }


def _name(names, kind, pk):
    return (names or {}).get(kind, {}).get(pk) or _("#%(id)s (deleted)") % {"id": pk}


def _days(n):
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}


def _tiers(tiers):
    labels = dict(TouchTier.choices)
    return pgettext("list separator", ", ").join(str(labels.get(t, t)) for t in tiers)


def describe_trigger(trigger, *, names=None):
    kind = trigger.get("kind")
    if kind == TriggerKind.SEGMENT_ENTERED:
        return _("Enters the segment “%(name)s”") % {"name": _name(names, "segment", trigger.get("segment"))}
    if kind == TriggerKind.HEALTH_RED:
        return _("Health turns red")
    if kind == TriggerKind.HEALTH_DROP:
        return _("Health drops by %(points)s points or more within 30 days") % {"points": trigger.get("points")}
    if kind == TriggerKind.STAGE_TIME:
        if not trigger.get("days"):
            return _("Stuck in the stage “%(stage)s” (its own “stuck after” days)") % {
                "stage": _name(names, "stage", trigger.get("stage"))}
        return _("In the stage “%(stage)s” for more than %(days)s") % {
            "stage": _name(names, "stage", trigger.get("stage")), "days": _days(trigger.get("days") or 0)}
    if kind == TriggerKind.LEVEL_CHANGED:
        direction = trigger.get("direction") or "any"
        text = {"rose": _("Usage level rose"), "dropped": _("Usage level dropped")}.get(direction,
                                                                                     _("Usage level changed"))
        if trigger.get("from_level"):
            text += _(" from Lv%(n)s") % {"n": trigger["from_level"]}
        if trigger.get("to_level"):
            text += _(" to Lv%(n)s") % {"n": trigger["to_level"]}
        return text + _(" in the last %(days)s") % {"days": _days(trigger.get("within_days") or 7)}
    if kind == TriggerKind.RENEWAL_WITHIN:
        return _("Renewal within %(days)s") % {"days": _days(trigger.get("days") or 0)}
    if kind == TriggerKind.COVERAGE_BROKEN:
        text = _("Coverage broken")
        if trigger.get("tiers"):
            text = _("Coverage broken (%(tiers)s)") % {"tiers": _tiers(trigger["tiers"])}
        if trigger.get("min_overdue_days"):
            text += _(", overdue by %(days)s or more") % {"days": _days(trigger["min_overdue_days"])}
        return text
    if kind == TriggerKind.KEY_CONTACT_LEFT:
        return _("A key contact left in the last %(days)s") % {"days": _days(trigger.get("within_days") or 30)}
    if kind == TriggerKind.CHAMPION_VACANT:
        return _("No champion among the contacts")
    if kind == TriggerKind.ONBOARDING_LATE:
        if trigger.get("milestone"):
            return _("Onboarding milestone “%(milestone)s” not done %(days)s after its target day") % {
                "milestone": trigger["milestone"], "days": _days(trigger.get("days") or 1)}
        return _("An onboarding milestone not done %(days)s after its target day") % {
            "days": _days(trigger.get("days") or 1)}
    if kind == TriggerKind.USAGE_BELOW:
        return _("Fewer than %(n)s active users in 30 days") % {"n": trigger.get("active_users")}
    if kind == TriggerKind.NEW_ACCOUNT:
        if trigger.get("on") == "handoff":
            return _("Sales handoff received (in the last %(days)s)") % {"days": _days(trigger.get("within_days") or 14)}
        return _("New account (created in the last %(days)s)") % {"days": _days(trigger.get("within_days") or 14)}
    if kind == TriggerKind.NPS_DETRACTOR:
        if trigger.get("source", "responses") == "responses":
            return _("An NPS answer of %(max)s or below in the last %(days)s") % {
                "max": trigger.get("max", 6), "days": _days(trigger.get("within_days") or 30)}
        return _("NPS (the attribute “%(attribute)s”) at %(max)s or below") % {
            "attribute": trigger.get("attribute") or "nps", "max": trigger.get("max", 6)}
    if kind == TriggerKind.SILENT:
        return _("No touch for %(days)s and usage down by %(drop)s%% or more") % {
            "days": _days(trigger.get("days") or 0), "drop": round((trigger.get("drop") or 0) * 100)}
    if kind == TriggerKind.PLAN_GAP:
        return _("The success plan is %(n)s or more levels short of its objectives") % {"n": trigger.get("min_gap", 1)}
    if kind == TriggerKind.SCHEDULE:
        text = _("Every %(days)s") % {"days": _days(trigger.get("every_days") or 0)}
        if trigger.get("tiers"):
            text += _(", for %(tiers)s") % {"tiers": _tiers(trigger["tiers"])}
        if trigger.get("segment"):
            text += _(", in the segment “%(name)s”") % {"name": _name(names, "segment", trigger["segment"])}
        return text
    if kind == TriggerKind.MANUAL:
        return _("Only when someone enrols an account by hand")
    return str(kind)


ASSIGNEE_RULES = {
    "owner": lambda step: _("the account's CSM"),
    "role": lambda step: _("someone with the role %(role)s") % {"role": _role(step)},
    "round_robin": lambda step: _("%(role)s in turn") % {"role": _role(step)},
    "fewest_open": lambda step: _("the %(role)s with the fewest open tasks") % {"role": _role(step)},
}


def _role(step):
    from workspaces.models import Role

    return str(dict(Role.choices).get(step.get("assignee", {}).get("role", "csm"), ""))


def describe_when(step):
    if step.get("from") == "previous":
        if not step.get("day"):
            return _("When the previous step is done")
        return _("%(days)s after the previous step") % {"days": _days(step["day"])}
    if not step.get("day"):
        return _("On enrolment")
    return _("Day %(n)s") % {"n": step["day"]}


def describe_step(step, *, names=None):
    """{"when": …, "what": …, "detail": …} of one step."""
    kind = step.get("kind", "task")
    when = describe_when(step)
    if kind == "task":
        rule = step.get("assignee", {}).get("rule", "owner")
        return {"when": when, "what": f"{dict(TaskType.choices).get(step.get('type'), '')}: {step.get('title', '')}",
                "detail": _("Due %(days)s later, %(priority)s priority, for %(who)s") % {
                    "days": _days(step.get("due_days", 0)),
                    "priority": str(dict(TaskPriority.choices).get(step.get("priority"), "")).lower(),
                    "who": ASSIGNEE_RULES.get(rule, ASSIGNEE_RULES["owner"])(step)},
                "description": step.get("description", "")}
    if kind == "add_tag":
        return {"when": when, "what": _("Add the tag “%(tag)s”") % {"tag": step.get("tag")}, "detail": ""}
    if kind == "add_to_segment":
        return {"when": when, "what": _("Add to the segment “%(segment)s”") % {
            "segment": _name(names, "segment", step.get("segment"))}, "detail": ""}
    if kind == "set_field":
        if step.get("field") == "stage":
            what = _("Move to the stage “%(stage)s”") % {"stage": _name(names, "stage", step.get("value"))}
        else:
            what = _("Set “%(name)s” to %(value)s") % {"name": step.get("name"), "value": step.get("value")}
        return {"when": when, "what": what, "detail": ""}
    return {"when": when, "what": _("Send the webhook event “playbook.step”"), "detail": step.get("note", "")}


def describe_enrolment(enrolment):
    limit = enrolment.get("limit", "once_per_reason")
    if limit == "once_ever":
        text = _("Once per account, ever")
    elif limit == "times":
        text = _("At most %(n)s times per account") % {"n": enrolment.get("times")}
    elif limit == "times_per_days":
        text = _("At most %(n)s times per account in %(days)s") % {
            "n": enrolment.get("times"), "days": _days(enrolment.get("per_days") or 0)}
    else:
        text = _("Once per occurrence (e.g. each renewal)")
    if enrolment.get("cooldown_days"):
        text += _("; then a pause of %(days)s") % {"days": _days(enrolment["cooldown_days"])}
    return text


def describe_exit(exit_):
    parts = []
    if exit_.get("when_trigger_clears"):
        parts.append(_("Ends when the trigger no longer holds"))
    else:
        parts.append(_("Ends when its steps are done"))
    parts.append(_("open tasks are cancelled") if exit_.get("open_tasks", "cancel") == "cancel"
                 else _("open tasks are kept"))
    return pgettext("list separator", ", ").join(str(p) for p in parts)


def describe_definition(definition, *, names=None):
    """The parts of a definition as sentences, for the detail page."""
    return {
        "trigger": describe_trigger(definition.get("trigger", {}), names=names),
        "has_condition": bool((definition.get("condition") or {}).get("conditions")),
        "enrolment": describe_enrolment(definition.get("enrolment", {})),
        "steps": [describe_step(step, names=names) for step in definition.get("steps", [])],
        "exit": describe_exit(definition.get("exit", {})),
    }


def describe_why(run):
    """Why a run started, in a line: the engine's sentence for its trigger ("Renews on 2027-03-27, in
    118 days."), or, for a run whose `why` names no trigger, how it was started."""
    why = run.why or {}
    sentence = trigger_sentence(why)
    if sentence:
        return sentence
    if why.get("by") not in (None, "", "nightly"):
        return _("Enrolled by hand")
    kind = why.get("trigger") or getattr(run.playbook, "trigger_kind", "")
    return str(dict(TriggerKind.choices).get(kind, kind or "—"))
