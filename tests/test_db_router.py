import os

from django.conf import settings
from django.db import router

from facilities.models import Facility
from finder.db_router import PrimaryReplicaRouter
from tests.subprocesses import BASE_DIR, run


def test_without_a_replica_there_is_no_alias_and_reads_go_to_default():
    assert "replica" not in settings.DATABASES
    assert router.db_for_read(Facility) == "default"
    assert Facility.objects.all().db == "default"
    # Even if installed by hand, the router falls back to the primary.
    assert PrimaryReplicaRouter().db_for_read(Facility) == "default"


def test_with_a_replica_reads_go_to_it_and_writes_to_the_primary():
    # A child pytest reads the settings with DATABASE_REPLICA_URL set: the replica
    # is the same server here, declared as a TEST MIRROR of the test database.
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    test_name = os.environ.get("TEST_DATABASE_NAME")
    env = {"DATABASE_URL": database_url, "DATABASE_REPLICA_URL": database_url}
    if test_name:
        env["TEST_DATABASE_NAME"] = f"{test_name}_replica"  # the parent run holds its own
    elif database_url.startswith("postgres"):
        env["TEST_DATABASE_NAME"] = "test_iop_finder_replica"
    result = run(
        [
            "-m",
            "pytest",
            "tests/replica_routing_cases.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--create-db",
        ],
        timeout=300,
        **env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "8 passed" in output
