"""Tracking API routes, mounted at /v1/. No trailing slash: the SDKs post to `{host}/v1/batch`,
and APPEND_SLASH would answer a POST with a redirect that they treat as failure."""

from django.urls import path

from . import tracking

urlpatterns = [
    path("batch", tracking.batch, name="tracking-batch"),
    path("track", tracking.track, name="tracking-track"),
    path("identify", tracking.identify, name="tracking-identify"),
    path("group", tracking.group, name="tracking-group"),
    path("page", tracking.page, name="tracking-page"),
    path("screen", tracking.screen, name="tracking-screen"),
    path("alias", tracking.alias, name="tracking-alias"),
]
