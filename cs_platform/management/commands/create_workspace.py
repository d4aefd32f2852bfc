import getpass
import os
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from cs_platform.provisioning import create_workspace
from workspaces.models import Role, Workspace
from workspaces.policy import SystemActor
from workspaces.services import create_user_with_membership

PASSWORD_ENV = "WORKSPACE_ADMIN_PASSWORD"
ACTOR = SystemActor("create_workspace")  # who the audit log says added the first admin


class Command(BaseCommand):
    help = ("Create a workspace, with every default, and its first admin: the first login of a fresh "
            f"deployment. The password is asked for, or read from ${PASSWORD_ENV}.")

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Workspace name, e.g. 'Acme CS'")
        parser.add_argument("--slug", required=True, help="Workspace slug, e.g. acme-cs (unique)")
        parser.add_argument("--admin-username", required=True, help="Login of the first admin (a new one)")
        parser.add_argument("--admin-email", required=True, help="E-mail address of the first admin")
        parser.add_argument("--time-zone", default="Asia/Tokyo", help="IANA time zone (default Asia/Tokyo)")
        parser.add_argument("--currency", default="JPY", help="ISO 4217 currency code (default JPY)")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, choices=[code for code, _ in settings.LANGUAGES],
                            help="Language of the names the workspace's defaults are written in "
                                 "(default: LANGUAGE_CODE)")

    def handle(self, *args, name, slug, admin_username, admin_email, time_zone, currency, language, **options):
        # Everything that can be refused is checked before anything is written or a password asked.
        if Workspace.objects.filter(slug=slug).exists():
            raise CommandError(f"A workspace with slug {slug!r} already exists; choose another --slug.")
        User = get_user_model()
        if User.objects.filter(username=admin_username).exists():
            # Never take over (or reset the password of) an existing login: add it from the members page.
            raise CommandError(
                f"A login named {admin_username!r} already exists; choose another --admin-username, "
                "or invite that person from the workspace's members page."
            )
        try:
            validate_email(admin_email)
        except ValidationError as error:
            raise CommandError(f"--admin-email: {admin_email!r} is not an e-mail address.") from error
        workspace_fields = {"name": name, "slug": slug, "time_zone": time_zone, "currency": currency,
                            "language": language}
        try:
            Workspace(**workspace_fields).full_clean()
        except ValidationError as error:
            raise CommandError(_messages(error)) from error
        password = self._password(User(username=admin_username, email=admin_email))

        with transaction.atomic():
            workspace = create_workspace(**workspace_fields)
            create_user_with_membership(
                workspace=workspace, username=admin_username, password=password, role=Role.ADMIN,
                email=admin_email, actor=ACTOR,
            )
        self.stdout.write(self.style.SUCCESS(
            f"Workspace '{workspace.name}' ({workspace.slug}) created; {admin_username} is its admin. "
            "Sign in, then invite the team from the members page."
        ))

    def _password(self, user):
        password = os.environ.get(PASSWORD_ENV)
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError(f"No password: set {PASSWORD_ENV}, or run the command in a terminal.")
            password = getpass.getpass(f"Password for {user.username}: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from error
        return password


def _messages(error):
    return " ".join(f"--{field.replace('_', '-')}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items())
