"""Shared cache and sessions: any app server can answer any request."""

import os
import uuid

import pytest

from tests.subprocesses import run_script

# Redis runs at 127.0.0.1:6379 on the development machines and in CI (.ci/run);
# database 15 keeps these keys away from anything else using that server.
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"

DESCRIBE = """
import json
from django.conf import settings
print(json.dumps([settings.CACHES["default"]["BACKEND"], settings.SESSION_ENGINE]))
"""


def test_without_redis_each_process_caches_locally_and_sessions_live_in_the_database():
    assert run_script(DESCRIBE) == [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.contrib.sessions.backends.db",
    ]


def test_with_redis_url_the_cache_is_redis_and_sessions_are_cached_in_front_of_the_database():
    assert run_script(DESCRIBE, REDIS_URL=REDIS_URL) == [
        "django.core.cache.backends.redis.RedisCache",
        "django.contrib.sessions.backends.cached_db",
    ]


def test_two_app_processes_share_the_redis_cache():
    key = f"iop-finder-test-{uuid.uuid4().hex}"
    writer = f"""
import json
from django.core.cache import cache
cache.set({key!r}, {{"listings": 3}}, timeout=60)
print(json.dumps(True))
"""
    reader = f"""
import json
from django.core.cache import cache
value = cache.get({key!r})
cache.delete({key!r})
print(json.dumps(value))
"""
    assert run_script(writer, REDIS_URL=REDIS_URL) is True
    assert run_script(reader, REDIS_URL=REDIS_URL) == {"listings": 3}


@pytest.mark.django_db
def test_a_term_saved_in_a_transaction_gets_a_new_vocabulary_cache_key(
    django_capture_on_commit_callbacks,
):
    # Found by `make loadtest`: while a curator's save was still uncommitted, another app
    # process read the old terms and cached them again, so the old label stayed for the
    # whole cache timeout. Cached figures now sit under the data version, which the save
    # raises in its own transaction: whatever was cached before it is never read again.
    from facilities import data_version, selectors
    from facilities.models import Term

    term = Term.objects.get(group="payment", code="MD")
    assert selectors.term_labels("payment")["MD"] == term.label  # cached, old version
    old_key = data_version.key()
    with django_capture_on_commit_callbacks(execute=True):
        term.label = "Medicaid (state plan)"
        term.save()
    assert data_version.key() != old_key
    assert selectors.term_labels("payment")["MD"] == "Medicaid (state plan)"


@pytest.mark.django_db
def test_a_rolled_back_term_edit_is_never_shown(
    django_capture_on_commit_callbacks,
):
    from django.db import transaction

    from facilities import selectors
    from facilities.models import Term

    term = Term.objects.get(group="payment", code="MD")
    old_label = term.label
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                term.label = "never committed"
                term.save()
                raise RuntimeError("the admin form failed later in the save")
        except RuntimeError:
            pass
    assert callbacks == []  # nothing to clear for a save that never happened
    assert selectors.term_labels("payment")["MD"] == old_label
