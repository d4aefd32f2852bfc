from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.AccountListView.as_view(), name="list"),
    path("new/", views.AccountCreateView.as_view(), name="create"),
    path("stages/", views.StageListView.as_view(), name="stages"),
    path("churn-reasons/", views.ChurnReasonListView.as_view(), name="churn_reasons"),
    path("<int:pk>/", views.AccountDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.AccountEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.AccountDeleteView.as_view(), name="delete"),
    path("<int:pk>/touchpoints/", views.LogTouchpointView.as_view(), name="log_touchpoint"),
    path("<int:pk>/contacts/new/", views.ContactFormView.as_view(), name="contact_add"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.ContactFormView.as_view(), name="contact_edit"),
]
