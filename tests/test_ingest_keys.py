"""Write keys on the tracking API: revocation is immediate in every process, and each key has a
rate limit (429 with Retry-After, which the SDKs honour: see test_ingest_sdks)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from usage.models import UsageEvent
from usage.services import authenticate_write_key, create_write_key, revoke_write_key
from workspaces.policy import SYSTEM

from .ingest_helpers import post_batch, track

ROOT = Path(__file__).resolve().parent.parent

# A second process of the same deployment: it authenticates the keys it reads on stdin, one a line.
OTHER_PROCESS = """
import sys, django
django.setup()
from usage.services import authenticate_write_key
for line in sys.stdin:
    found = authenticate_write_key(key=line.strip())
    print("accepted" if found else "refused", flush=True)
"""


def test_a_revoked_key_is_refused_at_once_in_this_process(client, ws):
    write_key, plaintext = create_write_key(workspace=ws, name="app", actor=SYSTEM)
    assert post_batch(client, plaintext, [track("m1")]).status_code == 200
    revoke_write_key(write_key=write_key, actor=SYSTEM)
    assert post_batch(client, plaintext, [track("m2")]).status_code == 401
    assert list(UsageEvent.all_workspaces.values_list("message_id", flat=True)) == ["m1"]


@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_in_one_process_is_refused_at_once_in_another(ws):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that two processes share (SQLite tests run in memory)")
    write_key, plaintext = create_write_key(workspace=ws, name="app", actor=SYSTEM)
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cs_platform.settings",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    other = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS], cwd=ROOT, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        def ask():
            other.stdin.write(plaintext + "\n")
            other.stdin.flush()
            return other.stdout.readline().strip()

        assert ask() == "accepted"  # the other process has now seen (and might remember) the key
        revoke_write_key(write_key=write_key, actor=SYSTEM)
        assert authenticate_write_key(key=plaintext) is None
        assert ask() == "refused"
    finally:
        other.stdin.close()
        other.wait(timeout=30)


def test_over_the_rate_a_key_gets_429_with_retry_after_and_other_keys_go_on(client, ws, settings):
    settings.USAGE_INGEST_RATE_LIMIT = "2/m"
    _, first = create_write_key(workspace=ws, name="first", actor=SYSTEM)
    _, second = create_write_key(workspace=ws, name="second", actor=SYSTEM)
    assert [post_batch(client, first, [track(f"m{n}")]).status_code for n in range(2)] == [200, 200]
    limited = post_batch(client, first, [track("m2")])
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    body = limited.json()
    assert body["code"] == "rate_limited" and body["message"]  # Rudder and the legacy SDK need both
    # The key in the body (Segment 2.x) counts the same; another key has its own allowance.
    assert post_batch(client, None, None, raw=f'{{"batch": [], "writeKey": "{first}"}}'.encode()).status_code == 429
    assert post_batch(client, second, [track("m3")]).status_code == 200
    assert sorted(UsageEvent.all_workspaces.values_list("message_id", flat=True)) == ["m0", "m1", "m3"]


def test_an_empty_rate_turns_the_limit_off(client, ws, settings):
    settings.USAGE_INGEST_RATE_LIMIT = ""
    _, plaintext = create_write_key(workspace=ws, name="app", actor=SYSTEM)
    assert {post_batch(client, plaintext, [track(f"m{n}")]).status_code for n in range(5)} == {200}
