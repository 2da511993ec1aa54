import json

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client, RequestFactory

from finder.middleware import server_error
from finder.settings import database_from_url
from tests.subprocesses import run_script

HELPLINES = ("988", "1-800-662-4357")

# Nothing listens on port 1: the connection is refused at once, like a stopped server.
UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/none"


def test_healthz_answers_ok_without_touching_the_database(client):
    # No django_db mark: any query here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_healthz_answers_for_any_host_header(client):
    # Load balancers probe with the server's IP, which is not in ALLOWED_HOSTS.
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_reports_database_and_migrations_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "migrations": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_unapplied(client):
    loader = MigrationLoader(connection)
    latest = max(name for app, name in loader.graph.leaf_nodes() if app == "facilities")
    # Rolled back with the test's transaction.
    MigrationRecorder(connection).record_unapplied("facilities", latest)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "migrations": "pending"}


def test_with_the_database_unreachable_readyz_pages_and_api_answer_503_fast():
    code = """
import json, time
from django.conf import settings
from django.test import Client, override_settings

started = time.perf_counter()
client = Client(raise_request_exception=False)
ready = client.get("/readyz")
with override_settings(ROOT_URLCONF="tests.urls"):
    page = client.get("/count/")
    api = client.get("/api/count/")
print(json.dumps({
    "options": settings.DATABASES["default"]["OPTIONS"],
    "ready": [ready.status_code, ready.json()],
    "page": [page.status_code, page["Retry-After"], page.content.decode()],
    "api": [api.status_code, api.get("Retry-After"), api.content.decode()],
    "seconds": time.perf_counter() - started,
}))
"""
    values = run_script(
        code, DATABASE_URL=UNREACHABLE_DATABASE, DB_CONNECT_TIMEOUT="2", LOG_FORMAT="json"
    )
    assert values["options"] == {"connect_timeout": 2, "options": "-c statement_timeout=5000"}
    assert values["ready"] == [503, {"database": "unavailable", "migrations": "unknown"}]
    status, retry_after, html = values["page"]
    assert (status, retry_after) == (503, "10")
    assert "temporarily unavailable" in html
    assert all(number in html for number in HELPLINES)
    assert values["api"][:2] == [503, "10"]
    assert "temporarily unavailable" in json.loads(values["api"][2])["detail"]
    assert values["seconds"] < 10


@pytest.mark.django_db
def test_a_page_whose_database_is_down_answers_503_with_the_helplines(client, settings):
    settings.ROOT_URLCONF = "tests.urls"
    for path in ("/boom/", "/boom-interface/"):
        response = client.get(path)
        assert response.status_code == 503
        assert response["Retry-After"] == "10"
        assert response["Content-Type"].startswith("text/html")
        body = response.content.decode()
        assert "The finder is temporarily unavailable" in body
        assert 'href="tel:988"' in body
        assert 'href="tel:18006624357"' in body


@pytest.mark.django_db
def test_in_debug_a_database_error_is_left_to_the_debug_page(client, settings):
    settings.ROOT_URLCONF = "tests.urls"
    settings.DEBUG = True
    with pytest.raises(OperationalError):
        client.get("/boom/")


@pytest.mark.django_db
def test_an_api_call_whose_database_is_down_answers_503_json(client, settings):
    settings.ROOT_URLCONF = "tests.urls"
    response = client.get("/api/boom/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert set(response.json()) == {"detail"}


def test_database_errors_raised_outside_views_also_become_503():
    # handler500 sees errors from middleware (a session save...) that a view's
    # process_exception never does.
    request = RequestFactory().get("/facilities/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert "1-800-662-4357" in response.content.decode()


def test_other_errors_outside_views_stay_500_with_the_helplines():
    request = RequestFactory().get("/facilities/")
    try:
        raise ValueError("unexpected")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
    body = response.content.decode()
    assert all(number in body for number in HELPLINES)
    assert 'href="/"' in body


@pytest.mark.django_db
def test_unexpected_errors_show_the_500_page_with_helplines_and_a_way_home(settings):
    settings.ROOT_URLCONF = "tests.urls"
    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert all(number in body for number in HELPLINES)
    assert 'href="/"' in body


@pytest.mark.django_db
def test_missing_pages_show_the_404_page_with_helplines_and_a_way_home(client):
    response = client.get("/facilities/no-such-program-anywhere/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We couldn't find that page" in body
    assert all(number in body for number in HELPLINES)
    assert 'href="/"' in body


def test_postgresql_connections_get_connect_and_statement_timeouts(monkeypatch):
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "4")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "2500")
    database = database_from_url("postgres://finder@db.internal:5432/finder")
    assert database["OPTIONS"] == {"connect_timeout": 4, "options": "-c statement_timeout=2500"}
    assert database["CONN_HEALTH_CHECKS"] is True
    # SQLite takes neither option (it would refuse to connect with them).
    assert not database_from_url("sqlite:///tmp/x.sqlite3").get("OPTIONS")


@pytest.mark.django_db
def test_the_live_database_connection_carries_the_timeouts():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "5s"
    else:
        assert not connection.settings_dict.get("OPTIONS")
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/facilities/?state=MS", "/api/v1/states/MS/summary/", "/api/v1/states/"]
)
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("terminating connection due to administrator command"),
        InterfaceError("connection already closed"),
    ],
)
def test_real_api_endpoints_answer_503_not_500_while_the_database_restarts(
    client, monkeypatch, path, error
):
    # Found by `make loadtest`: the API's own exception handler turned every database
    # error into a 500 before the 503 middleware could see it.
    from facilities import selectors

    def database_gone():
        raise error

    monkeypatch.setattr(selectors, "published_facilities", database_gone)
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "temporarily unavailable" in response.json()["detail"]
