"""What `make bench` (bench/run.py), `make loadtest` (bench/loadtest.py) and `make profile`
(bench/profile.py) share: the app with production settings on PostgreSQL holding generated
listings, served by gunicorn, asked the way the reverse proxy would ask, loaded by wrk.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATA_DIR = ROOT / "bench" / "data"
# make bench's and make profile's database; make loadtest runs a cluster of its own.
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/iop_bench"
)


def logger(tag):
    """A log(message) that prints "[tag] message" at once: runs take minutes."""

    def log(message):
        print(f"[{tag}] {message}", flush=True)

    return log


# --- the app's settings and its database ----------------------------------------------


def production_env(database_url):
    """Production settings, as README "Running in production" sets them, on database_url."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "DATABASE_REPLICA_URL", "DEBUG", "PRODUCTION"):
        env.pop(name, None)  # one PostgreSQL, per-process cache: the same on every machine
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_ENV": "production",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The partner API's throttle stays on (its cache work is part of a request)
            # but never trips: every request here comes from one client address.
            "API_ANON_RATE": "1000000/min",
            "API_KEY_RATE": "1000000/min",
        }
    )
    return env


def manage(env, *args):
    """manage.py with env's settings; migrations and generation are bulk work."""
    env = {**env, "DB_STATEMENT_TIMEOUT_MS": "0", "LOG_LEVEL": "WARNING"}
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def pg_connect(url, autocommit=False):
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = autocommit
    return connection


def ensure_database(url, log):
    """Create url's database on its server unless it is there."""
    import psycopg2

    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    try:
        server = pg_connect(parts._replace(path="/postgres").geturl(), autocommit=True)
    except psycopg2.OperationalError as error:
        sys.exit(f"Cannot reach PostgreSQL ({url}): {error}")
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            log(f"creating database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
    server.close()


def ensure_listings(env, count, seed, log):
    """Migrate (new indexes land here), then generate `count` listings unless they exist.

    Returns the seconds the generation took, or None when the listings were reused.
    """
    manage(env, "migrate", "--noinput", "-v0")
    with pg_connect(env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM facilities_facility WHERE source = 'synthetic'")
        existing = cursor.fetchone()[0]
    if existing == count:
        log(f"reusing {existing:,} generated listings")
        return None
    log(f"generating {count:,} listings (seed {seed}); this happens once")
    started = time.perf_counter()
    manage(env, "generate_facilities", "--count", str(count), "--seed", str(seed), "--replace")
    seconds = time.perf_counter() - started
    log(f"generated in {seconds:.1f} s")
    return seconds


def in_process_client(env):
    """Django set up in this process with env's settings; a test client asking as the proxy."""
    os.environ.update(env)
    os.environ.update({"LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "finder.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client

    return Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")


# --- the server -----------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


def child_pids(parent):
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == parent:
            pids.append(int(entry.name))
    return pids


class Gunicorn:
    """gunicorn with the production config (finder/gunicorn.conf.py), as `make serve` runs it.

    env: the app's settings (production_env); stderr goes to log_path; port: a free one
    unless given; workers: the config's production default unless given. start() returns
    once /readyz answers and, with `workers` given, every worker is up. A context manager.
    """

    def __init__(self, env, log_path, port=None, workers=None):
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.workers = workers
        self.process = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        if self.workers:
            env["GUNICORN_WORKERS"] = str(self.workers)
        with open(self.log_path, "a") as errors:
            self.process = subprocess.Popen(
                [
                    str(Path(PYTHON).parent / "gunicorn"),
                    "finder.wsgi",
                    "-c",
                    "finder/gunicorn.conf.py",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                # Its own session: an interrupt reaches the harness, whose clean-up stops it.
                start_new_session=True,
            )
        wait_for(f"{self.base}/readyz")
        deadline = time.time() + 30
        while self.workers and len(self.worker_pids()) < self.workers and time.time() < deadline:
            time.sleep(0.2)
        return self

    def worker_pids(self):
        return child_pids(self.process.pid)

    def worker_rss_mb(self):
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(round(int(match.group(1)) / 1024, 1))
        return sizes

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- asking it ------------------------------------------------------------------------


def as_proxied(url):
    """A request for url as the reverse proxy sends it: production redirects plain HTTP."""
    return urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})


def get(url, timeout=10):
    """(status, body) of a GET as the proxy sends it; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(as_proxied(url), timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


def run_wrk(args, marker, env=None):
    """Run wrk with args; the JSON its Lua script printed on the line starting with marker."""
    run = subprocess.run(["wrk", *args], env=env, capture_output=True, text=True)
    lines = [line for line in run.stdout.splitlines() if line.startswith(marker + " ")]
    if run.returncode or not lines:
        raise RuntimeError(
            f"wrk failed ({run.returncode}): {run.stdout[-500:]} {run.stderr[-500:]}"
        )
    return json.loads(lines[0].removeprefix(marker + " "))


def wrk_figures(raw):
    """Requests a second and latency percentiles in ms, from the Lua script's microseconds."""
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
    }
