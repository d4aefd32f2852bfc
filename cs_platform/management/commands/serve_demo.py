import errno
import os
import socket

from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.utils import autoreload

from cs_platform.demo import sign_in_text
from workspaces.models import Workspace

# The project's `runserver` (whitenoise's, over staticfiles'), whatever app provides it.
Runserver = type(load_command_class(get_commands()["runserver"], "runserver"))


def browser_url(host, port):
    """The address to open for a server bound to host:port (a wildcard bind is reached on loopback)."""
    if host in ("0", "0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def port_is_free(host, port, ipv6=False):
    """Whether a server could listen on host:port now (the bind runserver makes, SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}.") from error
    return True


class Command(Runserver):
    help = ("runserver for `make run`: stops with a clear message if the port is taken, and once the server "
            "listens, prints where to sign in to the demo workspace and as whom, as its last lines.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--workspace", default="demo", help="Demo workspace slug (default demo)")

    def handle(self, *args, workspace="demo", **options):
        self.workspace = workspace
        return super().handle(*args, **options)

    def run(self, **options):
        # Checked once, in the process that watches for changes (not in each reloaded server), and
        # before anything is served: runserver's own message is terse and easy to miss.
        if os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) != "true":
            host = self.addr if self.addr != "0" else "0.0.0.0"
            if not port_is_free(host, int(self.port), ipv6=self._raw_ipv6 or self.use_ipv6):
                raise CommandError(
                    f"Port {self.port} on {host} is already in use (another server is running?). "
                    f"Stop it, or choose another port: make run PORT={int(self.port) + 1}"
                )
        return super().run(**options)

    def on_bind(self, server_port):
        super().on_bind(server_port)
        url = browser_url(self.addr, server_port)
        if Workspace.objects.filter(slug=self.workspace).exists():
            self.stdout.write(self.style.SUCCESS(sign_in_text(self.workspace, url)))
        else:  # a database without the demo: only the address
            self.stdout.write(self.style.SUCCESS(f"Open {url}/"))
