"""Sending one signed POST to a receiver, refusing addresses inside the platform's own network.

The receiver's host name is resolved once; every address it resolves to must be public (or, where
the setting allows it, loopback), and the connection goes to the address that was checked, with the
host name kept for the Host header and the TLS certificate check. So a name that resolves to a
public address when checked and to 169.254.169.254 a moment later (DNS rebinding) reaches nothing
private. Redirects are not followed: a 3xx answer is a failed delivery.
"""

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_RESPONSE_BYTES = 64 * 1024


class UnsafeURL(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to. `str()` says why."""


def loopback_allowed():
    return bool(getattr(settings, "WEBHOOKS_ALLOW_HTTP_LOOPBACK", False))


def _address(value):
    address = ipaddress.ip_address(value.split("%", 1)[0])
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address


def address_refused(value, *, allow_loopback):
    """Whether a receiver at this address is refused: anything not on the public internet
    (private, loopback, link-local, shared, reserved, multicast), loopback only unless allowed."""
    address = _address(value)
    if address.is_loopback:
        return not allow_loopback
    return not address.is_global or address.is_multicast


def check_url(url, *, allow_loopback=None):
    """(scheme, host, port, path, addresses) of a URL that may be called; UnsafeURL otherwise.
    Resolves the host name (the check at registration and again before every delivery)."""
    allow_loopback = loopback_allowed() if allow_loopback is None else allow_loopback
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("https", "http") or not host:
        raise UnsafeURL(_("Enter an HTTPS URL."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Put no user name or password in the URL; the signature authenticates the platform."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL(_("The URL's port is not a number between 1 and 65535.")) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(_("The host name %(host)s does not resolve.") % {"host": host}) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(_("The host name %(host)s does not resolve.") % {"host": host})
    if any(address_refused(a, allow_loopback=allow_loopback) for a in addresses):
        raise UnsafeURL(_("The URL's host resolves to a private, loopback or link-local address, "
                          "which webhooks may not call."))
    if scheme == "http" and not (allow_loopback and all(_address(a).is_loopback for a in addresses)):
        raise UnsafeURL(_("Enter an HTTPS URL."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, path, addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, body, headers, *, timeout):
    """POST `body` to `url`; the answer's status code. UnsafeURL for a refused URL; OSError (and
    http.client's errors) when the receiver cannot be reached or answers nonsense."""
    scheme, host, port, path, addresses = check_url(url)
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=addresses[0], timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)  # the answer's body is not kept: only whether it was a 2xx
        return response.status
    finally:
        connection.close()
