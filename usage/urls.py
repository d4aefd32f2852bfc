from django.urls import path

from . import views

app_name = "usage"

urlpatterns = [
    path("settings/", views.UsageSettingsView.as_view(), name="settings"),
    path("history/", views.UsageHistoryView.as_view(), name="history"),
]
