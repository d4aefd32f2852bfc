from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="list"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="detail"),
    path("<int:pk>/rotate-secret/", views.RotateSecretView.as_view(), name="rotate_secret"),
    path("<int:pk>/enable/", views.EnableView.as_view(), name="enable"),
    path("<int:pk>/ping/", views.PingView.as_view(), name="ping"),
    path("<int:pk>/delete/", views.DeleteView.as_view(), name="delete"),
    path("deliveries/<int:pk>/retry/", views.RetryDeliveryView.as_view(), name="retry"),
]
