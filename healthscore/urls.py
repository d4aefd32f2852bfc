from django.urls import path

from . import views

app_name = "health"

urlpatterns = [
    path("", views.HealthOverviewView.as_view(), name="overview"),
    path("settings/", views.HealthSettingsView.as_view(), name="settings"),
    path("alerts/", views.MyAlertsView.as_view(), name="alerts"),
    path("alerts/<int:pk>/outcome/", views.AlertOutcomeView.as_view(), name="alert_outcome"),
    path("scorecards/new/", views.NewScorecardView.as_view(), name="scorecard_new"),
    path("scorecards/<int:pk>/", views.ScorecardView.as_view(), name="scorecard"),
    path("backtest/", views.BacktestView.as_view(), name="backtest"),
    path("backtest/suggest-weights/", views.SuggestWeightsView.as_view(), name="suggest_weights"),
    path("backtest/accept-weights/", views.AcceptWeightsView.as_view(), name="accept_weights"),
    path("accounts/<int:pk>/sentiment/", views.RateSentimentView.as_view(), name="rate_sentiment"),
]
