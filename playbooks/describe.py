"""Playbook definitions and runs in words, for the pages: "Renewal within 120 days", "Day 0: Call
“Renewal call with {account}”, due in 7 days, for the account's CSM", "Why: renewal in 118 days
(2027-03-27)".

`reference_names(workspace)` loads once per page the names a definition refers to by id (segments,
lifecycle stages); the other functions take them as `names`. A reference that no longer exists
reads "#12 (deleted)".
"""

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import LifecycleStage, TouchTier
from segments.selectors import segments_of

from .models import TaskPriority, TaskType, TriggerKind


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
        return _("In the stage “%(stage)s” for more than %(days)s") % {
            "stage": _name(names, "stage", trigger.get("stage")), "days": _days(trigger.get("days") or 0)}
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
        return _("Still in the first stage %(days)s after the contract start") % {"days": _days(trigger.get("days") or 0)}
    if kind == TriggerKind.USAGE_BELOW:
        return _("Fewer than %(n)s active users in 30 days") % {"n": trigger.get("active_users")}
    if kind == TriggerKind.NEW_ACCOUNT:
        return _("New account (created in the last %(days)s)") % {"days": _days(trigger.get("within_days") or 14)}
    if kind == TriggerKind.NPS_DETRACTOR:
        return _("NPS (the attribute “%(attribute)s”) at %(max)s or below") % {
            "attribute": trigger.get("attribute") or "nps", "max": trigger.get("max", 6)}
    if kind == TriggerKind.SILENT:
        return _("No touch for %(days)s and usage down by %(drop)s%% or more") % {
            "days": _days(trigger.get("days") or 0), "drop": round((trigger.get("drop") or 0) * 100)}
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


def _date(value):
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return value if isinstance(value, dt.date) else None


def describe_why(run, *, today=None):
    """Why a run started, in a line: "Renewal in 118 days (2027-03-27)".

    `run.why` is {"trigger": kind, "values": {...}, "by": "nightly" | member id}; the values read
    are the ones the engine records for each trigger, and any other kind falls back to its label."""
    why = run.why or {}
    try:  # the engine's own sentence, when it has one: it knows the values each trigger records
        from .triggers import describe_why as engine_sentence
    except ImportError:
        engine_sentence = None
    if engine_sentence is not None and (sentence := engine_sentence(why)):
        return sentence
    values = why.get("values") or {}
    kind = why.get("trigger") or getattr(run.playbook, "trigger_kind", "")
    if why.get("by") not in (None, "", "nightly") and kind == TriggerKind.MANUAL:
        return _("Enrolled by hand")
    renewal = _date(values.get("renewal_date"))
    if kind == TriggerKind.RENEWAL_WITHIN and renewal:
        base = today or run.started_on
        return _("Renewal in %(days)s (%(date)s)") % {"days": _days((renewal - base).days),
                                                     "date": renewal.isoformat()}
    if kind in (TriggerKind.HEALTH_RED, TriggerKind.HEALTH_DROP) and values.get("score") is not None:
        if values.get("drop") is not None:
            return _("Health %(score)s, down %(drop)s points") % {"score": values["score"], "drop": values["drop"]}
        return _("Health %(score)s (red)") % {"score": values["score"]}
    if kind == TriggerKind.SILENT and values.get("days_since_touch") is not None:
        return _("No touch for %(days)s") % {"days": _days(values["days_since_touch"])}
    if kind == TriggerKind.COVERAGE_BROKEN and values.get("overdue_days") is not None:
        return _("Coverage broken, overdue by %(days)s") % {"days": _days(values["overdue_days"])}
    if kind == TriggerKind.SCHEDULE:
        return _("Scheduled")
    if why.get("by") not in (None, "", "nightly"):
        return _("Enrolled by hand")
    labels = dict(TriggerKind.choices)
    return str(labels.get(kind, kind or "—"))
