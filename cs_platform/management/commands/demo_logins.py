import errno
import socket

from django.core.management.base import BaseCommand, CommandError

from cs_platform.demo import sign_in_text
from workspaces.models import Workspace


def browser_url(host, port):
    """The address to open for a server bound to host:port (a wildcard bind is reached on loopback)."""
    host = host.strip("[]")
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def port_is_free(host, port):
    """Whether a server could listen on host:port now (the same bind runserver makes)."""
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror}.") from error
    return True


class Command(BaseCommand):
    help = ("Check that the web server's port is free, then print where to sign in (to a demo workspace: "
            "and as whom) (`make run` runs this just before the server starts).")

    def add_arguments(self, parser):
        parser.add_argument("--workspace", default="demo", help="Demo workspace slug (default demo)")
        parser.add_argument("--host", default="127.0.0.1", help="Address the server will listen on")
        parser.add_argument("--port", type=int, default=8000, help="Port the server will listen on")

    def handle(self, *args, workspace, host, port, **options):
        # A port in use fails here, before anything else is printed, rather than after the sign-in
        # line (runserver would stop with a traceback-like error that is easy to miss).
        if not port_is_free(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use (another server is running?). "
                f"Stop it, or choose another port: make run PORT={port + 1}"
            )
        url = browser_url(host, port)
        if Workspace.objects.filter(slug=workspace).exists():
            self.stdout.write(self.style.SUCCESS(sign_in_text(workspace, url)))
        else:  # a deployment without the demo: only the address
            self.stdout.write(self.style.SUCCESS(f"Open {url}/"))
