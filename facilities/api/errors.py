"""Every API error is JSON: DRF's errors, bad requests Django would answer in HTML, 500s, 404s."""

import logging

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("django.request")


def api_exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation):
        # E.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS.
        exc = exceptions.ParseError(f"Bad request: {exc}")
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down or restarting: DRF re-raises, and
        # finder.middleware.DatabaseUnavailableMiddleware answers 503 with Retry-After.
        return None
    response = exception_handler(exc, context)
    if response is not None or settings.DEBUG:
        return response
    request = context.get("request")
    logger.error(
        "Internal Server Error: %s",
        getattr(request, "path", "?"),
        exc_info=exc,
        extra={"status_code": 500, "request": getattr(request, "_request", None)},
    )
    return Response({"detail": "Server error. It has been logged."}, status=500)


@csrf_exempt
def not_found(request, path=""):
    """Any other URL under /api/: JSON, with a nudge to the endpoints that exist."""
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            resolved = resolve(request.path + "/")
        except Resolver404:
            resolved = None
        if resolved is not None and resolved.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + ("?" + query if query else "")
            )
    return JsonResponse(
        {"detail": "Not found: no API endpoint at this address.", "index": "/api/v1/"},
        status=404,
    )
