"""The platform served for real, by gunicorn on 127.0.0.1, started and stopped by the harness.

It runs the benchmark settings (the platform plus the baseline view's URL). When a Redis is
reachable on 127.0.0.1 the cache and Celery broker use its database 15, so every worker shares
one cache and background tasks go to a real worker, as in production; otherwise the platform's
embedded defaults apply (per-process cache, eager tasks).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from .env import CACHE_DIR, ROOT, server_env

BENCH_REDIS_URL = "redis://127.0.0.1:6379/15"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_reachable(url=BENCH_REDIS_URL):
    try:
        import redis

        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 — no Redis simply means the embedded mode
        return False


def platform_env(url):
    env = server_env(url)
    if redis_reachable():
        env["REDIS_URL"] = BENCH_REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    return env


def workers_for_cpu():
    return max(2, 2 * (os.cpu_count() or 1))


class Server:
    """`with Server(url) as server:` → gunicorn answering at `server.base_url`, plus a Celery worker
    when Redis is there (so that work the platform defers runs as it would in production)."""

    def __init__(self, url, *, workers=None, celery=True):
        self.url = url
        self.workers = workers or workers_for_cpu()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = platform_env(url)
        self.redis = "REDIS_URL" in self.env
        self.want_celery = celery and self.redis
        self.processes = []

    @property
    def description(self):
        mode = "Redis cache and broker, 1 Celery worker" if self.want_celery else (
            "Redis cache and broker" if self.redis else "embedded mode (local-memory cache, eager tasks)")
        return f"gunicorn, {self.workers} sync workers, 127.0.0.1; {mode}"

    def __enter__(self):
        CACHE_DIR.mkdir(exist_ok=True)
        if self.want_celery:
            subprocess.run([sys.executable, "-m", "celery", "-A", "cs_platform", "purge", "-f"], cwd=ROOT,
                           env=self.env, capture_output=True, timeout=60)
            self._spawn("celery", [sys.executable, "-m", "celery", "-A", "cs_platform", "worker",
                                   "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip",
                                   "--without-mingle", "--without-heartbeat"])
        self._spawn("gunicorn", [
            sys.executable, "-m", "gunicorn", "bench.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--timeout", "120", "--backlog", "2048", "--log-level", "warning",
        ])
        self.wait_ready()
        return self

    def _spawn(self, name, argv):
        log = open(CACHE_DIR / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.processes.append((name, proc, log))

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc, _log in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see bench/.cache/{name}.log")
            try:
                with urllib.request.urlopen(f"{self.base_url}/login/", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see bench/.cache/gunicorn.log")

    def __exit__(self, *exc):
        for _name, proc, _log in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _name, proc, log in self.processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        self.processes = []
        return False
