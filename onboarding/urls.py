from django.urls import path

from . import views

app_name = "onboarding"

urlpatterns = [
    path("", views.IncompleteHandoffsView.as_view(), name="incomplete"),
    path("late/", views.LateMilestonesView.as_view(), name="late"),
    path("report/", views.ReportView.as_view(), name="report"),
    path("report/<str:table>.csv", views.ReportExportView.as_view(), name="report_export"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/milestones/<int:pk>/", views.TemplateEditView.as_view(), name="template_edit"),
    path("settings/milestones/<int:pk>/delete/", views.TemplateDeleteView.as_view(), name="template_delete"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("accounts/<int:pk>/handoff/", views.HandoffView.as_view(), name="handoff"),
    path("accounts/<int:pk>/milestones/", views.MilestoneDoneView.as_view(), name="milestone_done"),
]
