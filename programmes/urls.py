from django.urls import path

from . import views

app_name = "programmes"

urlpatterns = [
    path("", views.ProgrammeListView.as_view(), name="list"),
    path("new/", views.ProgrammeFormView.as_view(), name="create"),
    path("<int:pk>/", views.ProgrammeDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ProgrammeFormView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.ProgrammeDeleteView.as_view(), name="delete"),
    path("<int:pk>/sessions/new/", views.SessionCreateView.as_view(), name="session_create"),
    path("<int:pk>/effect/", views.ProgrammeEffectView.as_view(), name="effect"),
    path("<int:pk>/attendance.csv", views.AttendanceExportView.as_view(), name="export"),
    path("<int:pk>/effect.csv", views.EffectExportView.as_view(), name="effect_export"),
    path("sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session"),
    path("sessions/<int:pk>/import/", views.AttendanceImportView.as_view(), name="import"),
    path("sessions/<int:pk>/effect/", views.SessionEffectView.as_view(), name="session_effect"),
]
