"""Screenshots of the main pages for the README, from the demo data: `make screenshots`.

Seeds the demo workspace into a temporary SQLite database (the repository's own db.sqlite3 is not
touched), adds two segments (the demo has none), runs the recompute with its history, serves it on a
free port on 127.0.0.1, signs in through the login form with Playwright (Debian's Chromium, as the
browser tests: CHROMIUM_PATH, default /usr/bin/chromium) and saves each page at 1280x800 as
docs/screenshots/<language>/<name>.png. Japanese needs a Japanese font (Debian's fonts-noto-cjk).

    .venv/bin/python docs/screenshots/make_screenshots.py                 # Japanese (committed)
    .venv/bin/python docs/screenshots/make_screenshots.py --language en   # English as well
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
WORKSPACE = "demo"
VIEWPORT = {"width": 1280, "height": 800}
BROWSER_LOCALES = {"ja": "ja-JP", "en": "en-US"}  # the browser's own locale (Accept-Language, Intl)

# (file name, who signs in, path); {account} and {segment} are filled in from the data.
PAGES = [
    ("home", "manager1", "/"),
    ("my-book", "csm1", "/"),
    ("accounts", "manager1", "/accounts/"),
    ("account-detail", "manager1", "/accounts/{account}/"),
    ("coverage", "manager1", "/coverage/"),
    ("matrix", "manager1", "/coverage/matrix/"),
    ("due-touches", "manager1", "/coverage/due/"),
    ("health", "manager1", "/health/"),
    ("alerts", "manager1", "/health/alerts/"),
    ("segments", "manager1", "/segments/"),
    ("segment-detail", "manager1", "/segments/{segment}/"),
    ("imports", "manager1", "/imports/"),
]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(database):
    """The demo workspace, two segments and the recompute, in the database at `database`."""
    os.environ["SQLITE_PATH"] = str(database)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_platform.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Account
    from segments.services import save_segment
    from workspaces.models import Workspace
    from workspaces.policy import SystemActor

    call_command("migrate", verbosity=0)
    call_command("seed_demo", workspace=WORKSPACE, no_logins=True)
    workspace = Workspace.objects.get(slug=WORKSPACE)
    actor = SystemActor("screenshots")
    segment = save_segment(workspace=workspace, actor=actor, name="Enterprise (ARR 10M+)", rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 10_000_000}]})
    save_segment(workspace=workspace, actor=actor, name="Low usage", rules={
        "op": "and", "conditions": [{"field": "status", "op": "in", "value": ["active"]},
                                    {"field": "active_users", "op": "lte", "value": 2}]})
    call_command("recompute", workspace=WORKSPACE, history=True)
    account = Account.objects.for_workspace(workspace).order_by("-arr").first()
    return {"account": account.pk, "segment": segment.pk}


def serve(database, port):
    env = {**os.environ, "SQLITE_PATH": str(database), "DEBUG": "0"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit("The server did not start.") from None
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("The server did not answer within a minute.")


def shoot(base_url, ids, languages):
    from playwright.sync_api import sync_playwright

    from cs_platform.demo import DEMO_PASSWORD

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        for language in languages:
            folder = OUT / language
            folder.mkdir(exist_ok=True)
            signed_in = None
            context = None
            for name, who, path in PAGES:
                if who != signed_in:
                    if context:
                        context.close()
                    context = browser.new_context(base_url=base_url, viewport=VIEWPORT,
                                                  locale=BROWSER_LOCALES[language])
                    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
                    page = context.new_page()
                    page.goto("/login/")
                    page.fill("input[name=username]", f"{WORKSPACE}-{who}")
                    page.fill("input[name=password]", DEMO_PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state()
                    signed_in = who
                page.goto(path.format(**ids))
                page.wait_for_load_state("networkidle")
                page.screenshot(path=folder / f"{name}.png")
                print(f"{language}/{name}.png")
            context.close()
        browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", action="append", choices=["ja", "en"],
                        help="Language of the pages (repeatable; default ja)")
    languages = parser.parse_args().language or ["ja"]
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH).")
    if "ja" in languages and shutil.which("fc-list") and not subprocess.run(
            ["fc-list", ":lang=ja"], capture_output=True, text=True).stdout.strip():
        raise SystemExit("No Japanese font installed (Debian: apt-get install fonts-noto-cjk).")
    with tempfile.TemporaryDirectory(prefix="cs-screenshots-") as tmp:
        database = Path(tmp) / "db.sqlite3"
        ids = prepare(database)
        port = free_port()
        server = serve(database, port)
        try:
            shoot(f"http://127.0.0.1:{port}", ids, languages)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
