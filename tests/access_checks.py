"""What the access matrix checks on each answer (tests/test_access_matrix.py).

- `Writes`: the tables a request wrote to, caught on the database connection (a refused request,
  or one naming another workspace's row, writes nothing);
- `fingerprint`: every row of a workspace as stored (what another workspace's member wrote in
  their own workspace left this one as it was);
- `unsent`: an answer without what the request itself sent, for the search of another workspace's mark;
- `normalized`: an answer without what changes from one request to the next (CSRF token, nonce,
  times; an XLSX by its cells), for the comparison with more of workspace A.
"""

import difflib
import hashlib
import io
import json
import re

import openpyxl
from django.apps import apps

from workspaces.models import ApiToken, WorkspaceOwned


def fingerprint(workspace):
    """Every row of the workspace, as stored: a change anywhere changes it."""
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if issubclass(model, WorkspaceOwned):
            rows = model.all_workspaces.filter(workspace=workspace).order_by("pk").values_list()
        elif model is ApiToken:  # last_used_at moves with every call of the personas' own tokens
            rows = model.objects.filter(membership__workspace=workspace).order_by("pk").values_list(
                "pk", "name", "key_hash", "revoked_at")
        else:
            continue
        digest.update(f"{model._meta.label}{list(rows)!r}".encode())
    return digest.hexdigest()


WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# What any request may write: its session (messages), the last use of the caller's own token.
BOOKKEEPING = re.compile(r'^\s*(?:\w+\s+)+"?django_session"?|^\s*UPDATE\s+"?workspaces_apitoken"?\s+SET\s+"?last_used_at"?\s*=',
                         re.IGNORECASE)


class Writes:
    """The tables a request wrote to (statements caught on the database connection)."""

    def __init__(self):
        self.tables = []

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match and not BOOKKEEPING.match(sql):
            self.tables.append(match.group(1))
        return execute(sql, params, many, context)


def unsent(text, probe, mark):
    """The response without what the request itself sent, where it is echoed whole: a search box's
    value, an external ID named in an error, a link's query. A row's name that merely contains the
    text searched for is still there."""
    sent = f"{probe.url} {probe.query!r} {json.dumps(probe.body, default=str)}".lower()
    for echoed in sorted(set(re.findall(rf"[\w.@-]*{mark}[\w.@-]*", sent)), key=len, reverse=True):
        text = re.sub(rf"(?<=[\"'=]){re.escape(echoed)}(?=[\"'&])", "", text)
    return text


def why(text):
    """The errors a form page shows, or the start of the answer."""
    errors = re.findall(r'class="(?:errorlist|message message-error)[^"]*"[^>]*>(.*?)</(?:ul|div)>', text, re.S)
    return errors[:3] if errors else text[:160]


VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken"'),
    (re.compile(r'nonce="[^"]+"'), 'nonce=""'),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "<time>"),
]


def normalized(response):
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        return repr([[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets])
    text = response.content.decode(errors="replace")
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def changed_lines(before, after):
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")][:6]
