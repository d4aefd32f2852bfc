from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.ImportIndexView.as_view(), name="index"),
    path("<int:pk>/", views.JobView.as_view(), name="job"),
    path("<int:pk>/map/", views.MapColumnsView.as_view(), name="map"),
    path("<int:pk>/progress.json", views.JobProgressView.as_view(), name="progress"),
    path("export/<slug:object_type>.<slug:file_format>", views.ExportView.as_view(), name="export"),
]
