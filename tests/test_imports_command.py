"""`manage.py import_data` for scripts."""

import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account

from .imports_helpers import csv_bytes

pytestmark = pytest.mark.django_db


def test_dry_run_then_commit(ws, tmp_path, capsys):
    path = tmp_path / "book.csv"
    path.write_bytes(csv_bytes([["会社名", "売上"], ["さくら", "1,000"], ["うめ", "x"]], encoding="cp932"))
    mapping = json.dumps({"売上": "arr"})
    with pytest.raises(CommandError):
        call_command("import_data", str(path), workspace="acme-cs", object_type="accounts", mapping=mapping, commit=True)
    assert "Row 3, column 売上" in capsys.readouterr().err
    assert not Account.all_workspaces.exists()

    call_command("import_data", str(path), workspace="acme-cs", object_type="accounts", mapping=mapping, commit=True,
                 valid_only=True)
    assert "1 created" in capsys.readouterr().out
    assert Account.all_workspaces.get(workspace=ws).arr == 1000

    call_command("import_data", str(path), workspace="acme-cs", object_type="accounts", mapping=mapping, commit=True,
                 valid_only=True)
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out


def test_unknown_workspace_is_an_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"name\nx\n")
    with pytest.raises(CommandError, match="No workspace"):
        call_command("import_data", str(path), workspace="nope", object_type="accounts")
