"""Settings of the benchmark's Django processes: the platform's, plus the baseline view's URLs.

Static files are served by the finders with plain storage, so pages render without a
`collectstatic` manifest; nothing else differs from production.
"""

from cs_platform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
