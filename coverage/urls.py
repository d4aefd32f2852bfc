from django.urls import path

from . import views

app_name = "coverage"

urlpatterns = [
    path("", views.CoverageReportView.as_view(), name="report"),
    path("accounts/", views.CoverageAccountsView.as_view(), name="accounts"),
    path("due/", views.DueListView.as_view(), name="due"),
    path("matrix/", views.MatrixView.as_view(), name="matrix"),
    path("touch-model/", views.TouchModelView.as_view(), name="touch_model"),
    path("policies/new/", views.CadencePolicyFormView.as_view(), name="policy_create"),
    path("policies/<int:pk>/", views.CadencePolicyFormView.as_view(), name="policy_edit"),
    path("policies/<int:pk>/delete/", views.CadencePolicyDeleteView.as_view(), name="policy_delete"),
    path("pins/<int:account_pk>/", views.TierPinView.as_view(), name="pin"),
]
