from django.urls import path

from . import views

app_name = "revenue"

urlpatterns = [
    path("", views.RevenueView.as_view(), name="overview"),
    path("movements/", views.MovementsView.as_view(), name="movements"),
    path("movements.csv", views.MovementsExportView.as_view(), name="export_movements"),
    path("breakdown.csv", views.BreakdownExportView.as_view(), name="export_breakdown"),
]
