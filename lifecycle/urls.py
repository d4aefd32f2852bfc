from django.urls import path

from . import views

app_name = "lifecycle"

urlpatterns = [
    path("stages/", views.StageDistributionView.as_view(), name="stages"),
    path("stages/distribution.csv", views.StageDistributionExportView.as_view(), name="stages_export"),
    path("stages/stuck.csv", views.StuckExportView.as_view(), name="stuck_export"),
    path("levels/", views.LevelReportView.as_view(), name="levels"),
    path("levels/edit/", views.LevelEditView.as_view(), name="levels_edit"),
    path("levels/churn.csv", views.LevelChurnExportView.as_view(), name="churn_export"),
    path("levels/tenure.csv", views.TenureExportView.as_view(), name="tenure_export"),
]
