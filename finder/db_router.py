"""Read listings from a PostgreSQL streaming replica, write everything to the primary.

Active only when DATABASE_REPLICA_URL is set (settings add the "replica" alias,
this router and PrimaryForWritesMiddleware). A replica lags the primary by a
little, so only reads that can stand that lag go to it:

* the public listings and vocabularies (the facilities app); users, sessions,
  permissions and the admin log stay on the primary, or a fresh login could
  be "forgotten" on the next request;
* reads inside a transaction on the primary stay there (read your own writes);
* requests that write (POST...) and every admin request read from the primary,
  so a curator never edits a stale copy of a listing.
"""

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
REPLICA_APPS = {"facilities"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_pinned_to_primary = contextvars.ContextVar("pinned_to_primary", default=False)


@contextmanager
def use_primary():
    """Within this block every read goes to the primary."""
    token = _pinned_to_primary.set(True)
    try:
        yield
    finally:
        _pinned_to_primary.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            REPLICA not in settings.DATABASES
            or model._meta.app_label not in REPLICA_APPS
            or _pinned_to_primary.get()
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: a listing read from the replica may
        # point at a term read from the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class PrimaryForWritesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS or request.path.startswith("/admin/"):
            with use_primary():
                return self.get_response(request)
        return self.get_response(request)
