from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from .audit_views import AuditLogExportView, AuditLogView
from .views import BookView, HomeView, RecomputeView, favicon

handler404 = "cs_platform.views.not_found"

# The API documentation pages run third-party viewers under the site's strict Content-Security-Policy,
# relaxed only for what each needs. Both show the public API schema and no data of anyone's.
# Swagger UI: its icons are data: images. (Its start-up script is served as a file by the split view.)
api_docs = csp_update({"img-src": ["data:"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
# Redoc builds its styles at run time into <style> elements (styled-components): inline styles, never
# inline script, which stays forbidden.
api_redoc = csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["data:"], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("my-book/", BookView.as_view(), name="my_book"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("workspace/audit/", AuditLogView.as_view(), name="audit_log"),
    path("workspace/audit/export.<str:file_format>", AuditLogExportView.as_view(), name="audit_log_export"),
    path("workspace/webhooks/", include("webhooks.urls")),
    path("workspace/", include("workspaces.urls")),
    path("accounts/", include("accounts.urls")),
    path("imports/", include("imports.urls")),
    path("coverage/recompute/", RecomputeView.as_view(), name="recompute"),
    path("coverage/", include("coverage.urls")),
    path("segments/", include("segments.urls")),
    path("voice/", include("voice.urls")),
    path("health/", include("healthscore.urls")),
    path("playbooks/report/", include("playbooks.report_urls")),
    path("tasks/", include("playbooks.urls")),
    path("playbooks/", include("playbooks.playbook_urls")),
    path("renewals/", include("renewals.urls")),
    path("expansion/", include("expansion.urls")),
    path("revenue/", include("revenue.urls")),
    path("programmes/", include("programmes.urls")),
    path("lifecycle/", include("lifecycle.urls")),
    path("success/", include("success.urls")),
    path("onboarding/", include("onboarding.urls")),
    path("api/v1/", include("cs_platform.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/redoc/", api_redoc, name="api-redoc"),
    path("v1/", include("usage.tracking_urls")),
    path("usage/", include("usage.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
