"""The tasks' one FilterSet: the task list page, `GET /api/v1/tasks/` and the selectors.

Choices of related rows (assignee, account, owner, playbook) are this workspace's only, so naming
another workspace's row is "not a valid choice", exactly like an id that does not exist. "Today" is
the workspace's day.
"""

import datetime as dt

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, HealthBand, TouchTier
from workspaces.filtersets import sane_day, workspace_members

from .models import Playbook, Task, TaskSource, TaskStatus, TaskType

ME, NOBODY = "me", "none"


class DueWindow:
    OVERDUE, TODAY, THIS_WEEK, NEXT_14 = "overdue", "today", "this_week", "next_14_days"
    choices = [(OVERDUE, _("Overdue")), (TODAY, _("Due today")), (THIS_WEEK, _("Due this week")),
               (NEXT_14, _("Due in the next 14 days"))]


class StatusChoice:
    """`open` is what still needs doing: open tasks and snoozed ones whose day has come (the night
    wakes them; until then they count as open already)."""

    OPEN = "open"
    choices = [(OPEN, _("Open")), (TaskStatus.SNOOZED, _("Snoozed")), (TaskStatus.DONE, _("Done")),
               (TaskStatus.CANCELLED, _("Cancelled"))]


def open_tasks_q(today):
    return Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.SNOOZED, snoozed_until__lte=today)


def workspace_accounts(request):
    return Account.objects.for_workspace(request.workspace) if request else Account.objects.none()


def workspace_playbooks(request):
    return Playbook.objects.for_workspace(request.workspace) if request else Playbook.objects.none()


class TaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # "me", "none" (nobody's) or a member's id of this workspace.
    assignee = django_filters.ChoiceFilter(method="filter_assignee", choices=[], label=_("Assignee"))
    status = django_filters.ChoiceFilter(choices=StatusChoice.choices, method="filter_status", label=_("Status"))
    due = django_filters.ChoiceFilter(choices=DueWindow.choices, method="filter_due", label=_("Due"))
    due_from = django_filters.DateFilter(field_name="due_on", lookup_expr="gte", label=_("Due from"),
                                         validators=[sane_day])
    due_to = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due to"),
                                       validators=[sane_day])
    type = django_filters.ChoiceFilter(choices=TaskType.choices, label=_("Type"))
    source = django_filters.ChoiceFilter(choices=TaskSource.choices, label=_("Source"))
    playbook = django_filters.ModelChoiceFilter(field_name="run__playbook", queryset=workspace_playbooks,
                                                label=_("Playbook"))
    account = django_filters.ModelChoiceFilter(queryset=workspace_accounts, label=_("Account"))
    account_owner = django_filters.ModelChoiceFilter(field_name="account__owner", queryset=workspace_members,
                                                     label=_("Account owner"))
    tier = django_filters.ChoiceFilter(field_name="account__touch_tier", choices=TouchTier.choices,
                                       label=_("Touch tier"))
    health_band = django_filters.ChoiceFilter(field_name="account__health_band", choices=HealthBand.choices,
                                              label=_("Health band"))
    external_id = django_filters.CharFilter(label=_("External ID"))

    class Meta:
        model = Task
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        members = list(workspace_members(request).order_by("user__first_name", "user__last_name", "id"))
        assignee = self.filters["assignee"]
        assignee.extra["choices"] = [(ME, _("Me")), (NOBODY, _("Unassigned"))] + [
            (str(m.pk), m.display_name) for m in members]
        # The copied filter may carry a form field built before (e.g. by the API schema): build it anew.
        assignee.__dict__.pop("_field", None)

    @property
    def today(self):
        return self.request.workspace.today()

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(account__name__icontains=value) |
                               Q(account__external_id=value))

    def filter_assignee(self, queryset, name, value):
        if value == ME:
            return queryset.filter(assignee=self.request.membership)
        if value == NOBODY:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_status(self, queryset, name, value):
        if value == StatusChoice.OPEN:
            return queryset.filter(open_tasks_q(self.today))
        if value == TaskStatus.SNOOZED:
            return queryset.filter(status=TaskStatus.SNOOZED, snoozed_until__gt=self.today)
        return queryset.filter(status=value)

    def filter_due(self, queryset, name, value):
        today = self.today
        if value == DueWindow.OVERDUE:  # what is late: still to do, due before today
            return queryset.filter(open_tasks_q(today), due_on__lt=today)
        if value == DueWindow.TODAY:
            return queryset.filter(due_on=today)
        if value == DueWindow.THIS_WEEK:
            start = today - dt.timedelta(days=today.weekday())
            return queryset.filter(due_on__gte=start, due_on__lte=start + dt.timedelta(days=6))
        return queryset.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=14))
