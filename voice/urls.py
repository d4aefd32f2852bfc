from django.urls import path

from . import views

app_name = "voice"

urlpatterns = [
    path("", views.FeatureRequestListView.as_view(), name="requests"),
    path("export/", views.FeatureRequestExportView.as_view(), name="export"),
    path("new/", views.FeatureRequestCreateView.as_view(), name="request_create"),
    path("<int:pk>/", views.FeatureRequestDetailView.as_view(), name="request_detail"),
    path("<int:pk>/edit/", views.FeatureRequestEditView.as_view(), name="request_edit"),
    path("<int:pk>/merge/", views.FeatureRequestMergeView.as_view(), name="request_merge"),
    path("<int:pk>/delete/", views.FeatureRequestDeleteView.as_view(), name="request_delete"),
    path("evidence/from/<int:account_pk>/", views.EvidenceAddView.as_view(), name="evidence_add"),
    path("evidence/<int:pk>/remove/", views.EvidenceRemoveView.as_view(), name="evidence_remove"),
    path("nps/", views.NpsView.as_view(), name="nps"),
    path("nps/upload/", views.SurveyUploadView.as_view(), name="upload"),
]
