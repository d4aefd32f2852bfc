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

# The benchmark measures what the service can serve. Its 16 concurrent clients share one API token,
# which the per-token throttle would cap at 240 requests a minute by design; a real deployment's
# load comes from many tokens and sessions. The throttles themselves are tested in the suite.
API_THROTTLE_RATES = {"token": None, "anon": None, "failed_auth": None}
