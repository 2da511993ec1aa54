"""A JSON log formatter that only writes what is safe to keep.

People reach this site at a vulnerable moment and report problems with a
listing through a form; none of that may end up in logs. So the formatter
writes an allowlist of fields: never the request object itself (its repr
carries the query string), never form data, and for exceptions only the type
and the stack, not the message (database and validation errors echo the
submitted values).
"""

import json
import logging
import traceback
from datetime import UTC, datetime

# Extra fields callers may attach with logger.info(..., extra={...}).
ALLOWED_EXTRA = (
    "method",
    "path",
    "status",
    "duration_ms",
    "request_id",
    "exception_type",
    "database",
)


def stack_without_message(exc_info):
    """The traceback frames plus the exception's type name, without its message."""
    exc_type, exc, tb = exc_info
    frames = "".join(traceback.format_tb(tb))
    chained = []
    cause = exc.__cause__ or exc.__context__ if exc else None
    while cause is not None and len(chained) < 5:
        chained.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    text = f"Traceback (most recent call last):\n{frames}{exc_type.__name__}"
    if chained:
        text += f" (from {' <- '.join(chained)})"
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ALLOWED_EXTRA:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        # django.request attaches the request and status to its warnings and errors.
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "path"):
            entry.setdefault("method", request.method)
            entry.setdefault("path", request.path)
            request_id = getattr(request, "request_id", None)
            if request_id:
                entry.setdefault("request_id", request_id)
        if hasattr(record, "status_code"):
            entry.setdefault("status", record.status_code)
        if record.exc_info and record.exc_info[0] is not None:
            entry.setdefault("exception_type", record.exc_info[0].__name__)
            entry["stack"] = stack_without_message(record.exc_info)
        return json.dumps(entry, default=str)
