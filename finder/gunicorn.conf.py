"""gunicorn settings, all from the environment: `make serve` uses this file.

gunicorn finder.wsgi -c finder/gunicorn.conf.py
"""

import multiprocessing
import os

# Behind a reverse proxy on the same host or network; the proxy terminates TLS.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Threads cover time spent waiting on PostgreSQL; processes cover the CPU.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"

# A request slower than this is killed; DB_STATEMENT_TIMEOUT_MS (5 s) and
# DB_CONNECT_TIMEOUT (3 s) make database waits fail well before.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Recycle workers now and then so a slow leak can't grow forever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# The app logs one structured line per request (finder.middleware); gunicorn's
# access log would duplicate it, with the query string.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The proxy's X-Forwarded-* headers are trusted from these addresses only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
