"""Role × tenant × endpoint: every page and every API operation, for five personas.

The endpoints are generated (tests/access_endpoints.py: the URL resolver for pages, the OpenAPI
document for the API), so a new one is covered without anyone adding it here; one the generator
cannot classify fails `test_every_endpoint_declares_what_it_does`, saying what to declare.

The personas are workspace A's admin, manager, CSM and viewer, and the admin of workspace B (the
"outsider", who passes every role check in B, so only tenancy stands in the way). The oracle is
the policy (workspaces.policy): for each request, the action the endpoint declares, about the
object the URL names (or the row the body names), decides whether the persona is allowed (2xx/3xx;
a 400 where no valid input is known) or refused (403); a row the persona cannot see is a 404.
Object-level rules are exercised with rows of the persona's own and of someone else's.

Leaks: the outsider gets 404 for every URL naming A's rows, changes nothing of A whatever they
send (A's rows are compared in the database after every request), never reads A's mark in any
answer, and sees exactly the same pages, lists, counts, exports and previews whether workspace A
exists or not (`test_workspace_b_sees_the_same_with_or_without_workspace_a`).

The data are built once for the module; every request runs in a savepoint rolled back after it.
"""

import itertools
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from accounts.models import Account, Contact, LifecycleStage, Tag
from healthscore.models import HealthAlert, Scorecard
from segments.models import Segment
from workspaces.errors import NotAllowed
from workspaces.models import Membership
from workspaces.policy import allows, authorize_role, needs_object
from workspaces.services import issue_token

from .access_checks import Writes, changed_lines, fingerprint, normalized, unsent, why
from .access_endpoints import NOT_FOR_MEMBERS, NOT_IN_THE_MATRIX, all_patterns, api_endpoints, page_endpoints
from .access_samples import API_SAMPLES, PAGE_SAMPLES, QUERIES, body_from_read
from .access_world import MARK_A, MARK_B, OWNERS, build_side, populate

# Each test runs in a savepoint of the module's transaction (the marker also has the test database set up).
pytestmark = pytest.mark.django_db
PERSONAS = ("admin", "manager", "csm", "viewer", "outsider")
ALLOWED, REFUSED, MISSING = "allowed", "refused", "404"
# Query parameters of API lists that name rows: the outsider sends A's, one at a time.
ROW_PARAMETERS = {"owner": Membership, "author": Membership, "account": Account, "stage": LifecycleStage, "tag": Tag,
                  "segment": Segment, "scorecard": Scorecard, "contact": Contact}


@dataclass
class World:
    a: object
    b: object
    members: dict  # persona -> Membership
    pages: dict  # persona -> signed-in Client
    apis: dict  # persona -> APIClient with the member's token
    baseline: str  # fingerprint of workspace A
    endpoints: list
    problems: list
    reads: dict  # URL -> the row there, read by A's admin (bodies of updates)
    answers: dict  # probe label -> what the outsider got (for the comparison with more of A)

    def side_of(self, persona):
        return self.b if persona == "outsider" else self.a


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=fast), \
            transaction.atomic():
        a, b = build_side("acme-cs", MARK_A), build_side("other-cs", MARK_B)
        members = {key: a.members[key] for key in PERSONAS[:4]} | {"outsider": b.members["admin"]}
        pages, apis = {}, {}
        for key, member in members.items():
            pages[key] = Client(raise_request_exception=False)
            pages[key].force_login(member.user)
            session = pages[key].session
            session["workspace_id"] = member.workspace_id
            session.save()
            apis[key] = APIClient(raise_request_exception=False)
            apis[key].credentials(HTTP_AUTHORIZATION=f"Token {issue_token(membership=member, name='matrix')[1]}")
        page_list, page_problems = page_endpoints()
        api_list, api_problems = api_endpoints()
        yield World(a, b, members, pages, apis, fingerprint(a.workspace), page_list + api_list,
                    page_problems + api_problems, {}, {})
        transaction.set_rollback(True)


# --- which rows a request is about -------------------------------------------------------------------
def rows_to_try(side, model, persona, endpoint):
    """The rows of `model` to try: the persona's own and someone else's (csm2's) where rows have an
    owner; where the action names a parameter, each kind (an accounts and a touchpoints import job)."""
    rows = side.rows.get(model) or {"any": model.all_workspaces.filter(workspace=side.workspace).first()}
    if set(rows) & {*OWNERS, "admin", "viewer"}:
        keys = [key for key in (persona if persona != "outsider" else "admin", "csm2") if key in rows]
    else:
        keys = [key for key in rows if key != "default"][:2 if "{" in (endpoint.action or "") else 1]
    return [rows[key] for key in keys]


def related(side, model, row):
    """A row of `model` that belongs with `row` (a contact of the account in the URL)."""
    found = [obj for obj in side.rows.get(model, {}).values() if getattr(obj, "account_id", None) == row.pk]
    return found[0] if found else side.any(model)


# --- the oracle ---------------------------------------------------------------------------------------
def page_expectation(endpoint, member, url, kwargs, data):
    request = RequestFactory().post(url, data) if endpoint.method == "post" else RequestFactory().get(url)
    request.user, request.membership, request.workspace = member.user, member, member.workspace
    view = endpoint.view()
    view.setup(request, **kwargs)
    view.workspace, view.membership = member.workspace, member
    try:
        if endpoint.view.pk_url_kwarg in kwargs:
            view.get_object()
        if endpoint.action is None:
            return ALLOWED
        action = endpoint.action.format_map(view.policy_params())
        obj = view.policy_object() if needs_object(action) else None
    except Http404:
        return MISSING
    return ALLOWED if allows(member, action, obj) else REFUSED


def api_visible(endpoint, member, row):
    """Whether `member` may see `row` of their workspace: a viewset declaring `member_rows` shows another
    member's rows only to those the policy allows (e.g. alerts: one's own, or a manager)."""
    field, action = getattr(endpoint.view, "member_rows", None) or (None, None)
    return field is None or getattr(row, f"{field}_id") == member.pk or allows(member, action)


def api_expectation(endpoint, member, row, policy_object):
    try:
        if endpoint.action is not None:
            authorize_role(member, endpoint.action)  # the role comes first, before any row is looked up
    except NotAllowed:
        return REFUSED
    if endpoint.id_params and not api_visible(endpoint, member, row):
        return MISSING
    if endpoint.action is None:
        return ALLOWED
    obj = (row if endpoint.id_params else policy_object) if needs_object(endpoint.action) else None
    assert obj is not None or not needs_object(endpoint.action), \
        f"{endpoint.label}: {endpoint.action} needs an object: give the sample in access_samples.py its policy object"
    return ALLOWED if allows(member, endpoint.action, obj) else REFUSED


# --- requests -------------------------------------------------------------------------------------------
@dataclass
class Probe:
    endpoint: object
    persona: str
    url: str
    body: object = None
    query: dict = None
    expected: str = ALLOWED
    valid: bool = False  # the body is valid: allowed means < 400
    note: str = ""

    @property
    def label(self):
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else ""
        return f"{self.persona}: {self.endpoint.method.upper()} {self.url}{query} {self.note}".strip()


def send(world, probe):
    """The response, the tables it wrote and whether workspace A changed; rolled back either way."""
    client = (world.apis if probe.endpoint.kind == "api" else world.pages)[probe.persona]
    method = getattr(client, probe.endpoint.method)
    writes = Writes()
    client.cookies.pop("messages", None)  # a message of the previous request would show on this one
    with transaction.atomic():
        with connection.execute_wrapper(writes):
            if probe.endpoint.kind == "api" and probe.endpoint.method != "get":
                response = method(probe.url, probe.body, format="json")
            elif probe.endpoint.method == "get":
                response = method(probe.url, probe.query or {})
            else:
                response = method(probe.url, probe.body or {})
        # What the outsider wrote (in B, by their own right) must have left every row of A as it was.
        changed = bool(writes.tables) and probe.persona == "outsider" and response.status_code < 500 and \
            fingerprint(world.a.workspace) != world.baseline
        transaction.set_rollback(True)
    return response, writes.tables, changed


def value_combinations(endpoint):
    """Every combination of the URL's slug values (each export's type and format)."""
    names = list(endpoint.values)
    return [dict(zip(names, combination, strict=True))
            for combination in itertools.product(*(endpoint.values[name] for name in names))]


def page_probes(world, persona):
    member, side_a = world.members[persona], world.a
    for endpoint in (e for e in world.endpoints if e.kind == "page"):
        for values, row in itertools.product(value_combinations(endpoint), rows_to_try(
                side_a, endpoint.model, persona, endpoint) if endpoint.model else [None]):
            model = endpoint.model
            ids = {name: (row if m is model else related(side_a, m, row)).pk for name, m in endpoint.id_params.items()}
            url = endpoint.url(ids, values)
            sample = PAGE_SAMPLES.get(endpoint.name) if endpoint.method == "post" else None
            side = world.side_of(persona)
            body = sample(side, member, row) if sample else None
            if persona == "outsider":
                expected = MISSING if ids else ALLOWED
            else:
                expected = page_expectation(endpoint, member, url, ids | values,
                                            sample(side, member, row) if sample else {})
            query = QUERIES[endpoint.name](side) if endpoint.method == "get" and endpoint.name in QUERIES else None
            yield Probe(endpoint, persona, url, body=body, query=query, expected=expected, valid=sample is not None,
                        note=f"[{type(row).__name__} {row.pk}]" if row else "")
            if persona == "outsider" and endpoint.method == "get" and not ids:
                # Filters naming A's rows (a page reads those it knows, e.g. the due list's owner).
                query = {name: side_a.any(model).pk for name, model in ROW_PARAMETERS.items()} | {"q": MARK_A}
                yield Probe(endpoint, persona, url, query=query, expected=None)


def read_back(world, endpoint, row, values):
    """The row as the view's own `retrieve` reads it (to the admin), as a body to write back."""
    reader = next(e for e in world.endpoints if e.view is endpoint.view and e.viewset_action == "retrieve")
    url = reader.url({"id": row.pk} if row is not None else {}, values)
    if url not in world.reads:
        world.reads[url] = body_from_read(world.apis["admin"].get(url).json())
    return world.reads[url]


def api_probes(world, persona):
    member, side_a = world.members[persona], world.a
    for endpoint in (e for e in world.endpoints if e.kind == "api"):
        sample = API_SAMPLES.get((endpoint.view.__name__, endpoint.viewset_action))
        rows_of = endpoint.model or (sample[0] if sample else None)
        if endpoint.viewset_action == "bulk_upsert":
            rows_of = endpoint.view.queryset.model
        for values in [{name: value} for name, options in endpoint.values.items() for value in options] or [{}]:
            for row in rows_to_try(side_a, rows_of, persona, endpoint) if rows_of else [None]:
                ids = {"id": row.pk} if "id" in endpoint.id_params else {}
                if "external_id" in endpoint.id_params:
                    ids = {"external_id": row.external_id}
                body, policy_object, valid = None, row if endpoint.viewset_action == "bulk_upsert" else None, True
                if endpoint.viewset_action == "bulk_upsert":
                    body = [read_back(world, endpoint, row, values)]
                elif endpoint.method in ("put", "patch"):
                    body = read_back(world, endpoint, row, values)
                elif endpoint.method == "post":
                    assert sample is not None, (
                        f"{endpoint.label}: add a valid body for ({endpoint.view.__name__!r}, "
                        f"{endpoint.viewset_action!r}) to API_SAMPLES in tests/access_samples.py")
                    body, policy_object = sample[1](side_a, member, row)
                else:
                    valid = False
                query = QUERIES.get((endpoint.view.__name__, endpoint.viewset_action))
                query = query(side_a) if query and endpoint.method == "get" else None
                if persona == "outsider":  # A's rows by id are not there; what the outsider sends is checked
                    expected = MISSING if "id" in ids or ("external_id" in ids and endpoint.method == "get") else None
                else:
                    expected = api_expectation(endpoint, member, row if ids else None, policy_object)
                yield Probe(endpoint, persona, endpoint.url(ids, values), body=body, query=query, expected=expected,
                            valid=valid, note=f"[{type(row).__name__} {row.pk}]" if row else "")
        if persona == "outsider" and endpoint.method == "get" and not endpoint.id_params:
            yield from outsider_query_probes(world, endpoint)


def outsider_query_probes(world, endpoint):
    """A list asked for A's rows by filter: never a row, a count or a choice of A."""
    for name in endpoint.query:
        value = None
        if name in ROW_PARAMETERS:
            value = world.a.any(ROW_PARAMETERS[name]).pk
        elif name in ("q", "search", "name", "product"):
            value = MARK_A
        elif name == "external_id":
            value = world.a.accounts["csm"].external_id
        if value is not None:
            values = {n: o[0] for n, o in endpoint.values.items()}
            yield Probe(endpoint, "outsider", endpoint.url({}, values), query={name: value}, expected=None)


# --- checks ---------------------------------------------------------------------------------------------
def violations_of(world, probes):
    found, count = [], 0
    for probe in probes:
        count += 1
        response, wrote, changed = send(world, probe)
        if compared(probe):
            world.answers[probe.label] = answer(response)
        # Normalized: a CSRF token is 64 random letters and digits, three to a page, so about one
        # run in ten would find a four-letter mark in one by chance; an XLSX is read by its cells.
        status, text = response.status_code, normalized(response).lower()
        other_mark = (MARK_A if probe.persona == "outsider" else MARK_B).lower()
        # A bulk upsert answers a refused row among the rows' errors: all or nothing, a 400.
        refusals = (403, 400) if probe.endpoint.viewset_action == "bulk_upsert" else (403,)
        problems = []
        if status >= 500:
            problems.append("server error")
        elif probe.expected == MISSING and status != 404:
            problems.append("not a 404")
        elif probe.expected == REFUSED and status not in refusals:
            problems.append("not refused with 403")
        elif probe.expected == ALLOWED and (status in (401, 403, 404, 405) or (probe.valid and status >= 400)):
            problems.append("not allowed")
        if other_mark in unsent(text, probe, other_mark):
            problems.append("shows another workspace's rows")
        if changed:
            problems.append("changed workspace A")
        if wrote and probe.expected in (REFUSED, MISSING):
            problems.append(f"wrote to {', '.join(sorted(set(wrote)))}")
        if problems:
            found.append(f"{probe.label}: {', '.join(problems)} (expected {probe.expected}, got {status}: "
                         f"{why(text)!r})")
    return found, count


def test_every_endpoint_declares_what_it_does(world):
    """Every page is on the scoped base and names the model of each id in its URL; every API route is in
    the OpenAPI document, on the API base; every write declares its policy action."""
    assert world.problems == []
    pages = {(e.route, e.method) for e in world.endpoints if e.kind == "page"}
    operations = {(e.route, e.method) for e in world.endpoints if e.kind == "api"}
    assert len(pages) >= 60 and len(operations) >= 90  # the walks really ran


def test_what_the_matrix_leaves_out_is_not_for_members(world):
    """The admin is for staff only (none of the personas is); the tracking API takes a write key only."""
    for persona in PERSONAS:
        response = world.pages[persona].get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), persona
        assert world.apis[persona].post("/v1/batch", {"batch": []}, format="json").status_code == 401, persona


def test_a_csrf_token_that_spells_a_mark_is_not_a_leak():
    """The mark search reads the answer without its CSRF tokens: random letters spell any mark now and then."""
    page = HttpResponse(f'<input name="csrfmiddlewaretoken" value="x1{MARK_B}y2"><p>{MARK_A}</p>')
    assert MARK_B not in normalized(page) and MARK_A in normalized(page)


def test_what_the_matrix_leaves_out_exists():
    names = {name for _route, name, _pattern in all_patterns()}
    routes = {route for route, _name, _pattern in all_patterns()}
    assert set(NOT_IN_THE_MATRIX) <= names
    assert all(any(route.startswith(prefix) for route in routes) for prefix in NOT_FOR_MEMBERS)
    assert {"tracking-batch", "tracking-track"} <= names  # the SDKs' API is where NOT_FOR_MEMBERS says


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages(world, persona):
    probes = list(page_probes(world, persona))
    found, count = violations_of(world, probes)
    assert count >= len([e for e in world.endpoints if e.kind == "page"])
    if persona == "outsider":  # every page that takes an id, asked for A's: GET and POST, all 404s
        assert len([p for p in probes if p.expected == MISSING]) >= 40
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api(world, persona):
    found, count = violations_of(world, api_probes(world, persona))
    assert count >= len([e for e in world.endpoints if e.kind == "api"])
    assert found == [], "\n".join(found)


def compared(probe):
    """The outsider's reads (and previews): an id of A is a 404 either way."""
    return probe.persona == "outsider" and probe.expected != MISSING and (
        probe.endpoint.method == "get" or probe.endpoint.viewset_action in ("preview", "what_if"))


def answer(response):
    return response.status_code, normalized(response)


def test_workspace_b_sees_the_same_with_or_without_workspace_a(world):
    """Counts, totals, exports, filter choices and previews of B's member never reflect A's rows: every
    answer of the outsider is the same after workspace A got as much again of everything."""
    probes = [p for p in (*page_probes(world, "outsider"), *api_probes(world, "outsider")) if compared(p)]
    # What the outsider got in test_pages and test_api, unless this test runs alone.
    with_a = [world.answers.get(probe.label) or answer(send(world, probe)[0]) for probe in probes]
    with transaction.atomic():
        populate(world.a, "2")
        with_more_a = [answer(send(world, probe)[0]) for probe in probes]
        transaction.set_rollback(True)
    differ = [f"{probe.label}: {before[0]} then {after[0]}: {changed_lines(before[1], after[1])}"
              for probe, before, after in zip(probes, with_a, with_more_a, strict=True) if before != after]
    assert len(probes) > 80
    assert differ == [], "\n".join(differ)



def test_another_members_alerts_are_for_managers_only(world):
    """"health.see_any_alerts": through the API as on the alerts page, a CSM or a viewer reads their
    own alerts; another member's are not there for them (a 404, like a row of another workspace)."""
    theirs = world.a.owned(HealthAlert, "csm2")
    for persona in ("csm", "viewer"):
        api = world.apis[persona]
        owners = {row["owner"]["id"] for row in api.get("/api/v1/health/alerts/").json()["results"]}
        assert owners <= {world.members[persona].pk}, persona
        assert api.get(f"/api/v1/health/alerts/{theirs.pk}/").status_code == 404
        outcome = api.post(f"/api/v1/health/alerts/{theirs.pk}/outcome/", {"outcome": "dismissed"})
        assert outcome.status_code == (404 if persona == "csm" else 403)  # a viewer records no outcome at all
    mine = world.a.owned(HealthAlert, "csm")
    assert world.apis["csm"].get(f"/api/v1/health/alerts/{mine.pk}/").status_code == 200
    assert world.apis["manager"].get("/api/v1/health/alerts/").json()["count"] == len(OWNERS)
