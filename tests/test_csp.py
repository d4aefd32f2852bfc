"""Content-Security-Policy: a strict policy on every page, and no page that needs it relaxed.

The policy forbids inline scripts, inline event handlers and style attributes, so an injected
`<img onerror=…>` or `<script>` cannot run even where escaping failed. Here: the header, and every
page's HTML free of what the policy would block. tests/test_csp_browser.py loads the pages in
Chromium and watches for violations.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from imports.models import ImportJob
from segments.services import save_segment

from .factories import AccountFactory

pytestmark = pytest.mark.django_db

INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.S)
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S)
STYLE_ELEMENT = re.compile(r"<style[\s>]")
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def directives(response):
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_send_a_strict_policy(client, login, admin):
    for response in (client.get(reverse("login")), login(admin).get(reverse("accounts:list"))):
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        assert not any("unsafe" in source for sources in policy.values() for source in sources)


def test_the_django_admin_gets_the_same_policy(client, admin):
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]


def blocked_markup(html):
    found = []
    for name, pattern in (("inline handler", INLINE_HANDLER), ("inline script", INLINE_SCRIPT),
                          ("style attribute", STYLE_ATTRIBUTE), ("style element", STYLE_ELEMENT),
                          ("javascript: URL", JS_URL)):
        found += [f"{name}: {match.group(0)[:120]}" for match in pattern.finditer(html)]
    return found


def test_the_scan_finds_what_the_policy_blocks():
    assert blocked_markup('<select name="w" onchange="this.form.submit()">')
    assert blocked_markup("<script>alert(1)</script>")
    assert blocked_markup('<i class="x" style="border-top:3px solid"></i>')
    assert not blocked_markup('<script src="/static/js/app.js" defer></script>'
                              '<script id="c" type="application/json">{"a": 1}</script><p>onchange=1</p>')


def page_routes():
    """Every page route without an id (not the admin, the API or the tracking endpoints)."""
    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), ":".join(filter(None, [namespace, pattern.name]))

    for route, name in walk(get_resolver().url_patterns):
        if "<" in route or route.startswith(("admin/", "api/", "v1/", "i18n/")):
            continue
        yield route, name


@pytest.fixture
def every_page(ws, admin, manager, csm, account):
    segment = save_segment(workspace=ws, actor=manager, name="Large", rules={"op": "and", "conditions": [
        {"field": "arr", "op": "gte", "value": 1000}]})
    job = ImportJob.objects.create(workspace=ws, created_by=admin, object_type="accounts", filename="a.csv",
                                   status="importing", total_rows=10, processed_rows=3)
    AccountFactory(workspace=ws, owner=csm, name="Second KK")
    return [
        reverse("accounts:detail", args=[account.pk]), reverse("accounts:edit", args=[account.pk]),
        reverse("segments:detail", args=[segment.pk]), reverse("segments:edit", args=[segment.pk]),
        reverse("imports:job", args=[job.pk]), reverse("coverage:due") + f"?owner={csm.pk}",
        reverse("health:alerts") + f"?owner={csm.pk}",
    ] + ["/" + route for route, _name in page_routes()]


def test_no_page_carries_markup_the_policy_blocks(login, admin, manager, every_page, outsider):
    # The admin is in two workspaces, so the nav shows the workspace switcher.
    from workspaces.models import Membership, Role

    Membership.all_workspaces.create(workspace=outsider.workspace, user=admin.user, role=Role.VIEWER)
    client = login(admin)
    checked = 0
    for path in every_page:
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.headers.get("Content-Type", ""):
            continue
        assert blocked_markup(response.content.decode()) == [], path
        checked += 1
    assert checked >= 20
    assert 'name="workspace"' in client.get(reverse("home")).content.decode()


def test_the_pages_of_people_not_signed_in_carry_nothing_the_policy_blocks(client, admin, ws, csm):
    from workspaces.services import invite_member

    _invitation, token = invite_member(workspace=ws, email="new@example.com", role="csm", actor=admin)
    join = client.get(reverse("workspaces:join", args=[token]))
    assert join.status_code == 200 and blocked_markup(join.content.decode()) == []
    for _ in range(5):
        client.post(reverse("login"), {"username": "csm", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "csm", "password": "wrong"})
    assert locked.status_code == 429 and blocked_markup(locked.content.decode()) == []
    assert directives(locked)["script-src"] == ["'self'"]
