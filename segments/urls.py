from django.urls import path

from . import views

app_name = "segments"

urlpatterns = [
    path("coverage/", views.CoverageReportView.as_view(), name="coverage"),
    path("coverage/accounts/", views.CoverageAccountsView.as_view(), name="coverage_accounts"),
    path("coverage/due/", views.DueListView.as_view(), name="due"),
    path("coverage/matrix/", views.MatrixView.as_view(), name="matrix"),
    path("coverage/recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("coverage/touch-model/", views.TouchModelView.as_view(), name="touch_model"),
    path("coverage/policies/new/", views.CadencePolicyFormView.as_view(), name="policy_create"),
    path("coverage/policies/<int:pk>/", views.CadencePolicyFormView.as_view(), name="policy_edit"),
    path("coverage/policies/<int:pk>/delete/", views.CadencePolicyDeleteView.as_view(), name="policy_delete"),
    path("coverage/pins/<int:account_pk>/", views.TierPinView.as_view(), name="pin"),
    path("segments/", views.SegmentListView.as_view(), name="list"),
    path("segments/new/", views.SegmentFormView.as_view(), name="create"),
    path("segments/preview/", views.SegmentPreviewView.as_view(), name="preview"),
    path("segments/<int:pk>/", views.SegmentDetailView.as_view(), name="detail"),
    path("segments/<int:pk>/edit/", views.SegmentFormView.as_view(), name="edit"),
    path("segments/<int:pk>/delete/", views.SegmentDeleteView.as_view(), name="delete"),
    path("segments/<int:pk>/recompute/", views.SegmentRecomputeView.as_view(), name="recompute_segment"),
]
