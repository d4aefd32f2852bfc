from django.urls import path

from . import report_views

app_name = "playbook_report"

urlpatterns = [
    path("", report_views.PlaybookReportView.as_view(), name="report"),
    path("export.csv", report_views.PlaybookReportExportView.as_view(), name="export"),
    path("export-csm.csv", report_views.CsmReportExportView.as_view(), name="export_csm"),
]
