"""Every operation of the OpenAPI schema, fuzzed against the live test server with schemathesis.

The schema is the one the app serves (drf-spectacular), generated here, so a new endpoint is fuzzed
as soon as it is routed. Each operation gets a bounded, derandomized run (Hypothesis with a fixed
derivation of its examples), authenticated with a real API token of the fuzzed workspace's admin —
the role that may call every operation, so the writes are really exercised. The workspace has a
small seeded book (accounts, contacts, touches, contracts, usage, scores, alerts, coverage); path
ids are mostly pointed at its rows so that details, updates and deletes find something.

Checks (every response):
- not_a_server_error: no 5xx, whatever is sent.
- response_schema_conformance: the body matches the documented schema of its status code.
- content_type_conformance: the Content-Type is the documented one.
- status_code_conformance: only documented status codes (the error answers are documented too).
Left out: positive_data_acceptance and negative_data_rejection (the schema cannot say what the
services refuse — a duplicate name, a role rule — nor every lenient parse DRF does, e.g. "12" for 12),
ignored_auth (who may call what, and that a missing or foreign token is refused, is
tests/test_access_matrix.py's and tests/test_api_tenancy.py's), max_response_time (not a figure for a
shared CI machine), and the stateful checks (a run per operation, not a scenario).

A second workspace with its own rows is left untouched by all of it: each operation ends by
comparing its rows with what they were.
"""

import hashlib
import json
import os
import re

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cs_platform.demo import seed_demo
from cs_platform.tasks import recompute_workspace
from workspaces.models import AuditEvent, Membership, Role
from workspaces.services import issue_token

from .factories import AccountFactory, ContactFactory, ContractFactory, MembershipFactory, TouchpointFactory

METHODS = {"get", "put", "post", "patch", "delete"}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
MAX_EXAMPLES = 15  # per operation, valid and invalid requests: ~100 operations in about two minutes


def _openapi():
    generator = SchemaGenerator()
    document = generator.get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


RAW_SCHEMA = _openapi()
# Schemathesis's coverage phase (every boundary and every missing or wrong-typed value of each field)
# sends hundreds of requests per write operation: a quarter of an hour for the whole API. CI runs the
# bounded fuzzing phase; API_FUZZ_DEEP=1 adds the coverage phase, for a change to the API's shapes.
DEEP = os.environ.get("API_FUZZ_DEEP") == "1"
schema = schemathesis.openapi.from_dict(
    RAW_SCHEMA, config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": DEEP}}})
)


def test_every_operation_of_the_schema_is_fuzzed():
    documented = {(method.upper(), path) for path, item in RAW_SCHEMA["paths"].items() for method in item
                  if method in METHODS}
    fuzzed = {(result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()}
    assert fuzzed == documented
    assert len(documented) >= 99  # the API as of this test; more is fine, fewer means a route was lost


# --- The fuzzed workspace and the one that must not change ---------------------------------------
def _other_workspace_digest(workspace):
    """Every row of the other workspace that the API could reach, in one hash."""
    from accounts.models import Account, Contact, Contract, Touchpoint
    from segments.models import Segment

    rows = []
    for model in (Account, Contact, Contract, Touchpoint, Segment):
        rows.append(sorted(
            [str(v) for v in row] for row in model.all_workspaces.filter(workspace=workspace).values_list()
        ))
    rows.append(AuditEvent.all_workspaces.filter(workspace=workspace).count())
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


@pytest.fixture
def fuzz_world(transactional_db):
    demo = seed_demo(slug="fuzz", accounts=5, seed=11)
    workspace = demo.workspace
    recompute_workspace.apply(args=[workspace.pk, workspace.today().isoformat(), None]).get()
    admin = Membership.objects.for_workspace(workspace).get(role=Role.ADMIN)
    _, key = issue_token(membership=admin, name="fuzz")

    other = MembershipFactory(workspace__slug="fuzz-other", workspace__name="Fuzz Other", role=Role.ADMIN)
    other_account = AccountFactory(workspace=other.workspace, owner=other, external_id="SF-100000")
    ContactFactory(account=other_account, external_id="SF-100000")
    TouchpointFactory(account=other_account, external_id="SF-100000")
    ContractFactory(account=other_account, external_id="SF-100000")
    before = _other_workspace_digest(other.workspace)
    yield {"workspace": workspace, "key": key}
    assert _other_workspace_digest(other.workspace) == before, "the fuzzer's calls changed another workspace"


def _known_ids(workspace):
    """Ids of the fuzzed workspace's rows, per route prefix, from the viewsets' own querysets."""
    from cs_platform.api_urls import router

    known = {}
    for prefix, viewset, _basename in router.registry:
        queryset = getattr(viewset, "queryset", None)
        if queryset is None or not hasattr(queryset.model, "workspace"):
            continue
        known[prefix] = sorted(queryset.model.all_workspaces.filter(workspace=workspace).values_list("pk", flat=True)[:20])
    known["external_id"] = ["SF-100000", "SF-100001", "SF-100002"]
    return known


def _aim(case, known):
    """Point most generated path ids at real rows (a third stay as generated: mostly 404s)."""
    prefix = re.match(r"^/api/v1/(.+?)/(?:\{|by-external-id|[a-z-]+/\{)", case.operation.path)
    params = case.path_parameters or {}
    for name, value in list(params.items()):
        if name == "external_id":
            choices = known["external_id"]
        elif name == "id" and prefix:
            choices = known.get(prefix.group(1).rstrip("/"), [])
        else:
            continue
        if not choices:
            continue
        number = int(hashlib.sha256(repr(value).encode()).hexdigest(), 16)
        if number % 3:
            params[name] = choices[number % len(choices)]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: a failure is reported as found, so that a broken build stays a bounded run.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_operation(case, fuzz_world, live_server):
    _aim(case, _known_ids(fuzz_world["workspace"]))
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Token {fuzz_world['key']}"},
        checks=CHECKS,
    )
