"""The playbook form: the definition's parts as fields (the trigger and its parameters, enrolment,
steps as a formset, exit), turned into a definition for services.save_playbook to validate."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Account, LifecycleStage, TouchTier
from segments.selectors import segments_of, segments_taking_additions
from workspaces.models import Role

from .definition import TRIGGER_PARAMS
from .models import TaskPriority, TaskType, TriggerKind

LIMIT_CHOICES = [
    ("once_per_reason", _("Once per occurrence (e.g. each renewal)")),
    ("once_ever", _("Once per account, ever")),
    ("times", _("At most N times per account")),
    ("times_per_days", _("At most N times per account in a period")),
]
STEP_KIND_CHOICES = [("task", _("Task")), ("add_tag", _("Add a tag")), ("set_field", _("Set a field")),
                     ("add_to_segment", _("Add to a segment")), ("webhook", _("Send a webhook"))]
FROM_CHOICES = [("enrolment", _("after enrolment")), ("previous", _("after the previous step is done"))]
ASSIGNEE_CHOICES = [("owner", _("The account's CSM")), ("role", _("Someone with a role")),
                    ("round_robin", _("In turn, among a role")), ("fewest_open", _("Fewest open tasks, among a role"))]
FIELD_CHOICES = [("stage", _("Lifecycle stage")), ("attribute", _("Custom attribute"))]
OPEN_TASKS_CHOICES = [("cancel", _("Cancel them")), ("keep", _("Keep them"))]

# Form field per trigger parameter (the definition's names, prefixed).
NUMBER_PARAMS = ["days", "points", "within_days", "min_overdue_days", "active_users", "max", "every_days",
                 "min_gap"]


def _number(label, minimum=0):
    return forms.IntegerField(label=label, required=False, min_value=minimum,
                              widget=forms.NumberInput(attrs={"class": "narrow"}))


class PlaybookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    trigger_kind = forms.ChoiceField(label=_("Trigger"), choices=TriggerKind.choices,
                                     widget=forms.Select(attrs={"data-trigger-kind": "1"}))
    trigger_segment = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None)
    trigger_stage = forms.TypedChoiceField(label=_("Lifecycle stage"), required=False, coerce=int, empty_value=None)
    trigger_days = _number(_("Days"), 1)
    trigger_points = _number(_("Points"), 1)
    trigger_within_days = _number(_("Within (days)"), 1)
    trigger_min_overdue_days = _number(_("Overdue by at least (days)"))
    trigger_active_users = _number(_("Active users"), 1)
    trigger_every_days = _number(_("Every (days)"), 1)
    trigger_min_gap = _number(_("Levels short (at least)"), 1)
    trigger_source = forms.ChoiceField(label=_("NPS from"), required=False, choices=[
        ("responses", _("Survey answers")), ("attribute", _("An account attribute"))])
    trigger_attribute = forms.CharField(label=_("Attribute"), required=False, max_length=60)
    trigger_milestone = forms.CharField(label=_("Onboarding milestone (key; empty: any)"), required=False,
                                        max_length=40)
    trigger_on = forms.ChoiceField(label=_("New account: when"), required=False, choices=[
        ("created", _("Created")), ("handoff", _("Sales handoff received"))])
    trigger_max = _number(_("At or below"))
    trigger_direction = forms.ChoiceField(label=_("Level change"), required=False, choices=[
        ("any", _("Any change")), ("rose", _("Rose")), ("dropped", _("Dropped"))])
    trigger_from_level = forms.TypedChoiceField(label=_("From level"), required=False, coerce=int, empty_value=None,
                                                choices=[("", "—")] + [(n, f"Lv{n}") for n in range(1, 5)])
    trigger_to_level = forms.TypedChoiceField(label=_("To level"), required=False, coerce=int, empty_value=None,
                                              choices=[("", "—")] + [(n, f"Lv{n}") for n in range(1, 5)])
    trigger_drop = forms.IntegerField(label=_("Usage drop (%)"), required=False, min_value=1, max_value=100,
                                      widget=forms.NumberInput(attrs={"class": "narrow"}))
    trigger_tiers = forms.MultipleChoiceField(label=_("Touch tiers"), required=False, choices=TouchTier.choices,
                                              widget=forms.CheckboxSelectMultiple)
    condition = forms.CharField(
        label=_("Condition (segment rules, JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text=_("Optional: only accounts matching these rules enrol. The same JSON as a segment's rules."),
    )
    limit = forms.ChoiceField(label=_("Enrolment limit"), choices=LIMIT_CHOICES, initial="once_per_reason")
    times = _number(_("Times"), 1)
    per_days = _number(_("In (days)"), 1)
    cooldown_days = _number(_("Pause after a run (days)"))
    when_trigger_clears = forms.BooleanField(label=_("End the run when the trigger no longer holds"),
                                             required=False, initial=True)
    open_tasks = forms.ChoiceField(label=_("Open tasks when a run ends early"), choices=OPEN_TASKS_CHOICES)
    note = forms.CharField(label=_("What changed"), required=False, max_length=300)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["trigger_segment"].choices = blank + [
            (s.pk, s.name) for s in segments_of(workspace=workspace).order_by("name")]
        self.fields["trigger_stage"].choices = blank + [
            (s.pk, s.name) for s in (LifecycleStage.objects.for_workspace(workspace) if workspace else [])]
        for name, field in self.fields.items():
            if name.startswith("trigger_") and name != "trigger_kind":
                field.widget.attrs["data-trigger-param"] = name.removeprefix("trigger_")

    def clean_condition(self):
        text = (self.cleaned_data.get("condition") or "").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("This is not valid JSON (line %(line)s, column %(column)s).")
                                        % {"line": exc.lineno, "column": exc.colno}) from exc

    def trigger(self):
        data = self.cleaned_data
        kind = data["trigger_kind"]
        trigger = {"kind": kind}
        for param in TRIGGER_PARAMS.get(kind, {}):
            value = data.get(f"trigger_{param}")
            if param == "drop" and value is not None:
                value = value / 100
            if value not in (None, "", []):
                trigger[param] = value
        return trigger

    def definition(self, steps):
        data = self.cleaned_data
        enrolment = {"limit": data["limit"], "cooldown_days": data.get("cooldown_days") or 0}
        if data["limit"] in ("times", "times_per_days"):
            enrolment["times"] = data.get("times")
        if data["limit"] == "times_per_days":
            enrolment["per_days"] = data.get("per_days")
        return {"trigger": self.trigger(), "condition": data.get("condition"), "enrolment": enrolment,
                "steps": steps, "exit": {"when_trigger_clears": data.get("when_trigger_clears", False),
                                         "open_tasks": data["open_tasks"]}}

    def fields_for_service(self):
        return {name: self.cleaned_data[name] for name in ("name", "description", "enabled")}

    @staticmethod
    def initial_for(playbook, definition):
        trigger = definition.get("trigger", {})
        enrolment = definition.get("enrolment", {})
        exit_ = definition.get("exit", {})
        initial = {"name": playbook.name if playbook else "", "description": playbook.description if playbook else "",
                   "enabled": playbook.enabled if playbook else True, "trigger_kind": trigger.get("kind"),
                   "condition": json.dumps(definition["condition"], ensure_ascii=False, indent=1)
                   if definition.get("condition") else "",
                   "limit": enrolment.get("limit", "once_per_reason"), "times": enrolment.get("times"),
                   "per_days": enrolment.get("per_days"), "cooldown_days": enrolment.get("cooldown_days", 0),
                   "when_trigger_clears": exit_.get("when_trigger_clears", True),
                   "open_tasks": exit_.get("open_tasks", "cancel")}
        for param, value in trigger.items():
            if param != "kind":
                initial[f"trigger_{param}"] = round(value * 100) if param == "drop" and value else value
        return initial


class StepForm(forms.Form):
    kind = forms.ChoiceField(label=_("Step"), choices=STEP_KIND_CHOICES, initial="task")
    day = forms.IntegerField(label=pgettext_lazy("playbook step", "Day"), min_value=0, initial=0, widget=forms.NumberInput(attrs={"class": "narrow"}))
    start = forms.ChoiceField(label=_("Counted"), choices=FROM_CHOICES, initial="enrolment")
    type = forms.ChoiceField(label=_("Type"), choices=TaskType.choices, initial=TaskType.CALL, required=False)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=TaskPriority.choices, coerce=int,
                                      initial=TaskPriority.NORMAL, required=False)
    due_days = forms.IntegerField(label=_("Due after (days)"), min_value=0, initial=7, required=False,
                                  widget=forms.NumberInput(attrs={"class": "narrow"}))
    assignee = forms.ChoiceField(label=_("Assignee"), choices=ASSIGNEE_CHOICES, initial="owner", required=False)
    role = forms.ChoiceField(label=_("Role"), choices=[(r, label) for r, label in Role.choices if r != Role.VIEWER],
                             initial=Role.CSM, required=False)
    title = forms.CharField(label=pgettext_lazy("playbook step", "Title"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    tag = forms.CharField(label=_("Tag"), max_length=60, required=False)
    field = forms.ChoiceField(label=_("Field"), choices=FIELD_CHOICES, required=False)
    field_name = forms.CharField(label=_("Attribute name"), max_length=60, required=False)
    value = forms.CharField(label=_("Value (a stage ID, or the attribute's value)"), max_length=200, required=False)
    # The segments whose rules count accounts added by a playbook (see segments.rules "added").
    segment = forms.TypedChoiceField(label=_("Segment"), coerce=int, required=False, empty_value=None,
                                     help_text=_("Only segments whose rules include “Added by hand or by a "
                                                 "playbook: yes” are offered."))

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        taking = segments_taking_additions(workspace=workspace) if workspace is not None else {}
        self.fields["segment"].choices = [("", "—")] + sorted(taking.items(), key=lambda item: item[1])

    def step(self):
        data = self.cleaned_data
        step = {"kind": data["kind"], "day": data["day"], "from": data["start"]}
        if data["kind"] == "task":
            step.update(type=data.get("type") or TaskType.CALL, priority=data.get("priority") or TaskPriority.NORMAL,
                        due_days=data["due_days"] if data.get("due_days") is not None else 7,
                        assignee={"rule": data.get("assignee") or "owner", "role": data.get("role") or Role.CSM},
                        title=data.get("title") or "", description=data.get("description") or "")
            if step["assignee"]["rule"] == "owner":
                del step["assignee"]["role"]
        elif data["kind"] == "add_tag":
            step["tag"] = data.get("tag")
        elif data["kind"] == "add_to_segment":
            step["segment"] = data.get("segment")
        elif data["kind"] == "set_field":
            step["field"] = data.get("field") or "stage"
            value = (data.get("value") or "").strip()
            if step["field"] == "stage":
                step["value"] = int(value) if value.isdigit() else value
            else:
                step["name"] = data.get("field_name")
                try:
                    step["value"] = json.loads(value) if value and value[0] in "-0123456789" else value
                except json.JSONDecodeError:
                    step["value"] = value
        return step

    @staticmethod
    def initial_for(step):
        assignee = step.get("assignee") or {}
        initial = {"kind": step.get("kind", "task"), "day": step.get("day", 0), "start": step.get("from", "enrolment"),
                   "type": step.get("type"), "priority": step.get("priority"), "due_days": step.get("due_days"),
                   "assignee": assignee.get("rule", "owner"), "role": assignee.get("role", Role.CSM),
                   "title": step.get("title", ""), "description": step.get("description", ""),
                   "tag": step.get("tag", ""), "field": step.get("field", ""), "field_name": step.get("name", ""),
                   "segment": step.get("segment"),
                   "value": "" if step.get("value") is None else str(step.get("value"))}
        return initial


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True, max_num=30, absolute_max=30,
                                    validate_max=True)


def is_blank(form):
    """A step form left empty: nothing typed where a step says what it does. (Its selects always send a
    value, so "changed" alone cannot tell.)"""
    data = form.cleaned_data
    if not form.has_changed():
        return True
    kind = data.get("kind")
    if kind == "task":
        return not (data.get("title") or "").strip() and not (data.get("description") or "").strip()
    if kind == "add_tag":
        return not (data.get("tag") or "").strip()
    if kind == "add_to_segment":
        return not data.get("segment")
    if kind == "set_field":
        return not (data.get("value") or "").strip() and not (data.get("field_name") or "").strip()
    return False


def steps_from(formset):
    """The steps of a valid formset, in order, without the deleted and the blank ones."""
    return [form.step() for form in formset.forms
            if not is_blank(form) and not (formset.can_delete and formset._should_delete_form(form))]


class EnrolForm(forms.Form):
    # Any account of the workspace (another workspace's id is "not a valid choice"); the service
    # checks that the member may start a playbook on each.
    accounts = forms.ModelMultipleChoiceField(label=_("Accounts"), queryset=None,
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = Account.objects.for_workspace(workspace)


class EndRunForm(forms.Form):
    why = forms.CharField(label=_("Why"), required=False, max_length=200)
