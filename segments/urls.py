from django.urls import path

from . import views

app_name = "segments"

urlpatterns = [
    path("", views.SegmentListView.as_view(), name="list"),
    path("new/", views.SegmentFormView.as_view(), name="create"),
    path("preview/", views.SegmentPreviewView.as_view(), name="preview"),
    path("<int:pk>/", views.SegmentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.SegmentFormView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.SegmentDeleteView.as_view(), name="delete"),
    path("<int:pk>/recompute/", views.SegmentRecomputeView.as_view(), name="recompute_segment"),
    path("<int:pk>/add/", views.SegmentAddAccountView.as_view(), name="add_account"),
    path("<int:pk>/remove/<int:account_pk>/", views.SegmentRemoveAccountView.as_view(), name="remove_account"),
]
