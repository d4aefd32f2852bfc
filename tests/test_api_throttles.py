"""REST API rate limits: per token for callers who authenticated, per client address for those who did
not (or whose token was wrong). Over the limit: 429, Retry-After and a JSON body.

Throttles count in the cache (local memory embedded, Redis with REDIS_URL), which outlives a test: the
suite runs without them (conftest.py) and each test here sets its own rates and uses its own addresses.
"""

import secrets

import pytest
from django.test import Client
from rest_framework.test import APIClient

from workspaces.services import issue_token

from .fault_helpers import free_port

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
ACCOUNTS = "/api/v1/accounts/"


@pytest.fixture
def rates(settings):
    def _set(**rates):
        settings.API_THROTTLE_RATES = {"token": None, "anon": None, "failed_auth": None, **rates}

    return _set


def an_address():
    """A client address no other test (and no earlier run sharing the Redis cache) has used."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def with_token(key, address=None):
    api = APIClient(REMOTE_ADDR=address or an_address())
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def assert_throttled(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("application/json")
    assert "throttled" in response.json()["detail"]


def test_three_hundred_rapid_calls_are_not_all_answered(api_for, csm, rates):
    rates(token="100/minute")
    api = api_for(csm)
    codes = [api.get(ME).status_code for _ in range(300)]
    assert codes[:100] == [200] * 100
    assert set(codes[100:]) == {429}
    assert_throttled(api.get(ME))


def test_the_limit_is_per_token(api_for, csm, csm2, rates):
    rates(token="3/minute")
    first, second, colleague = api_for(csm), api_for(csm), api_for(csm2)
    assert [first.get(ACCOUNTS).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get(ACCOUNTS).status_code == 200  # the same member's other integration
    assert colleague.get(ACCOUNTS).status_code == 200


def test_signed_in_pages_calling_the_api_are_limited_per_user(client, login, csm, rates):
    rates(token="2/minute")
    session = login(csm)
    assert [session.get(ME).status_code for _ in range(3)] == [200, 200, 429]


def test_anonymous_callers_are_limited_per_address(rates):
    rates(anon="3/minute")
    address = an_address()
    anonymous = APIClient(REMOTE_ADDR=address)
    # Turned away (no credentials) and still counted: the throttle comes before the permission check.
    assert [anonymous.get(ACCOUNTS).status_code for _ in range(3)] == [401] * 3
    assert_throttled(anonymous.get(ACCOUNTS))
    schema = anonymous.get("/api/schema/")  # public, and not free to compute
    assert schema.status_code == 429 and int(schema["Retry-After"]) >= 1
    assert APIClient(REMOTE_ADDR=an_address()).get(ACCOUNTS).status_code == 401


def test_wrong_tokens_are_limited_per_address_before_any_lookup(csm, rates):
    rates(failed_auth="5/minute")
    _, good_key = issue_token(membership=csm, name="valid")
    address = an_address()
    codes = [with_token(f"csp_guess{n}", address).get(ACCOUNTS).status_code for n in range(5)]
    assert codes == [401] * 5
    assert_throttled(with_token("csp_guess-again", address).get(ACCOUNTS))
    # From that address even a valid token waits: guessing must not be told when it hit.
    assert with_token(good_key, address).get(ACCOUNTS).status_code == 429
    assert with_token(good_key).get(ACCOUNTS).status_code == 200  # from anywhere else it works


def test_a_forwarded_address_counts_only_behind_a_configured_proxy(rates, settings):
    rates(anon="2/minute")
    settings.NUM_PROXIES = 0
    direct = an_address()
    for n in range(2):
        APIClient(REMOTE_ADDR=direct).get(ACCOUNTS, HTTP_X_FORWARDED_FOR=f"10.9.0.{n}")
    assert APIClient(REMOTE_ADDR=direct).get(ACCOUNTS, HTTP_X_FORWARDED_FOR="10.9.0.9").status_code == 429
    settings.NUM_PROXIES = 1
    proxy = an_address()
    for _ in range(2):
        APIClient(REMOTE_ADDR=proxy).get(ACCOUNTS, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {direct}")
    assert APIClient(REMOTE_ADDR=proxy).get(ACCOUNTS, HTTP_X_FORWARDED_FOR="1.2.3.4").status_code == 401


def test_pages_are_not_api_calls(login, csm, rates):
    rates(token="1/minute", anon="1/minute")
    session = login(csm)
    assert [session.get("/accounts/").status_code for _ in range(3)] == [200] * 3
    assert [Client().get("/login/").status_code for _ in range(3)] == [200] * 3


@pytest.fixture
def unreachable_cache(settings):
    """The cache is a Redis that does not answer (nothing listens on its port), as when Redis restarts."""
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }}


def test_the_api_keeps_answering_when_the_cache_is_down(api_for, csm, rates, unreachable_cache, caplog):
    """A limit protects the service; refusing every call because Redis is gone would be the outage."""
    rates(token="3/minute", anon="3/minute", failed_auth="3/minute")
    api = api_for(csm)
    assert [api.get(ACCOUNTS).status_code for _ in range(5)] == [200] * 5
    address = an_address()
    assert [with_token("wrong-" + secrets.token_hex(8), address).get(ME).status_code for _ in range(5)] == [401] * 5
    assert {APIClient(REMOTE_ADDR=address).get(ME).status_code for _ in range(5)} == {401}
    assert "cache is unreachable" in caplog.text
