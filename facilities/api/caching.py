"""Conditional GET: ETag, Last-Modified and Cache-Control, so partners can poll cheaply.

The validators come from the data version (data_version.py: raised by every
change to listings and vocabularies, bulk writes included) and the latest
updated_at, not from the response: any change anywhere changes them, so an
answer is never stale, and an unchanged query costs one primary-key lookup and
no rendering.
"""

import hashlib
import json

from django.db.models import Max
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag

from .. import data_version, selectors
from ..models import Facility

# Bump when the shape of a response changes, so old ETags stop matching.
RESPONSE_VERSION = "1"
MAX_AGE_SECONDS = 60


def latest_update():
    """When the latest facility, published or not, was saved (facility_updated index)."""
    return Facility.objects.order_by().aggregate(latest=Max("updated_at"))["latest"]


def _vocabulary_digest():
    text = json.dumps(selectors.vocabulary(), sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Validators:
    """The ETag and Last-Modified of one request's answer."""

    def __init__(self, request, media_type):
        latest = data_version.cached("latest-update", latest_update)
        parts = [
            RESPONSE_VERSION,
            request.build_absolute_uri(request.path),
            sorted(request.GET.lists()),
            media_type,
            data_version.key(),
            latest.isoformat() if latest else "",
            data_version.cached("vocabulary-digest", _vocabulary_digest),
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
