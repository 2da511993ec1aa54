"""Profile one page or API request in-process against the benchmark database.

    make profile PROFILE_PATH='/api/v1/facilities/?state=CA&payment=MD&page_size=50'

Serves the path through Django's test client with production settings (as make bench
runs them) a number of times, prints the mean time per request and a pyinstrument
profile of those requests. Needs the database make bench creates (BENCH_DATABASE_URL).
"""

import argparse
import sys
import time

from harness import BENCH_DATABASE_URL, in_process_client, production_env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="e.g. /facilities/?state=CA")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--all-frames", action="store_true", help="show library frames too")
    args = parser.parse_args()

    client = in_process_client(production_env(BENCH_DATABASE_URL))
    from pyinstrument import Profiler

    for _ in range(10):  # warm caches as a running server has them
        response = client.get(args.path)
    if response.status_code != 200:
        sys.exit(f"{args.path} answered {response.status_code}")
    started = time.perf_counter()
    for _ in range(args.requests):
        client.get(args.path)
    mean_ms = (time.perf_counter() - started) / args.requests * 1000
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.requests):
        client.get(args.path)
    profiler.stop()
    print(f"{args.path}: {mean_ms:.1f} ms a request, one at a time, without profiling")
    print(profiler.output_text(unicode=False, color=False, show_all=args.all_frames))


if __name__ == "__main__":
    main()
