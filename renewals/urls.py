from django.urls import path

from . import views

app_name = "renewals"

urlpatterns = [
    path("", views.RenewalsView.as_view(), name="overview"),
    path("export.csv", views.RenewalsExportView.as_view(), name="export"),
    path("lines/<int:pk>/record/", views.RecordOutcomeView.as_view(), name="record"),
]
