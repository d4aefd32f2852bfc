"""Every page is built on the scoped base, and no page answers with another workspace's object.

The walk covers every URL the project serves, so a new page that skips the base, or that looks an
id up outside the workspace, fails here rather than in production.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Account, Contact
from coverage.models import CadencePolicy
from healthscore.models import HealthAlert, Scorecard
from imports.models import ImportJob
from segments.services import save_segment
from tests.factories import AccountFactory, ContactFactory
from workspaces.api.viewsets import WorkspaceAPIMixin
from workspaces.models import ApiToken, Invitation, Membership
from workspaces.pages import WorkspaceMixin
from workspaces.services import invite_member, issue_token

# Views that are deliberately not on the page base, and why.
NOT_ON_THE_BASE = {
    "login": "signing in comes before any workspace",
    "logout": "signing out needs no workspace",
    "workspaces:switch": "chooses among the user's own memberships (never one they are not in)",
    "workspaces:join": "an invitation link: opened by someone who is not a member yet (or not signed in); "
                       "the token names the workspace and works once",
    "set_language": "Django's language switch: a cookie, no data",
    "api-root": "the API's table of contents: links, no data",
    "api-schema": "the OpenAPI document: the shape of the API, no data",
    "api-docs": "the interactive API documentation: static pages",
    "api-redoc": "the API reference: static pages",
}
TRACKING = re.compile(r"^tracking-")  # the SDKs' API: the write key names the workspace (usage.tracking)


def all_patterns(patterns=None, prefix="", namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from all_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join(filter(None, [namespace, pattern.name]))
            yield prefix + str(pattern.pattern), name, pattern


def page_views():
    """(route, name, view class) of every page: not the admin, the API or the tracking endpoints."""
    for route, name, pattern in all_patterns():
        cls = getattr(pattern.callback, "view_class", None)
        if route.startswith(("admin/", "api/v1/")) or TRACKING.match(name) or name in NOT_ON_THE_BASE:
            continue
        yield route, name, cls


def test_every_page_view_is_built_on_the_scoped_base():
    off_base = [f"{name} ({route})" for route, name, cls in page_views()
                if cls is None or not issubclass(cls, WorkspaceMixin)]
    assert off_base == []


def test_every_api_view_sets_the_workspace_in_its_base():
    off_base = []
    for route, name, pattern in all_patterns():
        cls = getattr(pattern.callback, "cls", None)
        if route.startswith("api/v1/") and name not in NOT_ON_THE_BASE and not issubclass(cls, WorkspaceAPIMixin):
            off_base.append(f"{name} ({route})")
    assert off_base == []


def test_the_allow_lists_name_only_what_exists():
    names = {name for _route, name, _pattern in all_patterns()}
    assert set(NOT_ON_THE_BASE) <= names
    assert any(TRACKING.match(name) for name in names)


INT_KWARG = re.compile(r"<int:(\w+)>")
MODELS_BY_NAME = {"account": Account, "contact": Contact}


def model_of(kwarg, view_class):
    """The model a URL's id refers to: the view's `model` for `pk`, else the name (`account_pk`)."""
    if kwarg == "pk":
        return view_class.model
    return MODELS_BY_NAME[kwarg.removesuffix("_pk")]


def test_every_page_with_an_id_declares_the_model_it_looks_up():
    missing = [name for route, name, cls in page_views()
               if "<int:pk>" in route and getattr(cls, "model", None) is None]
    assert missing == []


@pytest.fixture
def b_objects(other_ws, outsider, other_account):
    """One object of every model a page looks up by id, all in workspace B."""
    token, _key = issue_token(membership=outsider, name="b")
    invitation, _token = invite_member(workspace=other_ws, email="b@example.com", role="csm", actor=outsider)
    contact = ContactFactory(account=other_account)
    segment = save_segment(workspace=other_ws, actor=outsider, name="B segment", rules={})
    job = ImportJob.all_workspaces.create(workspace=other_ws, created_by=outsider, object_type="accounts",
                                          filename="b.csv")
    alert = HealthAlert.all_workspaces.create(
        workspace=other_ws, account=other_account, kind="drop", opened_on=other_ws.today(),
        last_seen_on=other_ws.today(), week=other_ws.today())
    return {
        Account: other_account, Contact: contact, Membership: outsider, ApiToken: token, Invitation: invitation,
        type(segment): segment, ImportJob: job, HealthAlert: alert,
        CadencePolicy: CadencePolicy.objects.for_workspace(other_ws).first(),
        Scorecard: Scorecard.objects.for_workspace(other_ws).get(is_default=True),
    }


@pytest.mark.django_db
def test_every_page_with_an_id_is_a_404_for_another_workspaces_object(login, admin, ws, b_objects):
    """A's admin (who passes every role check) asks every page for B's objects: always a 404."""
    AccountFactory(workspace=ws, name="A's own")  # A is not empty: ids exist on both sides
    client = login(admin)
    probed = []
    for route, name, cls in page_views():
        kwargs = INT_KWARG.findall(route)
        if not kwargs:
            continue
        path = "/" + route
        for kwarg in kwargs:
            obj = b_objects[model_of(kwarg, cls)]
            path = path.replace(f"<int:{kwarg}>", str(obj.pk))
        for method in ("get", "post"):
            if not hasattr(cls, method):
                continue
            response = getattr(client, method)(path)
            assert response.status_code == 404, (name, method, path, response.status_code)
            probed.append((name, method))
    assert len(probed) >= 20  # the walk really ran over the id pages
