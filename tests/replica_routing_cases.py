"""Run by tests/test_db_router.py in a child pytest with DATABASE_REPLICA_URL set.

Not collected by the main run (the file name does not start with test_): the
"replica" alias only exists when the settings are read with that variable. In
a test run the replica is a TEST MIRROR of the test database, so what is
written to the primary can be read back through the replica's own connection.
"""

import pytest
from django.contrib.auth.models import User
from django.db import connections, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from facilities.models import Facility
from finder.db_router import ReplicaReadsMiddleware, use_replica

# transaction=True: the test's writes are committed, so the replica connection sees them.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def make_facility():
    return Facility.objects.create(name="Hope Recovery", city="Jackson", state="MS", zip="39201")


def queries_on_each_alias(action):
    """Runs action as a page view would (replica allowed); counts queries per alias."""
    with (
        use_replica(),
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        result = action()
    return result, len(primary), len(replica)


def test_listing_reads_go_to_the_replica():
    facility = make_facility()
    name, on_primary, on_replica = queries_on_each_alias(
        lambda: Facility.objects.get(pk=facility.pk).name
    )
    assert name == "Hope Recovery"
    assert (on_primary, on_replica) == (0, 1)
    with use_replica():
        assert Facility.objects.all().db == "replica"


def test_the_data_version_and_a_pages_terms_are_read_where_the_listings_are():
    # Both are plain SQL (rows._read_lines, data_version): they must follow the
    # router too, or figures computed from the replica's listings are filed under the
    # primary's newer version.
    from facilities import data_version, rows

    facility = make_facility()
    _, on_primary, on_replica = queries_on_each_alias(data_version._read)
    assert (on_primary, on_replica) == (0, 1)
    found, on_primary, on_replica = queries_on_each_alias(
        lambda: rows._read_lines([facility.pk], ["levels_of_care"])
    )
    # (The terms and the version for their cache key come along, from the replica too.)
    assert found == {} and on_primary == 0 and on_replica >= 1


def test_reads_outside_a_page_view_stay_on_the_primary():
    # Imports, the shell, management commands: a replica read there could miss
    # a row written a moment ago and duplicate it.
    assert Facility.objects.all().db == "default"


def test_writes_go_to_the_primary_even_during_a_page_view():
    with (
        use_replica(),
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        facility = make_facility()
        facility.name = "Hope Recovery Center"
        facility.save()
    # The listing's own writes (history rows are written alongside, also to the primary).
    writes = [
        q["sql"].split()[0]
        for q in primary
        if q["sql"].split()[0] in ("INSERT", "UPDATE") and '"facilities_facility"' in q["sql"][:60]
    ]
    assert writes == ["INSERT", "UPDATE"]
    assert all(q["sql"].startswith("SELECT") for q in replica)
    assert router.db_for_write(Facility) == "default"


def test_users_and_sessions_are_read_from_the_primary():
    # A replica a little behind would forget a login made a moment ago.
    User.objects.create_user("curator")
    _, on_primary, on_replica = queries_on_each_alias(lambda: User.objects.get(username="curator"))
    assert (on_primary, on_replica) == (1, 0)


def test_reads_inside_a_transaction_stay_on_the_primary():
    with transaction.atomic():
        facility = make_facility()
        name, on_primary, on_replica = queries_on_each_alias(
            lambda: Facility.objects.get(pk=facility.pk).name
        )
    assert name == "Hope Recovery"
    assert on_replica == 0


def test_searches_read_from_the_replica_but_posts_and_admin_pages_from_the_primary():
    seen = []
    middleware = ReplicaReadsMiddleware(
        lambda request: seen.append(Facility.objects.all().db) or HttpResponse()
    )
    factory = RequestFactory()
    middleware(factory.get("/facilities/?q=jackson"))
    middleware(factory.post("/facilities/hope/report/"))
    middleware(factory.get("/admin/facilities/facility/1/change/"))
    assert seen == ["replica", "default", "default"]
    assert Facility.objects.all().db == "default"  # replica reads end with the request


def test_migrations_run_on_the_primary_only():
    assert router.allow_migrate("default", "facilities")
    assert not router.allow_migrate("replica", "facilities")
