"""Conditional GET: ETag, Last-Modified and Cache-Control, so partners can poll cheaply.

The validators come from one cheap aggregate over the whole facility table
(how many rows, when the latest was saved) plus the vocabularies, not from
the response: any save anywhere changes them, so an answer is never stale,
and an unchanged query costs one query and no rendering. Editing a listing
saves it (updated_at); code that changes a listing's terms without saving it,
or uses QuerySet.update(), would not be seen until the next save.
"""

import hashlib
import json

from django.db.models import Count, Max
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

from .. import selectors
from ..models import Facility

# Bump when the shape of a response changes, so old ETags stop matching.
RESPONSE_VERSION = "1"
MAX_AGE_SECONDS = 60


def data_version():
    """(row count, latest updated_at) of every facility, published or not."""
    totals = Facility.objects.order_by().aggregate(rows=Count("id"), latest=Max("updated_at"))
    return totals["rows"], totals["latest"]


def vocabulary_digest():
    text = json.dumps(selectors.vocabulary(), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Validators:
    """The ETag and Last-Modified of one request's answer."""

    def __init__(self, request, media_type):
        rows, latest = data_version()
        parts = [
            RESPONSE_VERSION,
            request.build_absolute_uri(request.path),
            sorted(request.GET.lists()),
            media_type,
            rows,
            latest.isoformat() if latest else "",
            vocabulary_digest(),
        ]
        digest = hashlib.blake2b(json.dumps(parts).encode(), digest_size=16).hexdigest()
        self.etag = quote_etag(digest)
        self.last_modified = int(latest.timestamp()) if latest else None

    def not_modified(self, request):
        """A 304 if the request's If-None-Match / If-Modified-Since still hold, else None."""
        response = get_conditional_response(
            request, etag=self.etag, last_modified=self.last_modified
        )
        if response is not None:
            self.apply(response)
        return response

    def apply(self, response):
        response["ETag"] = self.etag
        if self.last_modified is not None:
            response["Last-Modified"] = http_date(self.last_modified)
        patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
