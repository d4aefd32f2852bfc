"""A fresh deployment's first steps: `create_workspace` makes the first admin; `make run`'s last step
(`serve_demo`) stops at once if the port is taken, or says where to sign in once it listens."""

import io
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from coverage.models import CadencePolicy, TouchModel
from cs_platform.demo import DEMO_PASSWORD, seed_demo
from cs_platform.management.commands.serve_demo import Command as ServeDemo
from healthscore.models import Scorecard
from workspaces.models import AuditEvent, Membership, Role, Workspace

pytestmark = pytest.mark.django_db

ADMIN_PASSWORD = "first-admin-pass-4821"


def create(*extra):
    call_command("create_workspace", "--name", "Kumo CS", "--slug", "kumo", "--admin-username", "kumo-admin",
                 "--admin-email", "admin@kumo.example.com", *extra)


@pytest.fixture
def admin_password(monkeypatch):
    monkeypatch.setenv("WORKSPACE_ADMIN_PASSWORD", ADMIN_PASSWORD)


def test_create_workspace_makes_a_provisioned_workspace_whose_admin_signs_in(admin_password, client, capsys):
    create("--time-zone", "Europe/Berlin", "--currency", "EUR", "--language", "en")
    assert "kumo-admin is its admin" in capsys.readouterr().out

    workspace = Workspace.objects.get(slug="kumo")
    assert (workspace.name, workspace.time_zone, workspace.currency, workspace.language) == (
        "Kumo CS", "Europe/Berlin", "EUR", "en")
    assert TouchModel.objects.for_workspace(workspace).count() == 1  # every capability's defaults
    assert CadencePolicy.objects.for_workspace(workspace).exists()
    assert Scorecard.objects.for_workspace(workspace).exists()
    membership = Membership.objects.for_workspace(workspace).get()
    assert (membership.user.username, membership.user.email, membership.role) == (
        "kumo-admin", "admin@kumo.example.com", Role.ADMIN)
    event = AuditEvent.objects.for_workspace(workspace).get(action="member.added")
    assert event.system_actor == "create_workspace"

    signed_in = client.post(reverse("login"), {"username": "kumo-admin", "password": ADMIN_PASSWORD})
    assert signed_in.status_code == 302 and signed_in.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_a_taken_slug_is_refused_and_nothing_is_written(admin_password):
    create()
    with pytest.raises(CommandError, match="A workspace with slug 'kumo' already exists"):
        call_command("create_workspace", "--name", "Another", "--slug", "kumo", "--admin-username", "someone",
                     "--admin-email", "someone@example.com")
    assert Workspace.objects.filter(slug="kumo").count() == 1
    assert not Membership.all_workspaces.filter(user__username="someone").exists()


def test_an_existing_login_is_not_taken_over(admin_password, ws, admin):
    with pytest.raises(CommandError, match="A login named 'admin' already exists"):
        call_command("create_workspace", "--name", "Kumo CS", "--slug", "kumo", "--admin-username", "admin",
                     "--admin-email", "admin@kumo.example.com")
    assert not Workspace.objects.filter(slug="kumo").exists()


def test_bad_settings_and_weak_or_missing_passwords_are_refused_before_writing(monkeypatch):
    monkeypatch.setenv("WORKSPACE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    with pytest.raises(CommandError, match="--time-zone"):
        create("--time-zone", "Mars/Olympus")
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("create_workspace", "--name", "K", "--slug", "kumo", "--admin-username", "kumo-admin",
                     "--admin-email", "nope")
    monkeypatch.setenv("WORKSPACE_ADMIN_PASSWORD", "kumo")
    with pytest.raises(CommandError, match="Password refused"):
        create()
    monkeypatch.delenv("WORKSPACE_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="WORKSPACE_ADMIN_PASSWORD"):
        create()  # no terminal to ask in
    assert not Workspace.objects.filter(slug="kumo").exists()


def test_serve_demo_prints_where_to_sign_in_as_whom_once_listening():
    seed_demo(slug="demo", accounts=10, seed=1)
    out = io.StringIO()
    server = ServeDemo(stdout=out)
    server.addr, server._raw_ipv6, server.protocol, server.workspace = "127.0.0.1", False, "http", "demo"
    server.on_bind(8141)  # what runserver calls once its socket listens
    text = out.getvalue()
    assert text.index("Starting development server at http://127.0.0.1:8141/") < text.index(
        f"Open http://127.0.0.1:8141/ and sign in as demo-manager1 / {DEMO_PASSWORD} (manager) "
        f"or demo-csm1 / {DEMO_PASSWORD} (CSM).")
    assert text.rstrip().splitlines()[-1].startswith("Other logins, same password: demo-admin")


def test_serve_demo_names_the_address_alone_without_the_demo():
    out = io.StringIO()
    server = ServeDemo(stdout=out)
    server.addr, server._raw_ipv6, server.protocol, server.workspace = "0.0.0.0", False, "http", "demo"
    server.on_bind(8142)
    assert out.getvalue().rstrip().endswith("Open http://127.0.0.1:8142/")


def test_serve_demo_stops_when_the_port_is_taken():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(CommandError, match=f"Port {port} on 127.0.0.1 is already in use.*PORT={port + 1}"):
            call_command("serve_demo", "--noreload", f"127.0.0.1:{port}")
