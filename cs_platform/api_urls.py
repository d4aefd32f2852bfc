"""Every REST API v1 route, registered on one router. Each app adds its viewsets here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls
