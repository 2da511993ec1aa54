"""Request logging and graceful failure when the database is away."""

import logging
import re
import sys
import time
import uuid

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views import defaults

request_logger = logging.getLogger("finder.request")
error_logger = logging.getLogger("finder.errors")

# A proxy's X-Request-ID is reused so one id follows a request through every log;
# anything else is replaced, so a client cannot write arbitrary text into the logs.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Seconds a client or load balancer should wait before trying again.
RETRY_AFTER = "10"

DATABASE_ERRORS = (OperationalError, InterfaceError)


class RequestLogMiddleware:
    """One log line per request: method, path (never the query string), status, duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response["X-Request-ID"] = request.request_id
        request_logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "request_id": request.request_id,
            },
        )
        return response


class NoTraceMiddleware:
    """TRACE is a 405 everywhere (JSON under /api/): it would echo a whole page or run the
    API's checks, and no client of this site needs it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "TRACE":
            return self.get_response(request)
        allowed = "GET, HEAD, OPTIONS" if request.path.startswith("/api/") else "GET, HEAD, POST"
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": 'Method "TRACE" not allowed.'}, status=405)
        else:
            response = HttpResponse(
                "TRACE is not allowed.\n", status=405, content_type="text/plain; charset=utf-8"
            )
        response["Allow"] = allowed
        return response


class NulInAdminInputMiddleware:
    """A NUL byte in an admin address or form is a 400, not a database error.

    PostgreSQL cannot store or compare text holding NUL, and admin list filters
    (?status__exact=%00) pass parameters straight to the database. The public pages and the
    API validate every parameter themselves and answer their own 400 pages.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and _has_nul(request):
            return HttpResponse(
                "This address or form holds a character that cannot be stored (a NUL byte).\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _has_nul(request):
    if "\x00" in request.path:
        return True
    sources = [request.GET]
    if request.method == "POST":
        sources.append(request.POST)  # form fields; uploaded files' text the importer checks
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for source in sources
        for key, values in source.lists()
    )


def database_unavailable(request, exception):
    """503 with Retry-After: JSON under /api/, otherwise a static page with the help lines."""
    error_logger.warning(
        "Database unavailable: %s %s",
        request.method,
        request.path,
        extra={
            "method": request.method,
            "path": request.path,
            "status": 503,
            "exception_type": type(exception).__name__,
            "request_id": getattr(request, "request_id", None),
        },
    )
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": "The service is temporarily unavailable. Please try again shortly."},
            status=503,
        )
    else:
        # Rendered without the request: no context processor may touch the database.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = RETRY_AFTER
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database outage inside a view into a 503 instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # In DEBUG a developer wants the traceback: SQLite reports a missing
        # migration ("no such table") as an OperationalError too.
        if isinstance(exception, DATABASE_ERRORS) and not settings.DEBUG:
            return database_unavailable(request, exception)
        return None


def server_error(request):
    """handler500: also catches database errors raised outside views (session save...)."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_ERRORS):
        return database_unavailable(request, exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    try:
        return defaults.server_error(request)
    except Exception:  # 500.html itself failed: still answer something.
        return HttpResponseServerError(
            b"<h1>Server error</h1><p>In crisis? Call or text 988. "
            b"SAMHSA National Helpline: 1-800-662-4357.</p>",
            content_type="text/html",
        )
