"""A workspace moved to another deployment: a second, fresh database (of the same kind as the suite's),
migrated and already holding another workspace, imports the archive with the real command in
its own process and reads every report figure the source reads."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from cs_platform.portability.services import export_workspace

from .portability_figures import differences, report_figures
from .portability_seed import history_days, seed_workspace

ROOT = Path(__file__).resolve().parent.parent
FIGURES = "import django; django.setup(); from tests.portability_figures import main; main()"


class SecondDeployment:
    """A fresh database beside the test database, and commands run against it in another process."""

    def __init__(self, tmp_path):
        self.media = tmp_path / "media-second"
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            self.name = f"{settings['NAME']}_second"
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')
            auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
            self.url = f"postgres://{auth}@{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}/{self.name}"
        elif connection.vendor == "sqlite":
            self.name, self.url = None, f"sqlite:///{tmp_path / 'second.sqlite3'}"
        else:
            pytest.skip(f"no second deployment on {connection.vendor}")
        # Another deployment has its own secret key too.
        self.env = {**os.environ, "DATABASE_URL": self.url, "MEDIA_ROOT": str(self.media),
                    "SECRET_KEY": secrets.token_urlsafe(40), "DJANGO_SETTINGS_MODULE": "cs_platform.settings"}

    def _admin(self, *statements):
        import psycopg2

        settings = connection.settings_dict
        admin = psycopg2.connect(dbname="postgres", user=settings["USER"], password=settings["PASSWORD"] or None,
                                 host=settings["HOST"] or None, port=settings["PORT"] or None)
        admin.autocommit = True
        with admin.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        admin.close()

    def run(self, *argv, timeout=300):
        done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def manage(self, *argv):
        return self.run("manage.py", *argv)

    def drop(self):
        if self.name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def second(tmp_path):
    deployment = SecondDeployment(tmp_path)
    yield deployment
    deployment.drop()


@pytest.mark.django_db
def test_a_workspace_moved_to_another_deployment_reads_the_same(settings, tmp_path, second):
    settings.MEDIA_ROOT = tmp_path / "media"
    demo = seed_workspace("port-src")
    source = demo.workspace
    days = history_days(source)
    path = tmp_path / "src.zip"
    export_workspace(workspace=source, path=str(path))

    second.manage("migrate", "--noinput", "--verbosity", "0")
    # Another workspace first, so that no restored row can keep its old id by chance.
    second.manage("seed_demo", "--workspace", "already-here", "--accounts", "9", "--seed", "11")
    out = second.manage("import_workspace", str(path), "--slug", "moved")
    assert "as workspace Port Src CS (moved)." in out

    moved = json.loads(second.run("-c", FIGURES, "moved",
                                  *[str(day) for day in days]))
    expected = json.loads(json.dumps(report_figures(source, days)))
    assert differences(expected, moved) == []
    # The source's keys open nothing there.
    check = ("import sys, django; django.setup()\n"
             "from usage.models import WriteKey\nfrom workspaces.models import ApiToken\n"
             "print(WriteKey.all_workspaces.active().filter(key_hash=WriteKey.hash_key(sys.argv[1])).count(),"
             " ApiToken.objects.active().filter(key_hash=ApiToken.hash_key(sys.argv[2])).count())")
    assert second.run("-c", check, demo.write_key, demo.api_token).split() == ["0", "0"]
