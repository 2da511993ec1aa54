"""`make bench`: the finder at national scale, measured the same way every time.

1. A PostgreSQL database (BENCH_DATABASE_URL, default iop_bench on the local server)
   holding 100,000 generated listings, created once and reused.
2. The app under gunicorn with production settings (DEBUG off), loaded by wrk from a
   separate process, one fixed-time run per scenario: requests/s, p50, p95, p99, errors.
3. The raw SQL time of each page's queries (EXPLAIN ANALYZE through psycopg2), for the
   framework-overhead ratio, and Datasette over the same listings flattened into SQLite
   answering scenario d, for comparison.
Results are printed and written to bench/results.json.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/iop_bench"
)
DATA_DIR = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results.json"
DATASETTE_VENV = DATA_DIR / "datasette-venv"
DATASETTE_VERSION = "0.65.2"
PORT = 8765
DATASETTE_PORT = 8766

# Targets from issue #6, checked and printed next to the figures.
P95_TARGET_MS = 50
D_RPS_TARGET = 300
OVERHEAD_TARGET = 5.0


def log(message):
    print(f"[bench] {message}", flush=True)


def app_env(workers=1):
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": BENCH_DATABASE_URL,
            "DEBUG": "0",
            "DJANGO_ENV": "production",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_WORKERS": str(workers),
            "LOG_LEVEL": "WARNING",
            # Partners and pages are read far more than listings change; no throttling here.
            "API_ANON_RATE": "1000000/min",
            "API_KEY_RATE": "1000000/min",
            "REPORT_RATE_LIMIT": "1000000",
        }
    )
    return env


def manage(*args, env=None, capture=False):
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env or app_env(),
        check=True,
        text=True,
        capture_output=capture,
    )


def pg_connect(url=BENCH_DATABASE_URL):
    import psycopg2

    return psycopg2.connect(url)


def ensure_database():
    import psycopg2

    parts = urllib.parse.urlparse(BENCH_DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(BENCH_DATABASE_URL.replace(parts.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            log(f"creating database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def ensure_data(count, seed):
    manage("migrate", "--noinput", "-v0")
    with pg_connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM facilities_facility WHERE source = 'synthetic'")
        existing = cursor.fetchone()[0]
    if existing == count:
        log(f"reusing {existing:,} generated listings")
        return None
    log(f"generating {count:,} listings (seed {seed})")
    started = time.perf_counter()
    manage("generate_facilities", "--count", str(count), "--seed", str(seed), "--replace")
    elapsed = time.perf_counter() - started
    with pg_connect() as connection, connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"generated in {elapsed:.1f} s")
    return elapsed


def pick_parameters():
    """Scenario inputs drawn from the data, so every run asks real questions."""
    with pg_connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT f.state, count(*) FROM facilities_facility f
            JOIN facilities_facility_levels_of_care l ON l.facility_id = f.id
            JOIN facilities_term t ON t.id = l.term_id AND t.code = 'OIT'
            WHERE f.status = 'published' GROUP BY f.state ORDER BY 2 DESC LIMIT 1
            """
        )
        largest_state, largest_state_iops = cursor.fetchone()
        cursor.execute(
            """
            SELECT city, state, zip, count(*) FROM facilities_facility
            WHERE status = 'published' AND state = %s
            GROUP BY city, state, zip ORDER BY 4 DESC LIMIT 1
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
        "city": f"{city}, {city_state}",
        "zip": zip_code[:5],
        "slug": slug,
    }


def scenarios(params):
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


def wait_for(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


class Gunicorn:
    def __init__(self, workers):
        self.workers = workers
        self.process = None

    def __enter__(self):
        env = app_env(self.workers)
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "finder.wsgi",
                "-c",
                "finder/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(self.workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(DATA_DIR / "gunicorn.log", "a"),  # noqa: SIM115
        )
        wait_for(f"http://127.0.0.1:{PORT}/healthz")
        return self

    def worker_rss_mb(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        sizes = []
        for pid in children.read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(int(match.group(1)) / 1024)
        return sizes

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(url, connections, seconds, threads=2):
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        "X-Forwarded-Proto: https",
        "-s",
        str(ROOT / "bench" / "report.lua"),
        url,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "errors": raw["socket_errors"] + raw["http_errors"],
    }


def check_status(url):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body = response.read()
        return response.status, body


def time_csv_export(base, state):
    url = f"{base}/facilities/export.csv?state={state}"
    started = time.perf_counter()
    status, body = check_status(url)
    elapsed = time.perf_counter() - started
    rows = body.count(b"\n") - 1
    return {"url": url, "status": status, "rows": rows, "seconds": round(elapsed, 2)}


def raw_sql_times(paths):
    """Run each page in-process, capture its SQL, and EXPLAIN ANALYZE every statement."""
    os.environ.update(app_env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finder.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_FORWARDED_PROTO="https")
    results = {}
    with pg_connect() as pg, pg.cursor() as cursor:
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
                samples = []
                for _ in range(5):
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                    plan = cursor.fetchone()[0][0]
                    samples.append(plan["Planning Time"] + plan["Execution Time"])
                per_query.append((statistics.median(samples), sql))
            per_query.sort(reverse=True)
            results[name] = {
                "queries": len(captured.captured_queries),
                "total_sql_ms": round(sum(ms for ms, _ in per_query), 2),
                "main_query_ms": round(per_query[0][0], 2) if per_query else 0,
                "main_query": per_query[0][1][:300] if per_query else "",
            }
    return results


def build_datasette_db(target):
    """Flatten the listings into one SQLite table, codes as ';MD;PI;' strings."""
    target.unlink(missing_ok=True)
    lite = sqlite3.connect(target)
    lite.execute(
        "CREATE TABLE facilities (id INTEGER PRIMARY KEY, slug TEXT, name TEXT, "
        "program_name TEXT, city TEXT, state TEXT, zip TEXT, latitude REAL, longitude REAL, "
        "phone TEXT, website TEXT, ownership TEXT, co_occurring INTEGER, "
        "levels_of_care TEXT, payment_options TEXT, populations TEXT, status TEXT)"
    )
    codes = (
        "(SELECT ';' || string_agg(t.code, ';') || ';' FROM facilities_facility_{field} x "
        "JOIN facilities_term t ON t.id = x.term_id WHERE x.facility_id = f.id)"
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
    """  # noqa: S608 (constant text, no user input)
    with pg_connect() as pg, pg.cursor(name="flatten") as cursor:
        cursor.itersize = 5000
        cursor.execute(query)
        lite.executemany(
            "INSERT INTO facilities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cursor
        )
    # Datasette's own advice: index the columns you facet and filter on.
    lite.execute("CREATE INDEX facilities_state ON facilities (state, ownership)")
    lite.commit()
    lite.close()


def datasette_run(params, seconds, connections):
    datasette = DATASETTE_VENV / "bin" / "datasette"
    if not datasette.exists():
        log("installing Datasette into bench/data/datasette-venv")
        subprocess.run([PYTHON, "-m", "venv", str(DATASETTE_VENV)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [
                str(DATASETTE_VENV / "bin" / "pip"),
                "install",
                "-q",
                f"datasette=={DATASETTE_VERSION}",
            ],
            check=True,
        )
    database = DATA_DIR / "facilities.db"
    log("flattening the listings into SQLite for Datasette")
    build_datasette_db(database)
    process = subprocess.Popen(  # noqa: S603
        [
            str(datasette),
            "serve",
            str(database),
            "--port",
            str(DATASETTE_PORT),
            "--immutable",
            str(database),
            "--setting",
            "sql_time_limit_ms",
            "10000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{DATASETTE_PORT}/-/versions.json")
        state = params["largest_state"]
        path = (
            f"/facilities/facilities.json?state={state}&ownership__in=PVTP,PVTN"
            "&payment_options__contains=;MD;&_size=50&_shape=objects"
        )
        url = f"http://127.0.0.1:{DATASETTE_PORT}{path}"
        check_status(url)
        result = wrk(url, connections, seconds)
        result["url"] = path
        return result
    finally:
        process.terminate()
        process.wait(timeout=20)


def print_table(rows):
    header = f"{'scenario':34} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        print(
            f"{name:34} {row['rps']:>8} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['p99_ms']:>8} {row['errors']:>7}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("BENCH_COUNT", 100_000)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-datasette", action="store_true")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `sudo apt-get install wrk` (make bench does this).")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ensure_database()
    generation_seconds = ensure_data(args.count, args.seed)
    manage("collectstatic", "--noinput", "-v0")
    params = pick_parameters()
    paths = scenarios(params)
    log(f"parameters: {params}")

    results = {"listings": args.count, "parameters": params, "scenarios": {}}
    if generation_seconds is not None:
        results["generation_seconds"] = round(generation_seconds, 1)
    base = f"http://127.0.0.1:{PORT}"
    with Gunicorn(workers=1) as server:
        for name, path in paths.items():
            status, _ = check_status(base + path)
            log(f"{name}: {path} -> {status}")
            row = wrk(base + path, args.connections, args.seconds)
            row["url"] = path
            results["scenarios"][name] = row
        results["h_csv_export"] = time_csv_export(base, params["largest_state"])
        results["worker_rss_mb"] = [round(size, 1) for size in server.worker_rss_mb()]
    with Gunicorn(workers=4) as server:
        path = paths["d_api_state_ownership_payment"]
        row = wrk(base + path, 16, args.seconds)
        row["url"] = path
        results["d_four_workers"] = row
        results["worker_rss_mb_4"] = [round(size, 1) for size in server.worker_rss_mb()]

    sql_paths = {k: paths[k] for k in ("b_search_state_payment", "c_search_near_zip")}
    sql_paths["d_api_state_ownership_payment"] = paths["d_api_state_ownership_payment"]
    results["raw_sql"] = raw_sql_times(sql_paths)
    for name, sql in results["raw_sql"].items():
        p50 = results["scenarios"][name]["p50_ms"]
        sql["p50_over_sql"] = round(p50 / sql["total_sql_ms"], 1) if sql["total_sql_ms"] else None

    if not args.no_datasette:
        results["datasette_d"] = datasette_run(params, args.seconds, args.connections)
        ours = results["scenarios"]["d_api_state_ownership_payment"]
        theirs = results["datasette_d"]
        results["d_vs_datasette_p50"] = round(ours["p50_ms"] / theirs["p50_ms"], 2)

    results["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    print()
    print_table(results["scenarios"])
    d4 = results["d_four_workers"]
    print(f"\nd with 4 workers, 16 clients: {d4['rps']} req/s (target {D_RPS_TARGET})")
    csv_run = results["h_csv_export"]
    print(f"h CSV export: {csv_run['rows']:,} rows in {csv_run['seconds']} s")
    for name, sql in results["raw_sql"].items():
        print(
            f"{name}: {sql['queries']} queries, SQL {sql['total_sql_ms']} ms "
            f"(main {sql['main_query_ms']} ms), p50/SQL = {sql['p50_over_sql']}x "
            f"(target {OVERHEAD_TARGET}x)"
        )
    if "datasette_d" in results:
        ours = results["scenarios"]["d_api_state_ownership_payment"]["p50_ms"]
        print(
            f"d vs Datasette p50: ours {ours} ms, Datasette {results['datasette_d']['p50_ms']} ms "
            f"(ratio {results['d_vs_datasette_p50']})"
        )
    print(f"worker memory (MB): {results['worker_rss_mb']}")
    slow = [n for n, r in results["scenarios"].items() if r["p95_ms"] > P95_TARGET_MS]
    print(f"p95 over {P95_TARGET_MS} ms: {slow or 'none'}")
    print(f"results written to {RESULTS.relative_to(ROOT)} in {results['total_seconds']} s")


if __name__ == "__main__":
    main()
