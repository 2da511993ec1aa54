import io
import json
import logging

import pytest
from django.test import Client

from finder.logs import JsonFormatter
from tests.subprocesses import run_script

# What a visitor might type into the report-a-problem form.
PERSONAL = {
    "email": "maria.lopez@example.org",
    "phone": "601-555-0142",
    "message": "my son was turned away on tuesday",
}
QUERY_SECRET = "near=39201-private-address"


@pytest.fixture
def json_log():
    """Everything the site logs during a test, formatted as production would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("django", "")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def request_lines(stream):
    return [line for line in lines(stream) if line["logger"] == "finder.request"]


@pytest.mark.django_db
def test_each_request_logs_one_json_line_with_status_and_duration(client, json_log):
    response = client.get("/?" + QUERY_SECRET)
    assert response.status_code == 200
    (line,) = request_lines(json_log)
    assert line["method"] == "GET"
    assert line["path"] == "/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response["X-Request-ID"]
    assert line["level"] == "INFO"
    assert QUERY_SECRET not in json_log.getvalue()


@pytest.mark.django_db
def test_two_requests_give_two_lines_with_distinct_ids(client, json_log):
    client.get("/healthz")
    client.get("/no-such-page/")
    first, second = request_lines(json_log)
    assert (first["status"], second["status"]) == (200, 404)
    assert first["request_id"] != second["request_id"]


def test_a_proxy_request_id_is_kept_and_junk_is_replaced(client, json_log):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c")
    junk = client.get("/healthz", HTTP_X_REQUEST_ID='x" forged=1 ' + "a" * 80)
    assert kept["X-Request-ID"] == "lb-7f3a9c"
    assert junk["X-Request-ID"] != 'x" forged=1 ' + "a" * 80
    assert len(junk["X-Request-ID"]) == 32
    assert "forged" not in json_log.getvalue()


@pytest.mark.django_db
def test_a_crashing_report_form_logs_context_but_no_form_data(settings, json_log):
    settings.ROOT_URLCONF = "tests.urls"
    client = Client(raise_request_exception=False)
    response = client.post("/report/hope-recovery/?" + QUERY_SECRET, PERSONAL)
    assert response.status_code == 500
    output = json_log.getvalue()
    for value in [*PERSONAL.values(), QUERY_SECRET]:
        assert value not in output
    (error,) = [line for line in lines(json_log) if line["level"] == "ERROR"]
    assert error["path"] == "/report/hope-recovery/"
    assert error["method"] == "POST"
    assert error["status"] == 500
    assert error["exception_type"] == "ValueError"
    assert "report_that_crashes" in error["stack"]  # where it broke, not what was typed
    assert error["request_id"] == response["X-Request-ID"]
    (line,) = request_lines(json_log)
    assert line["path"] == "/report/hope-recovery/" and line["status"] == 500


@pytest.mark.django_db
def test_a_database_outage_is_logged_with_its_exception_type(settings, client, json_log):
    settings.ROOT_URLCONF = "tests.urls"
    client.get("/boom/")
    (warning,) = [line for line in lines(json_log) if line["logger"] == "finder.errors"]
    assert warning["status"] == 503
    assert warning["exception_type"] == "OperationalError"
    assert warning["path"] == "/boom/"


def test_production_logs_json_to_stderr_and_text_is_available():
    code = """
import json, logging
from django.conf import settings
handler = logging.getLogger().handlers[0]
print(json.dumps([settings.LOG_FORMAT, type(handler.formatter).__name__]))
"""
    production = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "k" * 20 + "q7Z2mXv9Lp4Rt8Ws1Yb6Nc3Hd5Jf0Ga",
        "ALLOWED_HOSTS": "iopfinder.example",
    }
    assert run_script(code, **production) == ["json", "JsonFormatter"]
    assert run_script(code, **production, LOG_FORMAT="text") == ["text", "Formatter"]
    assert run_script(code) == ["text", "Formatter"]
