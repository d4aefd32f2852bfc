"""`manage.py check --deploy`: what Django's own deployment checks cannot know about this platform.

Registered with the deploy tag, so everyday `check` (and `runserver`) stays quiet about them.
"""

from django.conf import settings
from django.core import checks

from .deployment import PUBLIC_INSECURE_KEY


@checks.register(checks.Tags.security, deploy=True)
def check_deployment(app_configs, **kwargs):
    found = []
    if settings.SECRET_KEY == PUBLIC_INSECURE_KEY:
        found.append(checks.Error(
            "SECRET_KEY is the public key of a throwaway setup: anyone can forge sessions and CSRF tokens.",
            hint="Set SECRET_KEY to a long random value (and unset ALLOW_INSECURE_SECRET_KEY).",
            id="cs_platform.E001",
        ))
    if getattr(settings, "EMBEDDED_SECRET_KEY_FILE", None):
        found.append(checks.Warning(
            f"SECRET_KEY was generated for the embedded default and is kept in {settings.EMBEDDED_SECRET_KEY_FILE}.",
            hint="For a deployment, set SECRET_KEY from your secret store; keep the file private if you keep it.",
            id="cs_platform.W001",
        ))
    if settings.SECURE_PROXY_SSL_HEADER and not getattr(settings, "NUM_PROXIES", 0):
        found.append(checks.Warning(
            "A proxy is trusted for HTTPS (PROXY_SSL_HEADER) but NUM_PROXIES is 0: every client has the "
            "proxy's address, so one client's failed logins lock out everyone and API limits are shared.",
            hint="Set NUM_PROXIES to the number of proxies that append to X-Forwarded-For (usually 1).",
            id="cs_platform.W002",
        ))
    if settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
        found.append(checks.Warning(
            "E-mail (member invitations) is printed to the server's console, not sent.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).",
            id="cs_platform.W003",
        ))
    return found
