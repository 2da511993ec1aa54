"""`make loadtest`: fault and load tests against gunicorn on PostgreSQL, 100,000 listings.

Everything runs on throw-away servers of its own, so the shared PostgreSQL is never touched:

- a private PostgreSQL 15 cluster (bench/data/pg-loadtest, port 5499, trust auth,
  fsync off) holding 100,000 generated listings, created once and reused;
- gunicorn with production settings (DJANGO_ENV=production, X-Forwarded-Proto: https);
- wrk, from a separate process, cycling through a mix of searches (bench/loadtest.lua)
  and counting statuses per second.

Scenarios:
  a  60 s, 50 clients, the search mix: 0 errors expected.
  b  the same with PostgreSQL stopped for 5 s in the middle: only 503s (never a 500),
     only during the outage, and the time from the database being back to the first 200.
  c  two gunicorns sharing Redis: a curator's edit of a vocabulary term and of a listing,
     saved in a separate process, seen by both within the cache TTL or at once.

Results are printed and written to bench/loadtest-results.json. The cluster and the
gunicorns are stopped on the way out, whatever happens.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from harness import (
    DATA_DIR,
    PYTHON,
    ROOT,
    Gunicorn,
    ensure_database,
    ensure_listings,
    get,
    logger,
    manage,
    pg_connect,
    production_env,
    run_wrk,
    wrk_figures,
)

PG_BIN = Path(os.environ.get("LOADTEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_DATA = DATA_DIR / "pg-loadtest"
PG_LOG = DATA_DIR / "pg-loadtest.log"
PG_PORT = int(os.environ.get("LOADTEST_PG_PORT", "5499"))
DATABASE_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/iop_loadtest"
# A Redis database nobody else uses: scenario c flushes it.
REDIS_URL = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/7")
APP_PORTS = (8781, 8782)
RESULTS = ROOT / "bench" / "loadtest-results.json"
LUA = ROOT / "bench" / "loadtest.lua"
GUNICORN_LOG = DATA_DIR / "loadtest-gunicorn.log"

OUTAGE_SECONDS = 5
EDIT_HOLD_SECONDS = 1.0  # a curator's save is a transaction; hold it open like a slow admin save
# Invalidation is meant to be immediate: an edit seen only when the cache expires is a failure.
SEEN_WITHIN_SECONDS = 5


log = logger("loadtest")


# --- the private PostgreSQL cluster -----------------------------------------------------


def as_postgres(command):
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class Cluster:
    """A PostgreSQL 15 cluster of our own, free to stop and restart."""

    def __init__(self, data=PG_DATA, port=PG_PORT):
        self.data = data
        self.port = port

    def pg_ctl(self, *args, check=True):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off "
            f"-c unix_socket_directories={self.data} -c max_connections=200"
        )
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(PG_LOG)]
        if args[0] in ("start", "restart"):
            command += ["-o", options]
        return subprocess.run(
            as_postgres([*command, *args]), check=check, capture_output=True, text=True
        )

    def init(self):
        if (self.data / "PG_VERSION").exists():
            return
        log(f"creating a PostgreSQL cluster in {self.data.relative_to(ROOT)} (port {self.port})")
        self.data.mkdir(parents=True, exist_ok=True)
        PG_LOG.touch()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            shutil.chown(PG_LOG, "postgres", "postgres")
        subprocess.run(
            as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def running(self):
        return self.pg_ctl("status", check=False).returncode == 0

    def start(self):
        if not self.running():
            self.pg_ctl("start", "-w", "-t", "60")

    def stop(self):
        if self.running():
            self.pg_ctl("stop", "-m", "fast", "-w", "-t", "60", check=False)


# --- the app --------------------------------------------------------------------------


def app_env(redis=False):
    """Production settings (harness.production_env) on the private cluster."""
    env = {
        **production_env(DATABASE_URL),
        "LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    if redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def start_app(port, redis=False, workers=None):
    """The app under gunicorn on `port` (workers: else the production default, 2 x CPU + 1)."""
    return Gunicorn(app_env(redis), GUNICORN_LOG, port=port, workers=workers).start()


def ensure_data(count, seed):
    """The generated listings (harness.ensure_listings), analysed when new.

    Returns the seconds generating and analysing took, or None when they were reused.
    """
    generated = ensure_listings(app_env(), count, seed, log)
    if generated is None:
        return None
    started = time.perf_counter()
    with pg_connect(DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return generated + time.perf_counter() - started


# --- the search mix -----------------------------------------------------------------


def pick_parameters():
    """Real questions from the data: the biggest state, a busy ZIP and city, listings."""
    with pg_connect(DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, count(*) FROM facilities_facility WHERE status = 'published' "
            "GROUP BY state ORDER BY 2 DESC LIMIT 3"
        )
        states = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT city, state, zip FROM facilities_facility WHERE status = 'published' "
            "AND state = %s GROUP BY city, state, zip ORDER BY count(*) DESC LIMIT 1",
            [states[0]],
        )
        city, city_state, zip_code = cursor.fetchone()
        cursor.execute(
            "SELECT slug FROM facilities_facility WHERE status = 'published' "
            "ORDER BY id LIMIT 20 OFFSET 5000"
        )
        slugs = [row[0] for row in cursor.fetchall()]
    return {
        "states": states,
        "city": f"{city}, {city_state}",
        "zip": zip_code[:5],
        "slugs": slugs,
    }


def search_mix(params):
    """The paths wrk cycles through: every kind of search people and partners make."""
    big, second, third = params["states"]
    near_city = urllib.parse.quote(params["city"])
    paths = [
        f"/facilities/?state={big}&payment=MD&payment=PI&co_occurring=true",
        f"/facilities/?state={second}&population=VET&evening=true&page=2",
        f"/facilities/?near={params['zip']}&radius=25&payment=MD&ordering=distance",
        f"/facilities/?near={near_city}&radius=50&telehealth=true",
        f"/api/v1/facilities/?state={big}&ownership=PVTP&ownership=PVTN&payment=MD",
        f"/api/v1/facilities/?near={params['zip']}&radius=50",
        f"/api/v1/facilities/?state={third}&level_of_care=OIT&page_size=50",
        f"/states/{big.lower()}/",
        f"/states/{third.lower()}/",
        f"/api/v1/states/{second}/summary/?level_of_care=OIT",
    ]
    paths += [f"/facilities/{slug}/" for slug in params["slugs"][:6]]
    return paths


def wrk(base, paths, connections, seconds):
    """Run wrk with bench/loadtest.lua; its figures and per-second status counts."""
    env = dict(os.environ, LOADTEST_PATHS="\n".join(paths))
    command = [
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        # gunicorn kills a request after GUNICORN_TIMEOUT (30 s): wrk waits as long, so a
        # timeout here is a request the server really failed to answer.
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA),
        base + paths[0],
    ]
    raw = run_wrk(command, "LOADTEST_JSON", env=env)
    per_second = {int(second): counts for second, counts in raw["per_second"].items()}
    statuses = {}
    for counts in per_second.values():
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    socket_errors = raw["socket_errors"]
    return {
        "requests": raw["requests"],
        "seconds": round(raw["duration_us"] / 1e6, 1),
        **wrk_figures(raw),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "statuses": dict(sorted(statuses.items())),
        "socket_errors": socket_errors,
        "errors": sum(n for s, n in statuses.items() if s != "200") + sum(socket_errors.values()),
        "per_second": per_second,
    }


def relative_timeline(per_second, started_at):
    """{seconds since the run started: {status: count}} from wrk's wall-clock seconds."""
    return {str(second - int(started_at)): counts for second, counts in sorted(per_second.items())}


# --- scenario b: PostgreSQL restarted under load ------------------------------------


class Prober(threading.Thread):
    """One request every 50 ms to a page that needs the database, timestamped."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            started = time.time()
            status, _ = get(self.url, timeout=30)
            self.samples.append((started, time.time(), status))
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        self.join()


def restart_in_the_middle(cluster, delay, events):
    time.sleep(delay)
    events["stop_requested"] = time.time()
    cluster.pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
    events["stopped"] = time.time()
    time.sleep(OUTAGE_SECONDS)
    events["start_requested"] = time.time()
    cluster.pg_ctl("start", "-w", "-t", "60")  # returns once it accepts connections
    events["back"] = time.time()


def scenario_b(cluster, server, paths, connections, seconds):
    events = {}
    restarter = threading.Thread(
        target=restart_in_the_middle, args=(cluster, seconds / 2 - OUTAGE_SECONDS / 2, events)
    )
    prober = Prober(server.base + paths[0])
    started = time.time()
    prober.start()
    restarter.start()
    try:
        result = wrk(server.base, paths, connections, seconds)
    finally:
        restarter.join()
        prober.stop()
    back = events["back"]
    # The first 200 answered after PostgreSQL was back (the probe waits in the same queue
    # as the 50 clients, so this includes queueing, not only reconnecting).
    first_ok = min(
        (done for _, done, status in prober.samples if done >= back and status == 200), default=None
    )
    # Whole seconds of the wrk run touching the outage (stop requested .. back), with slack
    # of one second either side for requests in flight when PostgreSQL went away.
    outage = range(int(events["stop_requested"]) - 1, int(back) + 2)
    outside = {
        status: count
        for second, counts in result["per_second"].items()
        if second not in outage
        for status, count in counts.items()
        if status != "200"
    }
    timeline = relative_timeline(result["per_second"], started)
    after = [c for s, c in result["per_second"].items() if s > int(back) + 1]
    result.update(
        {
            "outage": {
                "stop_at_s": round(events["stop_requested"] - started, 2),
                "stopped_at_s": round(events["stopped"] - started, 2),
                "back_at_s": round(back - started, 2),
                "database_down_s": round(back - events["stopped"], 2),
            },
            "recovery_s": round(first_ok - back, 3) if first_ok else None,
            "probe_statuses": count_statuses(status for _, _, status in prober.samples),
            "errors_outside_outage": outside,
            "full_recovery": bool(after) and all(set(c) == {"200"} for c in after),
            "per_second": timeline,
        }
    )
    return result


def count_statuses(statuses):
    counts = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return dict(sorted(counts.items()))


# --- scenario c: two processes, one Redis, a curator's edit -------------------------

EDIT_SCRIPT = """
import sys, time
import django
django.setup()
from django.db import transaction
from facilities.models import Facility, Term

kind, key, value, hold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
with transaction.atomic():  # as the admin saves: one transaction with the history row
    if kind == "term":
        group, code = key.split(":")
        obj = Term.objects.get(group=group, code=code)
        obj.label = value
    else:
        obj = Facility.objects.get(slug=key)
        obj.name = value
    obj.save()
    time.sleep(hold)
print(time.time(), flush=True)
"""


def curator_edit(kind, key, value, redis=True):
    """Save a term or a listing in a separate process; when its transaction committed."""
    env = app_env(redis)
    env["DJANGO_SETTINGS_MODULE"] = "finder.settings"
    output = subprocess.run(
        [PYTHON, "-c", EDIT_SCRIPT, kind, key, value, str(EDIT_HOLD_SECONDS)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.split()[-1])


def seen_everywhere(servers, path, needle, since, timeout):
    """Seconds from `since` until every server's answer to `path` contains `needle`."""
    seen = {}
    deadline = since + timeout
    while len(seen) < len(servers) and time.time() < deadline:
        for server in servers:
            if server.port in seen:
                continue
            status, body = get(server.base + path)
            if status == 200 and needle.encode() in body:
                seen[server.port] = round(time.time() - since, 3)
        time.sleep(0.05)
    return {str(port): seen.get(port) for port in (s.port for s in servers)}


class Reader(threading.Thread):
    """Keeps reading a path from every server, as visitors would during the edit."""

    def __init__(self, servers, path):
        super().__init__(daemon=True)
        self.servers, self.path = servers, path
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            for server in self.servers:
                get(server.base + self.path)
            time.sleep(0.02)

    def stop(self):
        self.stopping.set()
        self.join()


def scenario_c(servers, params, cache_ttl):
    import redis as redis_client

    redis_client.Redis.from_url(REDIS_URL).flushdb()
    results = {}
    stamp = time.strftime("%H%M%S")

    # A vocabulary term: its label is read through the shared (Redis) vocabulary cache.
    label = f"Medicaid (edited {stamp})"
    vocabulary_path = "/api/v1/vocabularies/"
    for server in servers:  # both processes have the old label cached
        assert get(server.base + vocabulary_path)[0] == 200
    reader = Reader(servers, vocabulary_path)
    reader.start()
    try:
        committed = curator_edit("term", "payment:MD", label)
        results["term_label"] = seen_everywhere(
            servers, vocabulary_path, label, committed, cache_ttl + 10
        )
    finally:
        reader.stop()
        curator_edit("term", "payment:MD", "Medicaid")

    # A listing: pages and the API read it from PostgreSQL on every request.
    slug = params["slugs"][-1]
    name = f"Edited listing {stamp}"
    reader = Reader(servers, f"/facilities/{slug}/")
    reader.start()
    try:
        committed = curator_edit("facility", slug, name)
        results["listing_page"] = seen_everywhere(
            servers, f"/facilities/{slug}/", name, committed, cache_ttl + 10
        )
        results["listing_search"] = seen_everywhere(
            servers,
            f"/api/v1/facilities/?q={urllib.parse.quote(name)}&format=json",
            name,
            committed,
            cache_ttl + 10,
        )
    finally:
        reader.stop()
    return results


# --- the run ----------------------------------------------------------------------


def print_row(name, row):
    statuses = ", ".join(f"{s}: {n}" for s, n in row["statuses"].items())
    sockets = {k: v for k, v in row["socket_errors"].items() if v}
    print(
        f"{name:28} {row['requests']:>7} req  {row['rps']:>6} req/s  p50 {row['p50_ms']} ms  "
        f"p95 {row['p95_ms']} ms  p99 {row['p99_ms']} ms  [{statuses}]"
        + (f"  socket errors {sockets}" if sockets else "")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("LOADTEST_COUNT", 100_000)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOADTEST_SECONDS", 60)))
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: the production one)"
    )
    parser.add_argument("--only", default="abc", help="scenarios to run, e.g. --only b")
    parser.add_argument("--keep-cluster", action="store_true", help="leave PostgreSQL running")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `sudo apt-get install wrk`.")
    if not (PG_BIN / "initdb").exists():
        sys.exit(f"PostgreSQL 15 server binaries not found in {PG_BIN} (LOADTEST_PG_BIN).")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cluster = Cluster()
    servers = []
    # SIGTERM/SIGINT (make interrupted, CI timeout) go through the same clean-up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        cluster.init()
        cluster.start()
        ensure_database(DATABASE_URL, log)
        generated = ensure_data(args.count, args.seed)
        manage(app_env(), "collectstatic", "--noinput", "-v0")
        params = pick_parameters()
        paths = search_mix(params)
        results = {
            # Other work on the machine skews every figure: say how busy it was.
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "listings": args.count,
            "connections": args.connections,
            "seconds": args.seconds,
            "paths": paths,
        }
        if generated is not None:
            results["generation_seconds"] = round(generated, 1)

        server = start_app(APP_PORTS[0], workers=args.workers)
        servers.append(server)
        results["gunicorn"] = {"workers": len(server.worker_pids()), "threads": 4}
        for path in paths:
            status, _ = get(server.base + path, timeout=30)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} before the run")
        if "a" in args.only:
            log(f"a: {args.seconds} s, {args.connections} clients, {len(paths)} paths")
            row = wrk(server.base, paths, args.connections, args.seconds)
            row.pop("per_second")
            results["a_steady"] = row
        if "b" in args.only:
            log(f"b: the same, PostgreSQL stopped for {OUTAGE_SECONDS} s in the middle")
            results["b_postgres_restart"] = scenario_b(
                cluster, server, paths, args.connections, args.seconds
            )
        server.stop()
        servers.remove(server)

        if "c" in args.only:
            log(f"c: two gunicorns sharing Redis ({REDIS_URL}), a curator's edits")
            for port in APP_PORTS:
                servers.append(start_app(port, redis=True, workers=2))
            ttl = int(os.environ.get("CACHE_TIMEOUT", "300"))
            results["c_shared_cache"] = {"cache_ttl_s": ttl, **scenario_c(servers, params, ttl)}
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        results["total_seconds"] = round(time.perf_counter() - started, 1)
    finally:
        for server in servers:
            server.stop()
        if not args.keep_cluster:
            cluster.stop()

    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    return 0 if passed(results) else 1


def passed(results):
    checks = []
    if "a_steady" in results:
        checks.append(results["a_steady"]["errors"] == 0)
    if "b_postgres_restart" in results:
        b = results["b_postgres_restart"]
        checks += [
            "500" not in b["statuses"],
            not b["errors_outside_outage"],
            b["full_recovery"],
            b["recovery_s"] is not None,
        ]
    if "c_shared_cache" in results:
        c = results["c_shared_cache"]
        for key in ("term_label", "listing_page", "listing_search"):
            checks.append(
                all(delay is not None and delay < SEEN_WITHIN_SECONDS for delay in c[key].values())
            )
    return all(checks)


def report(results):
    print()
    print(
        f"{results['listings']:,} listings, gunicorn {results['gunicorn']['workers']} workers x "
        f"{results['gunicorn']['threads']} threads, {results['connections']} clients; "
        f"{results['cpus']} CPUs, load average {results['load_average_at_start'][0]} at start, "
        f"{results['load_average_at_end'][0]} at end"
    )
    if "a_steady" in results:
        print_row("a steady load", results["a_steady"])
    if "b_postgres_restart" in results:
        b = results["b_postgres_restart"]
        print_row("b PostgreSQL restart", b)
        outage = b["outage"]
        print(
            f"  PostgreSQL stopped at {outage['stopped_at_s']} s, back at {outage['back_at_s']} s "
            f"(down {outage['database_down_s']} s); first 200 after it was back: "
            f"{b['recovery_s']} s; non-200 outside the outage: "
            f"{b['errors_outside_outage'] or 'none'}"
            f"; full recovery: {b['full_recovery']}"
        )
        print("  statuses per second (s: {status: count}):")
        for second, counts in b["per_second"].items():
            print(f"    {second:>3}: {counts}")
    if "c_shared_cache" in results:
        c = results["c_shared_cache"]
        print(
            f"c shared cache (TTL {c['cache_ttl_s']} s): seconds from the edit's commit until each "
            f"app shows it (must be under {SEEN_WITHIN_SECONDS} s):"
        )
        for key in ("term_label", "listing_page", "listing_search"):
            print(f"  {key:16} {c[key]}")
    ok = passed(results)
    print(f"\n{'PASS' if ok else 'FAIL'}; written to {RESULTS.relative_to(ROOT)}", end="")
    print(f" in {results.get('total_seconds', '?')} s")


if __name__ == "__main__":
    sys.exit(main())
