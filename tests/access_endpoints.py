"""Every endpoint of the project, as the access matrix sees it: generated, never listed by hand.

Pages come from the URL resolver, API operations from the OpenAPI document. Each becomes one
`Endpoint` per method: its route, its view, the model of the object its URL names, and the policy
action the view declares for that method (workspaces.pages.WorkspaceMixin.declared_action,
workspaces.api.viewsets.WorkspaceAPIMixin.declared_action). Whatever cannot be classified that way
is returned as a message telling the developer what to declare; the matrix fails on it.
"""

import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Account, Contact
from workspaces.api.viewsets import WorkspaceAPIMixin
from workspaces.pages import UndeclaredAction, WorkspaceMixin

# Routes that are neither pages on the scoped base nor operations of the OpenAPI document, and why.
NOT_IN_THE_MATRIX = {
    "login": "signing in comes before any workspace",
    "logout": "signing out needs no workspace",
    "workspaces:switch": "chooses among the user's own memberships (never one they are not in)",
    "workspaces:join": "an invitation link: opened by someone who is not a member yet (or not signed in); "
                       "the token names the workspace and works once (tests/test_invitations.py)",
    "set_language": "Django's language switch: a cookie, no data",
    "workspaces:language": "a person's own page language (and the cookie): no workspace's data",
    "workspaces:profile": "a person's own settings, the same in every workspace: no workspace's data",
    "api-root": "the API's table of contents: links, no data",
    "api-schema": "the OpenAPI document: the shape of the API, no data",
    "api-docs": "the interactive API documentation: static pages",
    "api-redoc": "the API reference: static pages",
    "favicon": "a redirect to the site's icon, a static file: no data, asked for before any sign-in",
}
# Route prefixes that are not for members, and why.
NOT_FOR_MEMBERS = {
    "admin/": "the Django admin: staff only, scoped by workspaces.admin.WorkspaceScopedAdmin (tests/test_admin.py)",
    "v1/": "the tracking API of the SDKs: a workspace's write key authenticates, not a membership "
           "(usage.tracking; tests/test_ingest_*.py)",
}
API_PREFIX = "api/v1/"
WRITE_METHODS = ("post", "put", "patch", "delete")
PAGE_METHODS = ("get", *WRITE_METHODS)
# Models a page's URL names by kwarg, besides the view's own `model` under its `pk_url_kwarg`.
KWARG_MODELS = {"account_pk": Account, "contact_pk": Contact}
# Values for slug kwargs of page URLs.
SLUG_VALUES = {"object_type": ["accounts", "contacts", "touchpoints", "contracts"], "file_format": ["csv", "xlsx"],
               "table": ["cohorts", "tiers", "csms"]}
INT_KWARG = re.compile(r"<int:(\w+)>")
SLUG_KWARG = re.compile(r"<(?:slug|str):(\w+)>")


@dataclass
class Endpoint:
    kind: str  # "page" or "api"
    name: str  # the URL name, or the OpenAPI operationId
    route: str  # "/accounts/<int:pk>/edit/" or "/api/v1/accounts/{id}/"
    method: str  # lower case
    view: type
    action: str | None  # the declared policy action (a template such as "imports.{object_type}")
    id_params: dict = field(default_factory=dict)  # URL parameter -> model whose id it takes
    values: dict = field(default_factory=dict)  # URL parameter -> the values to try (slugs, enums, "current")
    viewset_action: str | None = None  # the DRF action (API only)
    query: dict = field(default_factory=dict)  # API: query parameter -> schema type

    @property
    def label(self):
        return f"{self.method.upper()} {self.route} ({self.name})"

    @property
    def model(self):
        """The model of the object the URL names (the first id parameter), if any."""
        return next(iter(self.id_params.values()), None)

    def url(self, ids, values):
        """The concrete path for `ids` (parameter -> id) and `values` (parameter -> value)."""
        path = self.route
        for name, value in {**ids, **values}.items():
            path = re.sub(rf"<(?:int|slug|str):{name}>|\{{{name}\}}", str(value), path)
        return path


def all_patterns(patterns=None, prefix="", namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from all_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), ":".join(filter(None, [namespace, pattern.name])), pattern


def excluded(route, name):
    return name in NOT_IN_THE_MATRIX or any(route.startswith(prefix) for prefix in NOT_FOR_MEMBERS)


def page_endpoints():
    """(endpoints, problems) of every page: each method its view handles."""
    endpoints, problems = [], []
    for route, name, pattern in all_patterns():
        if route.startswith(API_PREFIX) or excluded(route, name):
            continue
        view = getattr(pattern.callback, "view_class", None)
        if view is None or not issubclass(view, WorkspaceMixin):
            problems.append(f"{name} ({route}): build the page on workspaces.pages.WorkspaceMixin, or list it "
                            f"in NOT_IN_THE_MATRIX of tests/access_endpoints.py with the reason")
            continue
        id_params = {}
        for kwarg in INT_KWARG.findall(route):
            model = view.model if kwarg == view.pk_url_kwarg else KWARG_MODELS.get(kwarg)
            if model is None:
                problems.append(f"{name} ({route}): the test cannot tell the model of <{kwarg}>: set `model` on "
                                f"{view.__name__} (for {view.pk_url_kwarg}) or add {kwarg} to KWARG_MODELS")
            id_params[kwarg] = model
        values = {}
        for kwarg in SLUG_KWARG.findall(route):
            if kwarg not in SLUG_VALUES:
                problems.append(f"{name} ({route}): add example values of <{kwarg}> to SLUG_VALUES")
            values[kwarg] = SLUG_VALUES.get(kwarg, [])
        for method in PAGE_METHODS:
            if not hasattr(view, method):
                continue
            try:
                action = view.declared_action(method)
            except UndeclaredAction as exc:
                problems.append(str(exc))
                continue
            endpoints.append(Endpoint("page", name, "/" + route, method, view, action, id_params, values))
    return endpoints, problems


def openapi_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("get", *WRITE_METHODS):
                yield path, method, operation


def api_endpoints():
    """(endpoints, problems) of every operation of the OpenAPI document, and of API routes it lacks."""
    endpoints, problems, documented = [], [], set()
    for path, method, operation in openapi_operations():
        parameters = operation.get("parameters", [])
        values, id_params, sample = {}, {}, path
        for parameter in (p for p in parameters if p["in"] == "path"):
            name, schema = parameter["name"], parameter["schema"]
            if "enum" in schema:
                values[name] = schema["enum"]
            elif schema.get("pattern", "").startswith("^") and schema["pattern"].endswith("$"):
                values[name] = [schema["pattern"][1:-1]]
            sample = sample.replace(f"{{{name}}}", str(values[name][0]) if name in values else "1")
        match = resolve(sample)
        view = getattr(match.func, "cls", None)
        documented.add(match.route.replace("^", ""))
        if view is None or not issubclass(view, WorkspaceAPIMixin):
            problems.append(f"{method.upper()} {path}: build the view on workspaces.api.viewsets.WorkspaceAPIMixin")
            continue
        viewset_action = (getattr(match.func, "actions", None) or {}).get(method)
        model = getattr(getattr(view, "queryset", None), "model", None)
        for parameter in (p for p in parameters if p["in"] == "path" and p["name"] not in values):
            if parameter["name"] == "id" and model is not None:
                id_params["id"] = model
            elif parameter["name"] == "external_id" and model is not None:
                id_params["external_id"] = model
            else:
                problems.append(f"{method.upper()} {path}: the test cannot tell what {{{parameter['name']}}} "
                                f"names: give the viewset a `queryset`, or the parameter an enum or pattern")
        try:
            action = view.declared_action(viewset_action, method)
        except UndeclaredAction as exc:
            problems.append(str(exc))
            continue
        query = {p["name"]: p["schema"] for p in parameters if p["in"] == "query"}
        endpoints.append(Endpoint("api", operation["operationId"], path, method, view, action, id_params, values,
                                  viewset_action=viewset_action, query=query))
    for route, name, _pattern in all_patterns():
        if route.startswith(API_PREFIX) and not excluded(route, name) and "(?P<format>" not in route \
                and route.replace("^", "") not in documented:
            problems.append(f"{name} ({route}): an API route the OpenAPI document does not list; document it "
                            f"(the matrix walks the document) or list it in NOT_IN_THE_MATRIX with the reason")
    return endpoints, problems
