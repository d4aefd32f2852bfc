"""Task pages: the list (filters, sort, bulk reassign), create/edit, complete, snooze, cancel, reopen,
and each CSM's load. Views parse input; reads go through playbooks.selectors, writes through
playbooks.tasks, which decide who may do what (workspaces.policy).
"""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from accounts.models import Account
from workspaces.pages import SERVICE_ERRORS, WorkspaceMixin, show_on_form
from workspaces.policy import allows

from . import tasks as services
from .filtersets import ME, StatusChoice, TaskFilterSet
from .models import Task
from .selectors import TASK_ORDERINGS, task_list, task_load, tasks_of
from .task_forms import BulkReassignForm, CompleteTaskForm, SnoozeForm, TaskForm

SORTABLE = ("title", "account", "assignee", "due_on", "priority", "status")


class TaskMixin(WorkspaceMixin):
    model = Task

    def get_queryset(self):
        return tasks_of(workspace=self.workspace)

    def get_object(self, queryset=None):
        if not hasattr(self, "_task"):
            self._task = super().get_object(queryset)
            self._task.workspace = self.workspace
            self._task.account.workspace = self.workspace
        return self._task

    def back(self):
        return self.redirect_back("tasks:list")


def _with_labels(tasks, membership):
    tasks = list(tasks)
    labels = {field: dict(Task._meta.get_field(field).flatchoices) for field in ("type", "status", "source", "priority")}
    for task in tasks:
        for field, by_value in labels.items():
            setattr(task, f"{field}_label", by_value.get(getattr(task, field), getattr(task, field)))
        task.can_change = allows(membership, "tasks.change", task)
    return tasks


# --- List ----------------------------------------------------------------------------------------
class TaskListView(TaskMixin, ListView):
    """Everyone reads every task of the workspace; a CSM opens on their own open tasks, a manager on
    the team's. Filters are the API's (TaskFilterSet)."""

    template_name = "playbooks/task_list.html"
    context_object_name = "tasks"
    paginate_by = 50

    def get_sort(self):
        sort = self.request.GET.get("sort", "due_on")
        return sort if sort in TASK_ORDERINGS else "due_on"

    def filter_data(self):
        data = self.request.GET.copy()
        for key in ("page", "sort"):
            data.pop(key, None)
        if not data:
            data["status"] = StatusChoice.OPEN
            if not allows(self.actor, "tasks.see_any"):
                data["assignee"] = ME
        return data

    def get_queryset(self):
        rows = task_list(workspace=self.workspace, ordering=self.get_sort())
        self.filterset = TaskFilterSet(self.filter_data(), queryset=rows, request=self.request)
        form = self.filterset.form
        for name in ("assignee", "status", "due", "type", "source", "playbook", "account", "account_owner", "tier",
                     "health_band"):
            form.fields[name].empty_label = _("All")
            if hasattr(form.fields[name], "choices") and not hasattr(form.fields[name], "queryset"):
                form.fields[name].widget.choices = list(form.fields[name].choices)
        for name in ("account_owner",):
            form.fields[name].label_from_instance = lambda m: m.display_name
        for name in ("due_from", "due_to"):
            form.fields[name].widget.input_type = "date"
        if not self.filterset.is_valid():
            return rows.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = self.get_sort()
        columns = {}
        for key in SORTABLE:
            if sort == key:
                columns[key] = {"next": "-" + key, "arrow": "▲"}
            elif sort == "-" + key:
                columns[key] = {"next": key, "arrow": "▼"}
            else:
                columns[key] = {"next": key, "arrow": ""}
        can_bulk = allows(self.actor, "tasks.see_any")
        context.update(
            tasks=_with_labels(context["tasks"], self.membership),
            filter_form=self.filterset.form, sort=sort, columns=columns, today=self.workspace.today(),
            is_filtered=any(self.request.GET.get(k) for k in self.filterset.form.fields),
            total=context["paginator"].count if context.get("paginator") else len(context["tasks"]),
            can_create=allows(self.actor, "tasks.create", Task(workspace=self.workspace, assignee=self.membership)),
            can_bulk=can_bulk,
            reassign_form=BulkReassignForm(workspace=self.workspace) if can_bulk else None,
            can_see_load=can_bulk,
        )
        return context


# --- Create / edit ---------------------------------------------------------------------------------
class TaskFormView(TaskMixin, View):
    template_name = "playbooks/task_form.html"

    def render_form(self, form, task, status=200):
        return render(self.request, self.template_name, {"form": form, "task": task}, status=status)


class TaskCreateView(TaskFormView):
    required_action = "tasks.create"

    def policy_object(self):
        # May this member create a task at all (their own, at least)? The service checks the account
        # and assignee the form names.
        return Task(workspace=self.workspace, assignee=self.membership)

    def initial(self):
        initial = {"assignee": self.membership.pk if self.membership.is_active else None,
                   "due_on": self.workspace.today()}
        account = self.request.GET.get("account", "")
        if account.isdigit() and Account.objects.for_workspace(self.workspace).filter(pk=int(account)).exists():
            initial["account"] = int(account)
        return initial

    def get(self, request):
        form = TaskForm(initial=self.initial(), workspace=self.workspace)
        return self.render_form(form, None)

    def post(self, request):
        form = TaskForm(request.POST, workspace=self.workspace)
        if form.is_valid():
            try:
                task = services.create_task(workspace=self.workspace, actor=self.actor, **form.service_kwargs())
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Task created."))
                return self.redirect_back("accounts:detail", task.account_id)
        return self.render_form(form, None, status=400)


class TaskEditView(TaskFormView):
    required_action = "tasks.change"

    def get(self, request, pk):
        task = self.get_object()
        return self.render_form(TaskForm(instance=task, workspace=self.workspace), task)

    def post(self, request, pk):
        task = self.get_object()
        original = Task.objects.for_workspace(self.workspace).get(pk=task.pk)
        form = TaskForm(request.POST, instance=task, workspace=self.workspace)
        if form.is_valid():
            fields = {k: v for k, v in form.service_kwargs().items() if k != "account"}
            try:
                services.update_task(task=original, actor=self.actor, **fields)
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Task saved."))
                return self.back()
        return self.render_form(form, task, status=400)


# --- Complete, snooze, cancel, reopen ----------------------------------------------------------------
class TaskCompleteView(TaskMixin, View):
    """Close a task with its outcome; for a contact task the touch that did it is logged with it."""

    required_action = "tasks.change"
    template_name = "playbooks/task_complete.html"

    def render_form(self, form, task, status=200):
        return render(self.request, self.template_name, {"form": form, "task": task}, status=status)

    def get(self, request, pk):
        task = self.get_object()
        return self.render_form(CompleteTaskForm(task=task), task)

    def post(self, request, pk):
        task = self.get_object()
        form = CompleteTaskForm(request.POST, task=task)
        if form.is_valid():
            try:
                services.complete_task(task=task, actor=self.actor, outcome=form.cleaned_data["outcome"],
                                       touch=form.touch())
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Task done.") if task.touchpoint_id is None
                                 else _("Task done and the touchpoint logged."))
                return self.back()
        return self.render_form(form, task, status=400)


class TaskSnoozeView(TaskMixin, View):
    required_action = "tasks.change"
    template_name = "playbooks/task_snooze.html"

    def render_form(self, form, task, status=200):
        return render(self.request, self.template_name, {"form": form, "task": task}, status=status)

    def get(self, request, pk):
        return self.render_form(SnoozeForm(today=self.workspace.today()), self.get_object())

    def post(self, request, pk):
        task = self.get_object()
        form = SnoozeForm(request.POST, today=self.workspace.today())
        if form.is_valid():
            try:
                services.snooze_task(task=task, actor=self.actor, until=form.cleaned_data["until"])
            except SERVICE_ERRORS as exc:
                show_on_form(form, exc)
            else:
                messages.success(request, _("Task snoozed until %(day)s.") % {"day": task.snoozed_until.isoformat()})
                return self.back()
        return self.render_form(form, task, status=400)


class TaskStatusView(TaskMixin, View):
    """A one-button change of status (cancel, reopen): posts from the list and the account page."""

    required_action = "tasks.change"

    def change(self, task):
        raise NotImplementedError

    def post(self, request, pk):
        task = self.get_object()
        try:
            message = self.change(task)
        except SERVICE_ERRORS as exc:
            messages.error(request, exc.message if hasattr(exc, "message") else "; ".join(exc.messages))
        else:
            messages.success(request, message)
        return self.back()


class TaskCancelView(TaskStatusView):
    def change(self, task):
        services.cancel_task(task=task, actor=self.actor)
        return _("Task cancelled.")


class TaskReopenView(TaskStatusView):
    def change(self, task):
        services.reopen_task(task=task, actor=self.actor)
        return _("Task reopened.")


# --- Bulk reassign -----------------------------------------------------------------------------------
class TaskBulkReassignView(TaskMixin, View):
    """Managers give the checked tasks to another member: all of them, or none if one cannot move."""

    required_action = "tasks.change"

    def policy_object(self):
        # The bulk form is a manager's: the policy is asked about a task of nobody's, which only
        # managers may change. The service asks again about every task checked.
        return Task(workspace=self.workspace, assignee=None, account=Account(workspace=self.workspace))

    def post(self, request):
        form = BulkReassignForm(request.POST, workspace=self.workspace)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
            return self.back()
        try:
            moved = services.reassign_tasks(workspace=self.workspace, actor=self.actor,
                                            tasks=form.cleaned_data["ids"], assignee=form.cleaned_data["assignee"])
        except SERVICE_ERRORS as exc:
            messages.error(request, exc.message if hasattr(exc, "message") else "; ".join(exc.messages))
        else:
            messages.success(request, _("%(n)s tasks reassigned to %(name)s.") % {
                "n": moved, "name": form.cleaned_data["assignee"].display_name})
        return self.back()


# --- Load --------------------------------------------------------------------------------------------
class TaskLoadView(WorkspaceMixin, View):
    """Managers: each CSM's open and overdue tasks, and how many of the last 30 days' were done on time."""

    required_action = "tasks.see_any"
    template_name = "playbooks/task_load.html"

    def get(self, request):
        load = task_load(workspace=self.workspace, today=self.workspace.today())
        base = reverse("tasks:list")
        for row in load["rows"]:
            who = row["member"].pk if row["member"] else "none"
            row["links"] = {"open": f"{base}?assignee={who}&status=open",
                            "overdue": f"{base}?assignee={who}&due=overdue",
                            "done": f"{base}?assignee={who}&status=done"}
        return render(request, self.template_name, {"load": load})

