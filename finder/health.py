"""Health checks for load balancers and orchestrators.

/healthz  liveness: the process answers; touches nothing else.
/readyz   readiness: every database answers and no migration is waiting.

They are served by a middleware placed before Django's host validation and the
HTTPS redirect, because probes come over plain HTTP with an IP as Host.
"""

from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def unapplied_migrations():
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def readyz(request):
    checks = {}
    for alias in connections:
        name = "database" if alias == DEFAULT_DB_ALIAS else alias
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            checks[name] = "ok"
        except Error:
            checks[name] = "unavailable"
    if checks["database"] == "ok":
        try:
            checks["migrations"] = "pending" if unapplied_migrations() else "ok"
        except Error:
            checks["migrations"] = "unknown"
    else:
        checks["migrations"] = "unknown"
    ready = all(value == "ok" for value in checks.values())
    response = JsonResponse(checks, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


PROBES = {"/healthz": healthz, "/healthz/": healthz, "/readyz": readyz, "/readyz/": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
