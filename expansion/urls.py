"""Toss-up pages, under /expansion/."""

from django.urls import path

from . import views

app_name = "expansion"

urlpatterns = [
    path("", views.OpportunityListView.as_view(), name="list"),
    path("new/", views.OpportunityCreateView.as_view(), name="create"),
    path("kpi/", views.PipelineKpiView.as_view(), name="kpi"),
    path("export.csv", views.OpportunityExportView.as_view(), name="export"),
    path("<int:pk>/edit/", views.OpportunityEditView.as_view(), name="edit"),
    path("<int:pk>/status/", views.OpportunityStatusView.as_view(), name="status"),
]
