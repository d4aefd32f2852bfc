from django.urls import path

from . import views

app_name = "success"

urlpatterns = [
    path("", views.PlanListView.as_view(), name="plans"),
    path("plans.csv", views.PlanExportView.as_view(), name="export"),
    path("levels/", views.LevelsView.as_view(), name="levels"),
    path("kpt/", views.KptView.as_view(), name="kpt"),
    path("kpt/<int:pk>/", views.KptEditView.as_view(), name="kpt_edit"),
    path("accounts/<int:pk>/", views.PlanDetailView.as_view(), name="plan"),
    path("accounts/<int:pk>/report-card/", views.ReportCardView.as_view(), name="report_card"),
    path("accounts/<int:pk>/create/", views.PlanActionView.as_view(action="create"), name="create"),
    path("accounts/<int:pk>/summary/", views.PlanActionView.as_view(action="summary"), name="summary"),
    path("accounts/<int:pk>/objectives/", views.PlanActionView.as_view(action="objective"), name="add_objective"),
    path("accounts/<int:pk>/submit/", views.PlanActionView.as_view(action="submit"), name="submit"),
    path("accounts/<int:pk>/comment/", views.PlanActionView.as_view(action="comment"), name="comment"),
    path("accounts/<int:pk>/approve/", views.ApprovalActionView.as_view(action="approve"), name="approve"),
    path("accounts/<int:pk>/request-changes/", views.ApprovalActionView.as_view(action="request_changes"),
         name="request_changes"),
    path("objectives/<int:pk>/", views.ObjectiveView.as_view(), name="objective"),
    path("objectives/<int:pk>/delete/", views.ObjectiveView.as_view(removing=True), name="objective_delete"),
]
