"""`make bench`: the finder at national scale, measured the same way every time.

1. A PostgreSQL database (BENCH_DATABASE_URL, default iop_bench on the local server)
   holding 100,000 generated listings, created once and reused.
2. The app under gunicorn with production settings (DEBUG off), loaded by wrk from a
   separate process, one fixed-time run per scenario: requests/s, p50, p95, p99, errors.
3. The raw SQL time of each page's queries (EXPLAIN ANALYZE through psycopg2), for the
   framework-overhead ratio, and Datasette over the same listings flattened into SQLite
   answering scenario d, for comparison.
Results are printed and written to bench/results.json.

The machine may be shared: next to every run the harness notes the load average and how
much CPU went to processes other than the ones measured, and runs a scenario again (up
to --retries times) when that outside load was high, keeping the quietest run.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from harness import (
    BENCH_DATABASE_URL,
    DATA_DIR,
    PYTHON,
    ROOT,
    Gunicorn,
    as_proxied,
    ensure_database,
    ensure_listings,
    free_port,
    get,
    in_process_client,
    logger,
    manage,
    pg_connect,
    production_env,
    run_wrk,
    wait_for,
    wrk_figures,
)

RESULTS = ROOT / "bench" / "results.json"
DATASETTE_VENV = DATA_DIR / "datasette-venv"
DATASETTE_VERSION = "0.65.2"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Targets from issue #6, checked and printed next to the figures.
P95_TARGET_MS = 50
D_RPS_TARGET = 300
OVERHEAD_TARGET = 5.0
CSV_ROWS_TARGET = 10_000
CSV_SECONDS_TARGET = 2.0
RSS_TARGET_MB = 150
# Outside CPU (cores' worth) above which a run is considered disturbed and repeated.
NOISY_CORES = 0.5
# Waiting for quiet and repeating disturbed runs stop this long after the start, so that
# `make bench` ends in reasonable time on a machine that stays busy (the figures then
# say how busy it was).
PATIENCE_SECONDS = int(os.environ.get("BENCH_PATIENCE", 300))
STARTED = time.monotonic()


def patience_left():
    return STARTED + PATIENCE_SECONDS - time.monotonic()


log = logger("bench")


def app_env():
    """Production settings (harness.production_env) on the benchmark database."""
    return {
        **production_env(BENCH_DATABASE_URL),
        "GUNICORN_THREADS": os.environ.get("BENCH_THREADS", "4"),  # the production default
        # No recycling in the middle of a 10 s run: steady state, and any growth shows.
        "GUNICORN_MAX_REQUESTS": "0",
    }


def serve(workers):
    """The app under gunicorn with `workers` workers (a context manager)."""
    return Gunicorn(app_env(), DATA_DIR / f"gunicorn-{workers}.log", workers=workers)


def ensure_data(count, seed):
    """The generated listings (harness.ensure_listings), freshly vacuumed and analysed."""
    generation_seconds = ensure_listings(app_env(), count, seed, log)
    with pg_connect(BENCH_DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM facilities_facility WHERE source <> 'synthetic'")
        others = cursor.fetchone()[0]
    if others:
        log(f"note: {others:,} listings other than the generated ones are in the database")
    # Fresh statistics and visibility map, as autovacuum would leave them on a live site.
    # Not `with`: that would open a transaction.
    connection = pg_connect(BENCH_DATABASE_URL, autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return generation_seconds


def pick_parameters():
    """Scenario inputs drawn from the data, so every run asks real questions."""
    with pg_connect(BENCH_DATABASE_URL) as connection, connection.cursor() as cursor:
        # Listings with a service line offering IOP (a place with two such lines counts once).
        cursor.execute(
            """
            SELECT f.state, count(*) FROM facilities_facility f
            WHERE f.status = 'published' AND EXISTS (
                SELECT 1 FROM facilities_serviceline s
                JOIN facilities_serviceline_levels_of_care l ON l.serviceline_id = s.id
                JOIN facilities_term t ON t.id = l.term_id
                WHERE s.facility_id = f.id AND t."group" = 'level_of_care' AND t.code = 'OIT'
            )
            GROUP BY f.state ORDER BY 2 DESC, 1
            """
        )
        iops_by_state = cursor.fetchall()
        largest_state, largest_state_iops = iops_by_state[0]
        # The fewest large states together holding CSV_ROWS_TARGET IOPs, for the 10,000-row
        # export the target speaks of.
        export_states, export_rows = [], 0
        for state, iops in iops_by_state:
            if export_rows >= CSV_ROWS_TARGET:
                break
            export_states.append(state)
            export_rows += iops
        cursor.execute(
            """
            SELECT city, state, zip, count(*) FROM facilities_facility
            WHERE status = 'published' AND state = %s
            GROUP BY city, state, zip ORDER BY 4 DESC, 3 LIMIT 1
            """,
            [largest_state],
        )
        city, city_state, zip_code, _ = cursor.fetchone()
        cursor.execute(
            "SELECT slug FROM facilities_facility WHERE status = 'published' "
            "AND latitude IS NOT NULL ORDER BY id LIMIT 1 OFFSET 5000"
        )
        slug = cursor.fetchone()[0]
    return {
        "largest_state": largest_state,
        "largest_state_iops": largest_state_iops,
        "export_states": export_states,
        "export_rows": export_rows,
        "city": f"{city}, {city_state}",
        "zip": zip_code[:5],
        "slug": slug,
    }


# Scenarios whose SQL is timed on its own for the framework-overhead ratio.
SQL_SCENARIOS = ("b_", "c_", "d_", "e_", "i_")


def scenarios(params):
    """The issue's scenarios a-i (h, the CSV export, is timed on its own)."""
    state = params["largest_state"]
    near_city = urllib.parse.quote(params["city"])
    return {
        "a_home": "/",
        "b_search_state_payment": f"/facilities/?state={state}&payment=MD&payment=PI"
        "&co_occurring=true",
        "c_search_near_zip": f"/facilities/?near={params['zip']}&radius=25&payment=MD"
        "&population=VET&ordering=distance",
        "d_api_state_ownership_payment": f"/api/v1/facilities/?state={state}"
        "&ownership=PVTP&ownership=PVTN&payment=MD&page_size=50",
        "e_api_near_city": f"/api/v1/facilities/?near={near_city}&radius=50&ordering=distance",
        "f_facility_page": f"/facilities/{params['slug']}/",
        "g_state_page": f"/states/{state.lower()}/",
        "g_state_summary_api": f"/api/v1/states/{state}/summary/?level_of_care=OIT",
        "i_api_deep_page": "/api/v1/facilities/?page=200",
    }


# --- Where the CPU went: ours (server, database backends, wrk) or someone else's --------


def process_cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def machine_cpu_seconds():
    """(busy, total) CPU seconds of the whole machine since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def database_backend_pids():
    with pg_connect(BENCH_DATABASE_URL) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class CpuWatch:
    """How many cores' worth of CPU, during a run, went to processes not being measured."""

    def __init__(self, server_pids):
        self.server_pids = server_pids

    def ours(self):
        pids = set(self.server_pids()) | set(database_backend_pids())
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once waited for
        return {pid: process_cpu_seconds(pid) for pid in pids}, children.ru_utime + (
            children.ru_stime
        )

    def __enter__(self):
        self.load_before = os.getloadavg()[0]
        self.started = time.perf_counter()
        self.busy_before, _ = machine_cpu_seconds()
        self.ours_before, self.children_before = self.ours()
        return self

    def __exit__(self, *exc):
        busy_after, _ = machine_cpu_seconds()
        ours_after, children_after = self.ours()
        elapsed = time.perf_counter() - self.started
        ours = children_after - self.children_before
        for pid, seconds in ours_after.items():
            ours += seconds - self.ours_before.get(pid, 0.0)
        busy = busy_after - self.busy_before
        self.load = {
            "loadavg_1m_before": round(self.load_before, 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "cpu_cores_used": round(busy / elapsed, 2),
            "cpu_cores_ours": round(ours / elapsed, 2),
            "cpu_cores_outside": round(max(busy - ours, 0) / elapsed, 2),
        }


def wait_until_quiet(max_seconds=15):
    """Wait (a little) for the machine to stop being busy with other people's work."""
    deadline = time.time() + min(max_seconds, max(patience_left(), 0))
    waited = False
    while True:
        busy_before, total_before = machine_cpu_seconds()
        time.sleep(1)
        busy_after, total_after = machine_cpu_seconds()
        cores = os.cpu_count() or 1
        busy_cores = (busy_after - busy_before) / (total_after - total_before) * cores
        if busy_cores < NOISY_CORES or time.time() > deadline:
            return round(busy_cores, 2)
        if not waited:
            log(f"  machine busy ({busy_cores:.1f} cores in use by others); waiting")
        waited = True


def wrk(url, connections, seconds, threads=2):
    command = [
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        # As the reverse proxy would say: without it production redirects to HTTPS.
        "-H",
        "X-Forwarded-Proto: https",
        "-s",
        str(ROOT / "bench" / "report.lua"),
        url,
    ]
    raw = run_wrk(command, "BENCH_JSON")
    return {
        "requests": raw["requests"],
        **wrk_figures(raw),
        "errors": raw["socket_errors"] + raw["http_errors"],
    }


def measured_wrk(url, connections, seconds, server_pids, retries):
    """wrk, repeated while other people's work took a real share of the CPU; the quietest."""
    runs = []
    for _ in range(retries + 1):
        quiet = wait_until_quiet()
        with CpuWatch(server_pids) as watch:
            row = wrk(url, connections, seconds)
        row["load"] = {"idle_check_cores_busy": quiet, **watch.load}
        runs.append(row)
        if watch.load["cpu_cores_outside"] < NOISY_CORES or patience_left() <= 0:
            break
        log(f"  outside load {watch.load['cpu_cores_outside']} cores during the run; again")
    best = min(runs, key=lambda run: run["load"]["cpu_cores_outside"])
    best["attempts"] = len(runs)
    best["disturbed"] = best["load"]["cpu_cores_outside"] >= NOISY_CORES
    return best


def time_csv_export(base, path, repeats=3):
    """Median of `repeats` full downloads: seconds to the first row and to the last."""
    url = base + path
    totals, firsts, rows = [], [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        with urllib.request.urlopen(as_proxied(url), timeout=120) as response:
            status = response.status
            first = response.readline()
            firsts.append(time.perf_counter() - started)
            body = first + response.read()
        totals.append(time.perf_counter() - started)
        rows = body.count(b"\n") - 1
    return {
        "url": path,
        "status": status,
        "rows": rows,
        "seconds": round(statistics.median(totals), 2),
        "first_byte_seconds": round(statistics.median(firsts), 3),
        "rows_per_second": round(rows / statistics.median(totals)),
    }


def raw_sql_times(paths):
    """Run each page in-process, capture its SQL, and EXPLAIN ANALYZE every statement.

    Per statement: planning + execution time from EXPLAIN (ANALYZE, TIMING OFF), and the
    wall time psycopg2 takes to run it and fetch every row; medians of five.
    """
    client = in_process_client(app_env())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {}
    with pg_connect(BENCH_DATABASE_URL) as pg, pg.cursor() as cursor:
        for name, path in paths.items():
            client.get(path)  # warm caches the way a running server has them
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            per_query = []
            for query in captured.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                explained, fetched = [], []
                for _ in range(5):
                    cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0][0]
                    explained.append(plan["Planning Time"] + plan["Execution Time"])
                    started = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    fetched.append((time.perf_counter() - started) * 1000)
                per_query.append((statistics.median(explained), statistics.median(fetched), sql))
            per_query.sort(reverse=True)
            main_ms, main_wall_ms, main_sql = per_query[0]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + main_sql)
            plan_text = [row[0] for row in cursor.fetchall()]
            results[name] = {
                "queries": len(captured.captured_queries),
                "total_sql_ms": round(sum(ms for ms, _, _ in per_query), 2),
                "total_sql_wall_ms": round(sum(wall for _, wall, _ in per_query), 2),
                "main_query_ms": round(main_ms, 2),
                "main_query_wall_ms": round(main_wall_ms, 2),
                "main_query": main_sql,
                "main_query_plan": plan_text,
            }
    return results


def build_datasette_db(target):
    """Flatten the listings into one SQLite table, codes as ';MD;PI;' strings.

    A listing's codes are those of all its service lines, each once: the API's flat list
    item, which scenario d's single payment filter matches the same way.
    """
    target.unlink(missing_ok=True)
    lite = sqlite3.connect(target)
    lite.execute(
        "CREATE TABLE facilities (id INTEGER PRIMARY KEY, slug TEXT, name TEXT, "
        "program_name TEXT, city TEXT, state TEXT, zip TEXT, latitude REAL, longitude REAL, "
        "phone TEXT, website TEXT, ownership TEXT, co_occurring INTEGER, "
        "levels_of_care TEXT, payment_options TEXT, populations TEXT, status TEXT)"
    )
    codes = (
        "(SELECT ';' || string_agg(DISTINCT t.code, ';') || ';' "
        "FROM facilities_serviceline s "
        "JOIN facilities_serviceline_{field} x ON x.serviceline_id = s.id "
        "JOIN facilities_term t ON t.id = x.term_id WHERE s.facility_id = f.id)"
    )
    query = f"""
        SELECT f.id, f.slug, f.name, f.program_name, f.city, f.state, f.zip, f.latitude,
               f.longitude, f.phone, f.website, o.code, f.co_occurring::int,
               {codes.format(field="levels_of_care")},
               {codes.format(field="payment_options")},
               {codes.format(field="populations")},
               f.status
        FROM facilities_facility f LEFT JOIN facilities_term o ON o.id = f.ownership_id
        WHERE f.status = 'published'
    """
    with pg_connect(BENCH_DATABASE_URL) as pg, pg.cursor(name="flatten") as cursor:
        cursor.itersize = 5000
        cursor.execute(query)
        lite.executemany(
            "INSERT INTO facilities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cursor
        )
    # Datasette's own advice: index the columns you filter and sort on.
    lite.execute("CREATE INDEX facilities_state ON facilities (state, ownership)")
    lite.execute("CREATE INDEX facilities_name ON facilities (name)")
    lite.execute("ANALYZE")
    lite.commit()
    lite.close()


def ensure_datasette():
    datasette = DATASETTE_VENV / "bin" / "datasette"
    if not datasette.exists():
        log(f"installing Datasette {DATASETTE_VERSION} into bench/data/datasette-venv")
        subprocess.run([PYTHON, "-m", "venv", str(DATASETTE_VENV)], check=True)
        subprocess.run(
            [
                str(DATASETTE_VENV / "bin" / "pip"),
                "install",
                "-q",
                f"datasette=={DATASETTE_VERSION}",
            ],
            check=True,
        )
    return datasette


def datasette_run(params, seconds, connections, retries):
    """Scenario d asked of Datasette: same filters, same order (name), 50 rows, with a count."""
    datasette = ensure_datasette()
    database = DATA_DIR / "facilities.db"
    log("flattening the listings into SQLite for Datasette")
    build_datasette_db(database)
    port = free_port()
    process = subprocess.Popen(
        [
            str(datasette),
            "serve",
            "--immutable",
            str(database),
            "--port",
            str(port),
            "--setting",
            "sql_time_limit_ms",
            "10000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/-/versions.json")
        state = params["largest_state"]
        query = (
            f"state={state}&ownership__in=PVTP,PVTN&payment_options__contains=;MD;"
            "&_sort=name&_size=50&_shape=objects"
        )
        results = {}
        # As a partner would call it, and without the facet suggestions it computes for
        # every table page (our API computes none): the faster of the two is the bar.
        for name, extra in (("default", ""), ("no_suggestions", "&_nosuggest=1")):
            path = f"/facilities/facilities.json?{query}{extra}"
            url = f"http://127.0.0.1:{port}{path}"
            status, body = get(url, timeout=60)
            assert status == 200, (url, status, body[:300])
            row = measured_wrk(url, connections, seconds, lambda: [process.pid], retries)
            row["url"] = path
            row["rows"] = len(json.loads(body)["rows"])
            results[name] = row
        return results
    finally:
        process.terminate()
        process.wait(timeout=20)


def git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def print_table(rows):
    header = (
        f"{'scenario':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'load1':>6} {'outside':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        load = row.get("load", {})
        print(
            f"{name:32} {row['rps']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['p99_ms']:>8} {row['errors']:>7} {load.get('loadavg_1m_before', ''):>6} "
            f"{load.get('cpu_cores_outside', ''):>8}"
        )


def print_summary(results):
    print()
    print(f"{results['listings']:,} listings, commit {results['commit']}, {results['started']}")
    print_table(results["scenarios"])
    if "d_four_workers" in results:
        d4 = results["d_four_workers"]
        print(
            f"\nd with 4 workers, {d4['connections']} clients: {d4['rps']} req/s, "
            f"p95 {d4['p95_ms']} ms (target {D_RPS_TARGET} req/s)"
        )
    for key in ("h_csv_export", "h_csv_export_10000"):
        if key in results:
            run = results[key]
            print(
                f"{key}: {run['rows']:,} rows in {run['seconds']} s "
                f"(first row after {run['first_byte_seconds']} s)"
            )
    for name, sql in results.get("raw_sql", {}).items():
        print(
            f"{name}: {sql['queries']} queries; SQL {sql['total_sql_ms']} ms in all, "
            f"main query {sql['main_query_ms']} ms; p50 / main query = "
            f"{sql['p50_over_main_query']}x, p50 / all SQL = {sql['p50_over_all_sql']}x "
            f"(target {OVERHEAD_TARGET}x)"
        )
        if "one_client_p50_ms" in sql:
            print(
                f"  one client alone: p50 {sql['one_client_p50_ms']} ms = "
                f"{sql['one_client_p50_over_main_query']}x the main query, "
                f"{sql['one_client_p50_over_all_sql']}x all its SQL"
            )
    if "datasette_d" in results:
        ours = results["scenarios"]["d_api_state_ownership_payment"]
        for name, run in results["datasette_d"].items():
            print(
                f"Datasette d ({name}): {run['rps']} req/s, p50 {run['p50_ms']} ms "
                f"(ours {ours['rps']} req/s, p50 {ours['p50_ms']} ms)"
            )
    print(f"worker memory, MB: 1 worker {results.get('worker_rss_mb')}, ", end="")
    print(f"4 workers {results.get('worker_rss_mb_4')} (target < {RSS_TARGET_MB})")
    slow = [n for n, r in results["scenarios"].items() if r["p95_ms"] > P95_TARGET_MS]
    print(f"p95 over {P95_TARGET_MS} ms: {slow or 'none'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("BENCH_COUNT", 100_000)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--connections-4-workers", type=int, default=16, help="clients for d on 4 workers"
    )
    parser.add_argument("--retries", type=int, default=1, help="reruns of a disturbed scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario name prefixes")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    # A plain `kill` still stops gunicorn and Datasette (the context managers' exits).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `sudo apt-get install wrk` (make bench does this).")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {
        "listings": args.count,
        "commit": git_commit(),
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_start": [round(value, 2) for value in os.getloadavg()],
        },
        "settings": {
            "seconds_per_run": args.seconds,
            "connections": args.connections,
            "gunicorn": "gthread, 1 worker x 4 threads (d also with 4 workers)",
        },
    }
    ensure_database(BENCH_DATABASE_URL, log)
    generation_seconds = ensure_data(args.count, args.seed)
    if generation_seconds is not None:
        results["generation_seconds"] = round(generation_seconds, 1)
    # Production serves hashed static files from the manifest: pages 500 without it.
    manage(app_env(), "collectstatic", "--noinput", "-v0")
    params = pick_parameters()
    results["parameters"] = params
    paths = scenarios(params)
    only = [prefix for prefix in args.only.split(",") if prefix]
    if only:
        paths = {name: path for name, path in paths.items() if name.startswith(tuple(only))}
    log(f"parameters: {params}")

    results["scenarios"] = {}
    with serve(workers=1) as server:
        for name, path in paths.items():
            status, body = get(server.base + path, timeout=60)
            log(f"{name}: {path} -> {status}")
            if status != 200:
                sys.exit(f"{name} answered {status}: {body[:500]!r}")
            row = measured_wrk(
                server.base + path, args.connections, args.seconds, server.worker_pids, args.retries
            )
            row["url"] = path
            row["worker_rss_mb_after"] = server.worker_rss_mb()
            results["scenarios"][name] = row
        # One client alone: the request's own time, without three others queued ahead of
        # it; the fair figure for the framework-overhead ratio below.
        for name, path in paths.items():
            if name.startswith(SQL_SCENARIOS):
                alone = wrk(server.base + path, 1, max(3, args.seconds // 2), threads=1)
                results["scenarios"][name]["one_client"] = alone
        if not only or "h" in only:
            state = params["largest_state"]
            results["h_csv_export"] = time_csv_export(
                server.base, f"/facilities/export.csv?state={state}"
            )
            many = "&".join(f"state={code}" for code in params["export_states"])
            results["h_csv_export_10000"] = time_csv_export(
                server.base, f"/facilities/export.csv?{many}"
            )
            results["h_csv_export_10000"]["worker_rss_mb_after"] = server.worker_rss_mb()
        results["worker_rss_mb"] = server.worker_rss_mb()

    if "d_api_state_ownership_payment" in paths:
        with serve(workers=4) as server:
            path = paths["d_api_state_ownership_payment"]
            for _ in range(4):  # every worker loads its code and caches before timing
                get(server.base + path, timeout=60)
            wrk(server.base + path, args.connections_4_workers, 2)
            row = measured_wrk(
                server.base + path,
                args.connections_4_workers,
                args.seconds,
                server.worker_pids,
                args.retries,
            )
            row["url"] = path
            row["connections"] = args.connections_4_workers
            results["d_four_workers"] = row
            results["worker_rss_mb_4"] = server.worker_rss_mb()

    sql_paths = {name: path for name, path in paths.items() if name.startswith(SQL_SCENARIOS)}
    results["raw_sql"] = raw_sql_times(sql_paths)
    for name, sql in results["raw_sql"].items():
        p50 = results["scenarios"][name]["p50_ms"]
        sql["p50_over_main_query"] = round(p50 / max(sql["main_query_ms"], 0.01), 1)
        sql["p50_over_all_sql"] = round(p50 / max(sql["total_sql_ms"], 0.01), 1)
        alone = results["scenarios"][name].get("one_client")
        if alone:
            sql["one_client_p50_ms"] = alone["p50_ms"]
            sql["one_client_p50_over_main_query"] = round(
                alone["p50_ms"] / max(sql["main_query_ms"], 0.01), 1
            )
            sql["one_client_p50_over_all_sql"] = round(
                alone["p50_ms"] / max(sql["total_sql_ms"], 0.01), 1
            )

    if not args.no_datasette and "d_api_state_ownership_payment" in paths:
        results["datasette_d"] = datasette_run(params, args.seconds, args.connections, args.retries)
        ours = results["scenarios"]["d_api_state_ownership_payment"]
        best = min(results["datasette_d"].values(), key=lambda run: run["p50_ms"])
        results["d_p50_over_datasette_p50"] = round(ours["p50_ms"] / best["p50_ms"], 2)

    results["total_seconds"] = round(time.perf_counter() - started, 1)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print_summary(results)
    print(f"results written to {args.output} in {results['total_seconds']} s")


if __name__ == "__main__":
    main()
