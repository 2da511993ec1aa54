"""Read listings from a PostgreSQL streaming replica, write everything to the primary.

Active only when DATABASE_REPLICA_URL is set (settings then add the "replica"
alias, this router and ReplicaReadsMiddleware). A replica lags the primary a
little, so the replica is opt-in, only for reads that can stand that lag:

* reads made while serving a GET/HEAD request outside /admin/ (searches, listing
  pages, the API): ReplicaReadsMiddleware marks those requests;
* and among them only the public listings and vocabularies (the facilities
  app): users, sessions and permissions stay on the primary, or a fresh login
  could be "forgotten" on the next request;
* never inside a transaction on the primary (read your own writes).

Everything else reads from the primary: form posts (a uniqueness check before a
write must see the latest rows), the admin (a curator never edits a stale
copy), management commands such as imports, the shell.
"""

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
REPLICA_APPS = {"facilities"}
SAFE_METHODS = {"GET", "HEAD"}

_replica_allowed = contextvars.ContextVar("replica_allowed", default=False)


@contextmanager
def use_replica():
    """Within this block, reads of listings may be served by the replica."""
    token = _replica_allowed.set(True)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _replica_allowed.get()
            and REPLICA in settings.DATABASES
            and model._meta.app_label in REPLICA_APPS
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: a listing read from the replica may
        # point at a term read from the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS and not request.path.startswith("/admin/"):
            with use_replica():
                return self.get_response(request)
        return self.get_response(request)
