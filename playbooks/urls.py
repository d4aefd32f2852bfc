"""Task pages, under /tasks/."""

from django.urls import path

from . import task_views as views

app_name = "tasks"

urlpatterns = [
    path("", views.TaskListView.as_view(), name="list"),
    path("new/", views.TaskCreateView.as_view(), name="create"),
    path("load/", views.TaskLoadView.as_view(), name="load"),
    path("reassign/", views.TaskBulkReassignView.as_view(), name="bulk_reassign"),
    path("<int:pk>/edit/", views.TaskEditView.as_view(), name="edit"),
    path("<int:pk>/complete/", views.TaskCompleteView.as_view(), name="complete"),
    path("<int:pk>/snooze/", views.TaskSnoozeView.as_view(), name="snooze"),
    path("<int:pk>/cancel/", views.TaskCancelView.as_view(), name="cancel"),
    path("<int:pk>/reopen/", views.TaskReopenView.as_view(), name="reopen"),
]
