"""Forms of the task pages: create/edit, complete (with the touch that did it), snooze, bulk reassign.

Forms parse; the services (playbooks.tasks) decide what is allowed. Choices are the workspace's.
"""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import TouchpointForm
from accounts.models import Account
from workspaces.models import Membership

from .models import CONTACT_TASK_CHANNELS, Task

DATE_WIDGET = {"type": "date"}


def _members(workspace):
    return Membership.objects.for_workspace(workspace).filter(is_active=True).select_related("user").order_by(
        "user__first_name", "user__last_name", "id")


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["account", "title", "type", "assignee", "due_on", "priority", "description"]
        widgets = {
            "due_on": forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 3}),
            "title": forms.TextInput(attrs={"size": 50}),
        }
        # The model's "title" is a contact's job title too, in the catalogue: the task's reads its own way.
        labels = {"title": _("Task title"), "due_on": _("Due date")}

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.for_workspace(workspace).order_by("name", "id")
        self.fields["assignee"].queryset = _members(workspace)
        self.fields["assignee"].label_from_instance = lambda m: m.display_name
        self.fields["assignee"].empty_label = _("Unassigned")
        if self.instance.pk:
            # Where a task is is changed by moving it, rarely: keep the account fixed on edit.
            self.fields["account"].disabled = True

    def service_kwargs(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class CompleteTaskForm(TouchpointForm):
    """Outcome and, for a contact task, the touch that did it (prefilled with the task type's channel)."""

    outcome = forms.CharField(label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    log_touch = forms.BooleanField(label=_("Log this as a touchpoint (it counts for coverage)"), required=False)
    field_order = ["outcome", "log_touch", "channel", "occurred_at", "contacts", "summary", "sentiment"]

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, account=task.account, **kwargs)
        channel = CONTACT_TASK_CHANNELS.get(task.type)
        self.fields["log_touch"].initial = channel is not None
        if channel:
            self.fields["channel"].initial = channel
        self.fields["summary"].initial = task.title
        if self.data and not self.data.get("log_touch"):
            # No touch: its fields are not read, so they cannot be wrong.
            for name in ("channel", "occurred_at", "sentiment"):
                self.fields[name].required = False

    def clean_occurred_at(self):
        if self.cleaned_data.get("occurred_at") is None:
            return None  # no touch logged
        return super().clean_occurred_at()

    def clean(self):
        data = super().clean()
        if not data.get("log_touch"):
            for name in ("channel", "occurred_at", "contacts", "summary", "sentiment"):
                self.errors.pop(name, None)
        return data

    def touch(self):
        data = self.cleaned_data
        if not data.get("log_touch"):
            return None
        return {"channel": data["channel"], "occurred_at": data["occurred_at"], "summary": data["summary"],
                "contacts": list(data["contacts"]), "sentiment": data["sentiment"]}


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["until"].initial = today + dt.timedelta(days=7)
        self.fields["until"].widget.attrs["min"] = (today + dt.timedelta(days=1)).isoformat()


class BulkReassignForm(forms.Form):
    ids = forms.ModelMultipleChoiceField(queryset=Task.objects.none(), label=_("Tasks"),
                                         widget=forms.MultipleHiddenInput)
    assignee = forms.ModelChoiceField(queryset=Membership.objects.none(), label=_("Reassign to"))

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = Task.objects.for_workspace(workspace).select_related("account")
        self.fields["assignee"].queryset = _members(workspace)
        self.fields["assignee"].label_from_instance = lambda m: m.display_name
