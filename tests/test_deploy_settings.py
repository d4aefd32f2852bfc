"""Deployment settings: the embedded default's secret key, every HTTPS setting from the environment,
and `check --deploy` naming what is unsafe.

Settings are read once per process, so each case starts a fresh `manage.py` with its own environment.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

from django.core import checks
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
# Everything a developer's or CI's shell may have set that would change what is under test.
CONFIG_VARS = {
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOW_INSECURE_SECRET_KEY", "DEBUG", "SQLITE_PATH",
    "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "PROXY_SSL_HEADER", "NUM_PROXIES", "SESSION_COOKIE_AGE", "EMAIL_BACKEND",
    "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "EMAIL_USE_SSL",
    "DEFAULT_FROM_EMAIL", "CSRF_TRUSTED_ORIGINS", "ALLOWED_HOSTS", "LOGIN_FAILURE_LIMIT", "LOGIN_COOLOFF_MINUTES",
    "API_THROTTLE_TOKEN", "API_THROTTLE_ANON", "API_THROTTLE_FAILED_AUTH",
}

PRINT_SETTINGS = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in %r}, default=str))
"""


def run(args, env=None, tmp_path=None):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "cs_platform.settings"
    if tmp_path is not None:
        clean["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    clean.update(env or {})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=120)


def settings_in_process(names, env=None, tmp_path=None):
    import json

    done = run(["-c", PRINT_SETTINGS % (list(names),)], env=env, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the secret key -------------------------------------------------------------------------------
def test_embedded_default_generates_a_private_key_once_and_keeps_it(tmp_path):
    first = settings_in_process(["SECRET_KEY"], tmp_path=tmp_path)["SECRET_KEY"]
    second = settings_in_process(["SECRET_KEY"], tmp_path=tmp_path)["SECRET_KEY"]
    assert first == second  # sessions survive a restart
    assert len(first) >= 50 and "insecure" not in first
    key_files = [p for p in tmp_path.iterdir() if p.name != "db.sqlite3"]
    assert [p.name for p in key_files] == ["db.sqlite3.secret-key"]  # beside the database
    assert key_files[0].read_text().strip() == first
    assert stat.S_IMODE(key_files[0].stat().st_mode) == 0o600  # readable by the server's user only
    # Another installation (another database directory) gets another key.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert settings_in_process(["SECRET_KEY"], tmp_path=elsewhere)["SECRET_KEY"] != first


def test_the_key_file_is_ignored_by_git():
    paths = ["db.sqlite3.secret-key", "data/cs.sqlite3.secret-key"]
    done = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == paths


def test_a_set_secret_key_is_used_and_no_file_is_written(tmp_path):
    assert settings_in_process(["SECRET_KEY"], env={"SECRET_KEY": "k" * 60}, tmp_path=tmp_path) == {
        "SECRET_KEY": "k" * 60}
    assert list(tmp_path.iterdir()) == []


def test_postgresql_without_a_key_refuses_to_start(tmp_path):
    done = run(["-c", PRINT_SETTINGS % (["SECRET_KEY"],)], tmp_path=tmp_path,
               env={"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_an_unwritable_place_for_the_key_is_a_clear_error(tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    done = run(["-c", PRINT_SETTINGS % (["SECRET_KEY"],)], env={"SQLITE_PATH": str(not_a_directory / "db.sqlite3")})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY" in done.stderr
    assert str(not_a_directory) in done.stderr


# --- HTTPS and the rest, from the environment -----------------------------------------------------
def test_every_deployment_setting_comes_from_the_environment(tmp_path):
    env = {
        "SECRET_KEY": "s" * 60, "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1", "SECURE_SSL_REDIRECT": "1", "PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "NUM_PROXIES": "1", "SECURE_COOKIES": "1", "SESSION_COOKIE_AGE": "28800",
        "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "587", "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "secret", "EMAIL_USE_TLS": "1", "DEFAULT_FROM_EMAIL": "cs@example.com",
        "LOGIN_FAILURE_LIMIT": "8", "LOGIN_COOLOFF_MINUTES": "30", "API_THROTTLE_TOKEN": "1000/hour",
        "API_THROTTLE_ANON": "off",
    }
    got = settings_in_process([
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER", "NUM_PROXIES", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_AGE", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME",
        "API_THROTTLE_RATES",
    ], env=env, tmp_path=tmp_path)
    assert got == {
        "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True,
        "SECURE_SSL_REDIRECT": True, "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "NUM_PROXIES": 1, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_AGE": 28800,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587, "EMAIL_HOST_USER": "mailer", "EMAIL_HOST_PASSWORD": "secret", "EMAIL_USE_TLS": True,
        "DEFAULT_FROM_EMAIL": "cs@example.com", "AXES_FAILURE_LIMIT": 8, "AXES_COOLOFF_TIME": "0:30:00",
        "API_THROTTLE_RATES": {"token": "1000/hour", "anon": None, "failed_auth": "20/minute"},
    }


def test_embedded_defaults_print_mail_trust_no_proxy_and_limit_sign_ins_and_calls(tmp_path):
    got = settings_in_process(["EMAIL_BACKEND", "SECURE_PROXY_SSL_HEADER", "NUM_PROXIES", "SECURE_HSTS_SECONDS",
                               "AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME", "API_THROTTLE_RATES"], tmp_path=tmp_path)
    assert got == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
                   "SECURE_PROXY_SSL_HEADER": None, "NUM_PROXIES": 0, "SECURE_HSTS_SECONDS": 0,
                   "AXES_FAILURE_LIMIT": 5, "AXES_COOLOFF_TIME": "0:15:00",
                   "API_THROTTLE_RATES": {"token": "240/minute", "anon": "60/minute", "failed_auth": "20/minute"}}


def test_a_malformed_rate_names_its_variable(tmp_path):
    done = run(["-c", PRINT_SETTINGS % (["API_THROTTLE_RATES"],)], tmp_path=tmp_path,
               env={"API_THROTTLE_TOKEN": "lots"})
    assert done.returncode != 0
    assert "API_THROTTLE_TOKEN" in done.stderr


def test_a_malformed_number_names_its_variable(tmp_path):
    done = run(["-c", PRINT_SETTINGS % (["SECURE_HSTS_SECONDS"],)], tmp_path=tmp_path,
               env={"SECURE_HSTS_SECONDS": "one year"})
    assert done.returncode != 0
    assert "SECURE_HSTS_SECONDS" in done.stderr


# --- check --deploy ----------------------------------------------------------------------------------
def deploy_check(env, tmp_path):
    return run(["manage.py", "check", "--deploy", "--fail-level", "CRITICAL"], env=env, tmp_path=tmp_path)


def test_check_deploy_flags_the_embedded_key(tmp_path):
    done = deploy_check({}, tmp_path)
    assert "cs_platform.W001" in done.stderr, done.stderr


def test_check_deploy_flags_the_public_key_of_an_insecure_setup(tmp_path):
    done = deploy_check({"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "ALLOW_INSECURE_SECRET_KEY": "1"},
                        tmp_path)
    assert "cs_platform.E001" in done.stderr, done.stderr
    assert "security.W009" in done.stderr  # Django's own check sees it too: the key is marked insecure


def test_check_deploy_is_quiet_about_keys_and_proxies_when_configured(tmp_path):
    done = deploy_check({"SECRET_KEY": "a-proper-key-" + "x1y2z3" * 10, "PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
                         "NUM_PROXIES": "1", "EMAIL_HOST": "smtp.example.com"}, tmp_path)
    assert "cs_platform." not in done.stderr, done.stderr


def test_a_proxy_without_num_proxies_is_flagged(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.NUM_PROXIES = 0
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])}
    assert "cs_platform.W002" in ids


def test_console_email_is_flagged_for_deployment(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True)}
    assert "cs_platform.W003" in ids


def test_plain_check_passes(capsys):
    call_command("check")  # the deploy-only warnings stay out of everyday `check`
