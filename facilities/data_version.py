"""One number that goes up whenever listings or vocabularies change, for cache keys.

Vocabularies, state counts, summaries, result counts and the API's ETags are
cached under keys carrying it. It lives in the database (models.DataVersion) and
is raised in the same transaction as the change, so:

* every gunicorn process sees a curator's save at once, even with the default
  per-process cache: the next request reads the new number and misses the cache;
* nobody sees the new number before the change is committed, or the old number
  after it (a replica serves both from the same point in time).

What raises it: saving or deleting a Facility or Term, changing a listing's
vocabularies (m2m_changed), and bulk writes through the querysets (update(),
bulk_update(), bulk_create(), which send models.data_changed). Raw SQL that
bypasses the ORM must call bump().
Each request reads the number once (a primary-key lookup) and remembers it
until the request ends; outside requests (commands, the shell) it is read
whenever asked.
"""

import contextvars
import functools
import hashlib
import re

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, connections, router
from django.db.models import F
from django.utils import timezone

ROW_ID = 1
_NOT_DIGITS = re.compile(r"\D")
# Entries are versioned, so they never go stale: the timeout only frees memory.
CACHE_SECONDS = 3600

# This process's copy of recently used values, by their versioned key.
LOCAL_ENTRIES = 500
_local = {}

# {"key": ...} while a request is being served; None outside requests.
_request_memo = contextvars.ContextVar("facilities_data_version", default=None)


@functools.cache
def _read_sql():
    from .models import DataVersion

    table = connection.ops.quote_name(DataVersion._meta.db_table)
    return f"SELECT version, changed_at FROM {table} WHERE id = %s"  # noqa: S608  (a model name)


def _read():
    from .models import DataVersion

    # Every request reads this: plain SQL, the ORM's query building cost more than the read.
    # From where the router reads listings: a version newer than the replica's listings
    # would file stale figures under it.
    with connections[router.db_for_read(DataVersion)].cursor() as cursor:
        cursor.execute(_read_sql(), [ROW_ID])
        row = cursor.fetchone()
    version, changed_at = row or (0, None)
    # The time makes a number reused after a rolled-back change a different key.
    # Digits only, as the driver returns it (a datetime, or text on SQLite): cache-key safe.
    return f"{version}.{_NOT_DIGITS.sub('', str(changed_at or 0))}"


def key():
    """The current version as a string for cache keys, read once per request."""
    memo = _request_memo.get()
    if memo is None:
        return _read()
    if "key" not in memo:
        memo["key"] = _read()
    return memo["key"]


def bump(**kwargs):
    """Count a change. A signal receiver, and called by bulk writes."""
    from .models import DataVersion

    now = timezone.now()
    updated = DataVersion.objects.filter(pk=ROW_ID).update(version=F("version") + 1, changed_at=now)
    if not updated:  # the row is made by a migration; a test database flush removes it
        DataVersion.objects.get_or_create(pk=ROW_ID, defaults={"version": 1, "changed_at": now})
    memo = _request_memo.get()
    if memo is not None:
        memo.clear()  # this request sees its own change


def _cache_key(name, parts):
    text = ":".join(str(part) for part in parts)
    if text:  # may hold user input: a short digest is a key any cache accepts
        text = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"facilities:{name}:{key()}:{text}"


def cached(name, compute, *parts):
    """compute(), cached under this data version; parts tell apart what differs.

    The value is shared, not copied: treat it as read-only. Besides Django's cache
    (shared by every process with Redis), each process keeps the latest values as
    they are: the vocabulary is read some twenty times a search, and unpickling
    it from the cache every time cost more than the search's SQL.
    """
    cache_key = _cache_key(name, parts)
    value = _local.get(cache_key)
    if value is not None:
        return value
    value = cache.get(cache_key)
    if value is None:
        value = compute()
        cache.set(cache_key, value, CACHE_SECONDS)
    if len(_local) >= LOCAL_ENTRIES:
        _local.clear()  # keys of older versions pile up; starting over is cheap
    _local[cache_key] = value
    return value


def forget(name, *parts):
    cache_key = _cache_key(name, parts)
    _local.pop(cache_key, None)
    cache.delete(cache_key)


def clear_process_cache():
    """Forget this process's copies (tests: a rolled-back test may reuse a version)."""
    _local.clear()


def _links_changed(action, **kwargs):
    if action.startswith("post_"):  # post_add, post_remove, post_clear
        bump()


def _request_started(**kwargs):
    _request_memo.set({})


def _request_finished(**kwargs):
    _request_memo.set(None)


def connect_signals():
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import TERM_FIELDS, Facility, ServiceLine, Term, data_changed

    data_changed.connect(bump, dispatch_uid="data_version_bulk_write")
    for model in (Facility, ServiceLine, Term):
        post_save.connect(bump, sender=model, dispatch_uid=f"data_version_save_{model.__name__}")
        post_delete.connect(
            bump, sender=model, dispatch_uid=f"data_version_delete_{model.__name__}"
        )
    for name in TERM_FIELDS:
        through = ServiceLine._meta.get_field(name).remote_field.through
        m2m_changed.connect(_links_changed, sender=through, dispatch_uid=f"data_version_m2m_{name}")
    request_started.connect(_request_started, dispatch_uid="data_version_request_started")
    request_finished.connect(_request_finished, dispatch_uid="data_version_request_finished")
