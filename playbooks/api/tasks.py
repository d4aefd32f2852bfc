"""REST API v1 for tasks, on the workspace-scoped bases.

Every member reads every task of the workspace; the writes go through playbooks.tasks, which decide
who may change what (a CSM: the tasks assigned to them or on the accounts they own; a manager: all).
Filters are the task list page's (TaskFilterSet); an invalid one is a 400 naming it.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from workspaces.api.viewsets import WorkspaceViewSet

from .. import tasks as services
from ..filtersets import TaskFilterSet
from ..models import Task, TaskSource
from .task_serializers import (
    BulkReassignRequestSerializer,
    BulkReassignResultSerializer,
    CancelRequestSerializer,
    CompleteRequestSerializer,
    SnoozeRequestSerializer,
    TaskSerializer,
)


@extend_schema(description=gettext_lazy(
    "Tasks: calls-to-action on accounts. Everyone reads; the assignee, the account's CSM or a manager "
    "changes a task. Filters are those of the task list page; `ordering` sorts."
))
class TaskViewSet(WorkspaceViewSet):
    queryset = Task.objects.select_related("account", "assignee__user", "run__playbook", "completed_by__user",
                                           "created_by__user")
    serializer_class = TaskSerializer
    policy_actions = {"create": "tasks.create", "update": "tasks.change", "partial_update": "tasks.change",
                      "destroy": "tasks.change", "complete": "tasks.change", "snooze": "tasks.change",
                      "cancel": "tasks.change", "bulk_reassign": "tasks.change"}
    filterset_class = TaskFilterSet
    ordering_fields = ["due_on", "priority", "title", "status", "created_at", "completed_on", "id"]
    ordering = ["due_on", "-priority", "id"]

    def _fresh(self, task):
        return self.get_queryset().get(pk=task.pk)

    def perform_create(self, serializer):
        task = services.create_task(workspace=self.request.workspace, actor=self.request.actor,
                                    source=TaskSource.API, **serializer.validated_data)
        serializer.instance = self._fresh(task)

    def perform_update(self, serializer):
        services.update_task(task=serializer.instance, actor=self.request.actor, **serializer.validated_data)
        serializer.instance = self._fresh(serializer.instance)

    def perform_destroy(self, instance):
        services.delete_task(task=instance, actor=self.request.actor)

    @extend_schema(request=CompleteRequestSerializer, responses=TaskSerializer, description=gettext_lazy(
        "Mark the task done. With `touch`, the touchpoint is logged on the task's account and linked in the "
        "same transaction: it counts for coverage at once."))
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        body = CompleteRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        touch = body.validated_data.get("touch")
        services.complete_task(task=task, actor=request.actor, outcome=body.validated_data.get("outcome", ""),
                               touch=dict(touch) if touch else None)
        return Response(TaskSerializer(self._fresh(task), context=self.get_serializer_context()).data)

    @extend_schema(request=SnoozeRequestSerializer, responses=TaskSerializer,
                   description=gettext_lazy("Put an open task away until a day after today."))
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        task = self.get_object()
        body = SnoozeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.snooze_task(task=task, actor=request.actor, until=body.validated_data["until"])
        return Response(TaskSerializer(self._fresh(task), context=self.get_serializer_context()).data)

    @extend_schema(request=CancelRequestSerializer, responses=TaskSerializer,
                   description=gettext_lazy("Cancel an open task (with an optional outcome saying why)."))
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        task = self.get_object()
        body = CancelRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.cancel_task(task=task, actor=request.actor, outcome=body.validated_data.get("outcome", ""))
        return Response(TaskSerializer(self._fresh(task), context=self.get_serializer_context()).data)

    @extend_schema(request=BulkReassignRequestSerializer, responses=BulkReassignResultSerializer,
                   description=gettext_lazy(
                       "Give these tasks to another active member: all of them, or none if the caller may not "
                       "change one of them."))
    @action(detail=False, methods=["post"], url_path="bulk-reassign")
    def bulk_reassign(self, request):
        body = BulkReassignRequestSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        ids = set(body.validated_data["ids"])
        tasks = list(self.get_queryset().filter(pk__in=ids))
        missing = sorted(ids - {task.pk for task in tasks})
        if missing:
            raise serializers.ValidationError({"ids": [_("Not found in this workspace: %(ids)s.") % {
                "ids": ", ".join(str(pk) for pk in missing[:20])}]})
        moved = services.reassign_tasks(workspace=request.workspace, actor=request.actor, tasks=tasks,
                                        assignee=body.validated_data["assignee"])
        return Response({"reassigned": moved}, status=status.HTTP_200_OK)
