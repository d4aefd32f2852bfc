"""Part 3: API and pages at scale, served by gunicorn; then 16 concurrent clients for 20 s.

Every endpoint is compared with the same plain Django view (bench.views.account_page_values:
the same filtered, ordered, counted page of accounts returned as `.values()` JSON), measured in
the same run. For the account list that ratio is the framework overhead; for the rest it says
how many bare list requests one request costs.
"""

import random
import threading
import time
from dataclasses import dataclass, field

import requests

from ..datagen import PASSWORD
from ..results import Figure, Target, not_available
from ..server import Server
from .common import percentile

PART = "web"
API_P95 = Target(on="value", op="<=", limit=0.050, label="p95 ≤ 50 ms")
PAGE_P95 = Target(on="value", op="<=", limit=0.150, label="p95 ≤ 150 ms")
OVERHEAD = Target(on="ratio", op="<=", limit=1.5, label="≤ 1.5x the plain view")
COVERAGE = Target(on="value", op="<=", limit=0.5, label="≤ 0.5 s")


@dataclass
class Probe:
    name: str
    kind: str  # "api", "page" or "baseline"
    paths: list  # sampled round-robin
    targets: list = field(default_factory=list)
    missing: str = ""  # why it is not available


def resolves(path):
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?", 1)[0])
        return True
    except Resolver404:
        return False


def first_resolving(candidates):
    return next((c for c in candidates if resolves(c)), None)


def pick_scope(ctx):
    """The CSM with the most accounts and the tier with a few pages of them: a realistic list."""
    from django.db.models import Count

    from accounts.models import Account

    row = (Account.objects.for_workspace(ctx.workspace).filter(owner__isnull=False, touch_tier="low")
           .values("owner").annotate(n=Count("id")).order_by("-n").first())
    if row is None:
        row = (Account.objects.for_workspace(ctx.workspace).filter(owner__isnull=False)
               .values("owner", "touch_tier").annotate(n=Count("id")).order_by("-n").first())
    tier = row.get("touch_tier", "low")
    ids = list(Account.objects.for_workspace(ctx.workspace).filter(owner=row["owner"]).order_by("?")
               .values_list("id", flat=True)[:50])
    return row["owner"], tier, row["n"], ids


def build_probes(ctx):
    owner, tier, count, account_ids = pick_scope(ctx)
    pages = max(1, min(5, -(-count // 50)))
    query = f"owner={owner}&touch_tier={tier}"
    list_pages = [f"?{query}&page={p}" for p in range(1, pages + 1)]
    probes = [
        Probe("plain view: account list (.values() as JSON)", "baseline",
              [f"/bench/baseline/accounts/{q}" for q in list_pages]),
    ]
    api_list = [f"/api/v1/accounts/{q}&ordering=-health_score" for q in list_pages]
    probes.append(Probe("API account list (owner + tier, by health, page of 50, with count)", "api", api_list,
                        [API_P95, OVERHEAD], "" if resolves("/api/v1/accounts/") else "no /api/v1/accounts/ yet"))
    probes.append(Probe("API account detail", "api", [f"/api/v1/accounts/{i}/" for i in account_ids], [API_P95],
                        "" if resolves("/api/v1/accounts/1/") else "no /api/v1/accounts/<id>/ yet"))
    report = first_resolving(["/api/v1/coverage/report/", "/api/v1/coverage/", "/api/v1/coverage-report/"])
    probes.append(Probe("API coverage report", "api", [report or ""], [COVERAGE],
                        "" if report else "no coverage report endpoint in /api/v1/ yet"))
    matrix = first_resolving(["/api/v1/coverage/matrix/", "/api/v1/coverage-matrix/", "/api/v1/coverage/matrix"])
    probes.append(Probe("API coverage matrix", "api", [matrix or ""], [API_P95],
                        "" if matrix else "no coverage matrix endpoint in /api/v1/ yet"))
    page_list = [f"/accounts/{q}&sort=-health_score" for q in list_pages]
    probes.append(Probe("page: account list (same filters)", "page", page_list, [PAGE_P95],
                        "" if resolves("/accounts/") else "no account list page"))
    probes.append(Probe("page: account detail", "page", [f"/accounts/{i}/" for i in account_ids], [PAGE_P95],
                        "" if resolves("/accounts/1/") else "no account detail page yet"))
    page_report = first_resolving(["/coverage/"])
    probes.append(Probe("page: coverage report", "page", [page_report or ""], [PAGE_P95, COVERAGE],
                        "" if page_report else "no coverage page yet"))
    page_matrix = first_resolving(["/coverage/matrix/"])
    probes.append(Probe("page: coverage matrix", "page", [page_matrix or ""], [PAGE_P95],
                        "" if page_matrix else "no coverage matrix page yet"))
    return probes, {"owner": owner, "tier": tier, "accounts_in_list": count}


def api_session(token):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    session.headers["Accept"] = "application/json"
    return session


def page_session(base_url, username):
    session = requests.Session()
    session.get(f"{base_url}/login/", timeout=30)
    response = session.post(
        f"{base_url}/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies.get("csrftoken", "")},
        headers={"Referer": f"{base_url}/login/"}, timeout=30, allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed with HTTP {response.status_code}")
    return session


def measure_interleaved(sessions, base_url, probes, *, rounds, seconds, warmup=3):
    """One request to each probe per round, so that every endpoint and the baseline see the same
    background load on a shared machine. Stops after `rounds` or `seconds` (at least 20 rounds)."""
    latencies = {p.name: [] for p in probes}
    errors = {p.name: [] for p in probes}
    for probe in probes:
        for i in range(warmup):
            sessions[probe.kind].get(base_url + probe.paths[i % len(probe.paths)], timeout=60)
    deadline = time.monotonic() + seconds
    for i in range(rounds):
        if i >= 20 and time.monotonic() > deadline:
            break
        for probe in probes:
            path = probe.paths[i % len(probe.paths)]
            started = time.perf_counter()
            response = sessions[probe.kind].get(base_url + path, timeout=60)
            latencies[probe.name].append(time.perf_counter() - started)
            if response.status_code != 200:
                errors[probe.name].append(f"{path} → HTTP {response.status_code}")
    return latencies, errors


def clone(session):
    copy = requests.Session()
    copy.headers.update(session.headers)
    copy.cookies.update(session.cookies)
    return copy


def concurrent(sessions, probes, base_url, *, clients=16, seconds=20):
    """`clients` threads, each picking a random available endpoint, for `seconds`."""
    done, errors, lock = [0], [], threading.Lock()
    per_client = [{kind: clone(s) for kind, s in sessions.items()} for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(n):
        rng = random.Random(n)
        sessions = per_client[n]
        barrier.wait()
        while time.monotonic() < stop_at[0]:
            probe = rng.choice(probes)
            path = rng.choice(probe.paths)
            try:
                response = sessions[probe.kind].get(base_url + path, timeout=60)
                ok = response.status_code == 200
                problem = f"{path} → HTTP {response.status_code}"
            except requests.RequestException as exc:
                ok, problem = False, f"{path} → {type(exc).__name__}"
            with lock:
                done[0] += 1
                if not ok:
                    errors.append(problem)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    started = time.monotonic()
    stop_at[0] = started + seconds
    barrier.wait()
    for t in threads:
        t.join()
    return done[0], errors, time.monotonic() - started


def run(ctx, results):
    from workspaces.models import Membership, Role
    from workspaces.services import issue_token

    from ..history import ensure_history, history_days, vacuum_read_tables

    ensure_history(ctx)
    vacuum_read_tables(ctx)
    results.notes.append(
        f"Web part: the database holds coverage and health snapshots for today and {len(history_days(ctx.as_of))} "
        "earlier days (yesterday and 12 weekly points), as the report pages read after months of nights; "
        "see bench/history.py."
    )
    probes, scope = build_probes(ctx)
    manager = Membership.objects.for_workspace(ctx.workspace).select_related("user").filter(role=Role.MANAGER).first()
    _token, key = issue_token(membership=manager, name="benchmark")
    rounds, seconds = (30, 30) if ctx.quick else (200, 150)
    figures = []
    available = [p for p in probes if not p.missing]
    with Server(ctx.url) as server:
        base = server.base_url
        api, page = api_session(key), page_session(base, manager.user.username)
        sessions = {"api": api, "page": page, "baseline": api}
        all_latencies, all_errors = measure_interleaved(sessions, base, available, rounds=rounds, seconds=seconds)
        timings = {}
        for probe in available:
            latencies, errors = all_latencies[probe.name], all_errors[probe.name]
            timings[probe.name] = (latencies, errors)
            print(f"    {probe.name}: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
                  f"p95 {percentile(latencies, 95) * 1000:.1f} ms, {len(errors)} errors", flush=True)
        clients, window = 16, (10 if ctx.quick else 20)
        done, conc_errors, elapsed = concurrent(sessions, available, base, clients=clients, seconds=window)
        description = server.description

    base_lat = timings[probes[0].name][0]
    base_p50, base_p95 = percentile(base_lat, 50), percentile(base_lat, 95)
    for probe in probes[1:]:
        if probe.missing:
            figures.append(not_available(PART, f"{probe.name} p95", probe.missing, unit="s", targets=probe.targets))
            continue
        latencies, errors = timings[probe.name]
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        note = f"p50 {p50 * 1000:.1f} ms over {len(latencies)} requests"
        if errors:
            note += f"; {len(errors)} errors, e.g. {errors[0]}"
        if probe.name.startswith("API account list"):
            figures.append(Figure(part=PART, name=f"{probe.name} p50", value=p50, unit="s", baseline=base_p50,
                                  baseline_name="plain view p50", targets=[OVERHEAD],
                                  note=f"scope: owner {scope['owner']}, tier {scope['tier']}, "
                                       f"{scope['accounts_in_list']:,} matching accounts"))
            targets = [API_P95]
        else:
            targets = probe.targets
        figures.append(Figure(part=PART, name=f"{probe.name} p95", value=p95, unit="s", baseline=base_p95,
                              baseline_name="plain view p95", targets=targets, note=note))
    figures.append(Figure(
        part=PART, name=f"{clients} concurrent clients: throughput", value=done / elapsed,
        unit="req/s", better="higher",
        baseline=len(base_lat) / sum(base_lat), baseline_name="plain view, 1 client",
        note=f"{window} s, {done:,} requests over the {len(available)} endpoints above, {len(conc_errors)} errors"
             + (f", e.g. {conc_errors[0]}" if conc_errors else "") + f". Server: {description}.",
    ))
    missed = [p for p in probes[1:] if not p.missing and any(
        f.target_met is False for f in figures if f.name.startswith(p.name))]
    if missed or ctx.profile:
        try:
            profile_in_process(ctx, results, manager, key, [p for p in probes[1:] if p in missed or ctx.profile])
        except Exception as exc:  # noqa: BLE001 — a profile is a bonus; the figures stand without it
            results.notes.append(f"web profile failed: {type(exc).__name__}: {exc}")
    figures.append(Figure(
        part=PART, name=f"{clients} concurrent clients: errors", value=float(len(conc_errors)),
        unit="errors", targets=[Target(on="value", op="<=", limit=0, label="0")],
    ))
    return figures


def profile_in_process(ctx, results, manager, key, probes, requests_per_probe=20):
    """cProfile and the SQL log of the missed endpoints, served in this process by Django's test
    client (the same view code gunicorn runs, without the network)."""
    from django.db import connection
    from django.test import Client

    from ..worker import QueryLog, profiled

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
    client.force_login(manager.user)
    for probe in probes:
        path = probe.paths[0]
        client.get(path)  # warm
        log = QueryLog()
        with connection.execute_wrapper(log), profiled(True, top=22) as box:
            for _ in range(requests_per_probe):
                client.get(path)
        per_request = len(log.entries) / requests_per_probe
        title = f"{probe.name}: {path} ({requests_per_probe} requests in-process"
        results.profiles[f"{title}, cProfile cumulative)"] = box.get("profile", "")
        results.profiles[f"{title}, SQL; {per_request:.0f} statements per request)"] = log.summary(top=6)
