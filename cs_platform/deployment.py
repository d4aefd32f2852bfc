"""Helpers of the settings module for what a deployment must get right: the secret key and proxies.

Imported by settings.py before Django is set up: nothing here may import Django models or apps.
"""

import os
import re
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Only for a setup that asked for it (ALLOW_INSECURE_SECRET_KEY, or DEBUG on PostgreSQL): anyone who
# reads this file can forge that setup's sessions. The prefix makes Django's own `check --deploy`
# (security.W009) report it too, beside our cs_platform.E001.
PUBLIC_INSECURE_KEY = "django-insecure-public-key-of-a-throwaway-setup-never-use-in-production"


def key_file_for(sqlite_path):
    """Where the embedded default keeps its key: beside the SQLite database, named after it."""
    sqlite_path = Path(sqlite_path)
    return sqlite_path.with_name(sqlite_path.name + ".secret-key")


def embedded_secret_key(sqlite_path):
    """The embedded default's SECRET_KEY: generated on the first start, then read from its file.

    A key in the code would be the same for every installation, so anyone could forge sessions of
    any of them. The key file is created readable by the server's user only (0600), and atomically:
    two processes starting at once (web and worker) end up with the same key.
    """
    path = key_file_for(sqlite_path)
    try:
        if not path.exists():
            _create_key_file(path)
        key = path.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"Could not keep a generated SECRET_KEY in {path} ({exc.strerror or exc}). "
            "Set SECRET_KEY, or SQLITE_PATH to a writable place."
        ) from exc
    if len(key) < 50:
        raise ImproperlyConfigured(f"The SECRET_KEY in {path} is too short: delete the file to generate a new one.")
    return key


def _create_key_file(path):
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        try:
            # A hard link never replaces a file: when another process got there first, its key stays.
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def proxy_ssl_header(value):
    """PROXY_SSL_HEADER → SECURE_PROXY_SSL_HEADER.

    "X-Forwarded-Proto", "HTTP_X_FORWARDED_PROTO" or "X-Forwarded-Proto=https" (the value that means
    HTTPS; "https" unless given). Empty: no proxy is trusted to say that a request came over HTTPS.
    """
    value = (value or "").strip()
    if not value:
        return None
    header, _, https_value = value.partition("=")
    header = header.strip().upper().replace("-", "_")
    if not header.startswith("HTTP_"):
        header = "HTTP_" + header
    return (header, https_value.strip() or "https")


THROTTLE_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_throttle_rate(name, default):
    """An API throttle rate from the environment: "240/minute", or "off" for none. Checked at start-up,
    because DRF would only fail on the first request."""
    value = os.environ.get(name, "").strip().lower() or default
    if value in ("off", "none", "0"):
        return None
    if not THROTTLE_RATE.match(value):
        raise ImproperlyConfigured(f"{name} must look like 240/minute (or be off), not {value!r}.")
    return value
