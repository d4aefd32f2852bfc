"""The playbook designer's pages, under /playbooks/ (tasks have their own urls.py)."""

from django.urls import path

from . import views

app_name = "playbooks"

urlpatterns = [
    path("", views.PlaybookListView.as_view(), name="list"),
    path("new/", views.PlaybookFormView.as_view(), name="create"),
    path("preview/", views.PlaybookPreviewView.as_view(), name="preview"),
    path("<int:pk>/", views.PlaybookDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.PlaybookFormView.as_view(), name="edit"),
    path("<int:pk>/enrol/", views.PlaybookEnrolView.as_view(), name="enrol"),
    path("<int:pk>/enabled/", views.PlaybookEnableView.as_view(), name="enabled"),
    path("<int:pk>/delete/", views.PlaybookDeleteView.as_view(), name="delete"),
    path("runs/<int:pk>/end/", views.RunEndView.as_view(), name="end_run"),
]
