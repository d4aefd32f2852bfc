"""`manage.py export_workspace` / `import_workspace` as an operator runs them: arguments, progress,
messages and exit codes (0 done, 1 refused with the reason and nothing written, 2 wrong arguments)."""

import json
import zipfile

import pytest
from django.core.management import ManagementUtility

from accounts.models import Account
from cs_platform.demo import seed_demo
from workspaces.models import Workspace


def manage(*argv):
    """Run a command as from the shell; its exit code (0 when it returns normally)."""
    try:
        ManagementUtility(["manage.py", *argv]).execute()
    except SystemExit as exit_:
        return exit_.code
    return 0


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return seed_demo(slug="cli", accounts=6, seed=4).workspace


@pytest.mark.django_db(transaction=True)  # a command closes the connections when it ends
def test_export_then_import_from_the_command_line(demo, tmp_path, capsys):
    path = tmp_path / "cli.zip"

    assert manage("export_workspace", "cli", str(path)) == 0
    out = capsys.readouterr().out
    assert f"Exporting Cli CS (cli) to {path}" in out
    assert "  accounts/accounts.account: 6 rows" in out and "  audit/workspaces.auditevent:" in out
    assert "(format version 1)" in out and zipfile.is_zipfile(path)

    assert manage("import_workspace", str(path), "--slug", "cli-copy", "--name", "CLI copy") == 0
    out = capsys.readouterr().out
    assert "  accounts/accounts.account: 6 rows" in out
    assert "Note: API tokens and write keys do not travel" in out
    assert "as workspace CLI copy (cli-copy)." in out
    copy = Workspace.objects.get(slug="cli-copy")
    assert copy.name == "CLI copy" and Account.objects.for_workspace(copy).count() == 6

    assert manage("export_workspace", "cli", str(path), "--verbosity", "0") == 1  # exists
    assert "exists; pass --force to replace it" in capsys.readouterr().err
    assert manage("export_workspace", "cli", str(path), "--force", "--verbosity", "0") == 0
    assert "rows" not in capsys.readouterr().out.split("Exported")[0]


@pytest.mark.django_db(transaction=True)  # a command closes the connections when it ends
def test_a_dry_run_checks_everything_and_keeps_nothing(demo, tmp_path, capsys):
    path = tmp_path / "cli.zip"
    manage("export_workspace", "cli", str(path))
    capsys.readouterr()

    assert manage("import_workspace", str(path), "--slug", "cli-copy", "--dry-run") == 0
    assert "Dry run: the archive imports cleanly" in capsys.readouterr().out
    assert not Workspace.objects.filter(slug="cli-copy").exists()


@pytest.mark.django_db(transaction=True)  # a command closes the connections when it ends
def test_refusals_exit_1_with_the_reason(demo, tmp_path, capsys):
    path = tmp_path / "cli.zip"
    manage("export_workspace", "cli", str(path))
    capsys.readouterr()

    assert manage("export_workspace", "no-such", str(tmp_path / "x.zip")) == 1
    assert "No workspace with slug 'no-such'." in capsys.readouterr().err
    assert manage("import_workspace", str(path), "--slug", "cli") == 1
    assert "A workspace with the slug cli exists already" in capsys.readouterr().err
    assert manage("import_workspace", str(tmp_path / "missing.zip"), "--slug", "new") == 1
    assert "No such file" in capsys.readouterr().err

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["manifest.json"])
    manifest["format_version"] = 7
    with zipfile.ZipFile(tmp_path / "newer.zip", "w") as archive:
        for name, data in {**members, "manifest.json": json.dumps(manifest).encode()}.items():
            archive.writestr(name, data)
    assert manage("import_workspace", str(tmp_path / "newer.zip"), "--slug", "new") == 1
    err = capsys.readouterr().err
    assert "format version 7" in err and "reads format version 1" in err
    assert not Workspace.objects.filter(slug="new").exists()


@pytest.mark.django_db(transaction=True)  # a command closes the connections when it ends
def test_wrong_arguments_exit_2(demo, tmp_path, capsys):
    assert manage("import_workspace", str(tmp_path / "cli.zip")) == 2  # no --slug
    assert "--slug" in capsys.readouterr().err
    assert manage("export_workspace", "cli") == 2  # no path
