"""The client's address (facilities.access.client_ip): one rule behind TRUSTED_PROXY_COUNT.

The admin lockout, the report-a-problem limit and the API's anonymous throttle all count
by it: behind one or two proxies each counts the same real client, and a client that
forges the left-most X-Forwarded-For entry dodges none of them.
"""

import ipaddress

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from facilities.access import client_ip
from facilities.forms import REPORTS_PER_HOUR

from . import subprocesses
from .factories import make_facility

SOCKET = "10.0.0.2"  # REMOTE_ADDR of the unit tests' requests


def request_with(forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=SOCKET, **extra)


# --- The rule -------------------------------------------------------------------------


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    # A client forging the header gets no fresh address per attempt.
    assert client_ip(request_with("198.51.100.1")) == SOCKET


def test_behind_one_proxy_the_address_it_saw_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_with("198.51.100.1, 203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_with("203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_with("198.51.100.1, 203.0.113.7, 10.0.0.9")) == "203.0.113.7"


def test_missing_header_falls_back_to_the_socket_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_with()) == SOCKET


def test_ipv6_and_spaces(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_with(" 2001:DB8::7 ,10.0.0.9")) == "2001:db8::7"


@pytest.mark.parametrize(
    "forwarded",
    [
        "",
        "203.0.113.7",  # fewer hops than proxies: it did not come through both
        "198.51.100.1, , 10.0.0.9",  # an empty entry is not skipped onto the client's own
        ",",
        ", , ,",
        "unknown, 10.0.0.9",
        "203.0.113.7:5123, 10.0.0.9",  # a port: not an address
        "999.0.113.7, 10.0.0.9",
        "<script>alert(1)</script>, 10.0.0.9",
        "203.0.113.7 198.51.100.1, 10.0.0.9",
        "\x00\xff\u2028, 10.0.0.9",
    ],
)
def test_a_malformed_header_falls_back_to_the_socket_address(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_with(forwarded)) == SOCKET


@given(forwarded=st.text(max_size=80), count=st.integers(0, 3))
def test_any_header_gives_an_address_and_never_raises(forwarded, count):
    with override_settings(TRUSTED_PROXY_COUNT=count):
        address = client_ip(request_with(forwarded))
    assert address == SOCKET or ipaddress.ip_address(address)


# --- Every consumer counts the same client ----------------------------------------------

CLIENT = "203.0.113.7"
NEIGHBOUR = "203.0.113.99"  # another client behind the same proxies
PROXIES = ["10.0.0.1", "10.0.0.2"]  # the first proxy the client reaches, then the next


def through_proxies(count, client, forged=None):
    """The META of a request from `client` that came through `count` proxies.

    The client may send an X-Forwarded-For of its own (`forged`); each proxy appends
    the address it saw, and the last one's address is the socket's.
    """
    hops = [client, *PROXIES[: count - 1]]
    if forged:
        hops.insert(0, forged)
    return {"REMOTE_ADDR": PROXIES[count - 1], "HTTP_X_FORWARDED_FOR": ", ".join(hops)}


def forged(attempt):
    """A fresh address the client claims on each attempt, hoping to be counted anew."""
    return f"198.51.100.{attempt + 1}"


@pytest.fixture(params=[1, 2], ids=["one proxy", "two proxies"])
def proxies(request, settings):
    settings.TRUSTED_PROXY_COUNT = request.param
    return request.param


def test_the_admin_lockout(client, settings, proxies, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("casey", password="right", is_staff=True)
    login = reverse("admin:login")

    def log_in(password, meta):
        data = {"username": "casey", "password": password, "next": "/admin/"}
        return client.post(login, data, **meta).status_code

    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        assert log_in("wrong", through_proxies(proxies, CLIENT, forged(attempt))) == 200
    assert log_in("wrong", through_proxies(proxies, CLIENT, forged(limit))) == 429
    assert log_in("right", through_proxies(proxies, CLIENT, forged(limit + 1))) == 429
    assert AccessAttempt.objects.get().ip_address == CLIENT
    # Not the proxy's address: the same curator elsewhere still signs in.
    assert log_in("right", through_proxies(proxies, NEIGHBOUR)) == 302


def test_the_report_limit(client, proxies, db):
    url = f"/facilities/{make_facility(name='Harbor').slug}/report/"
    report = {"category": "phone", "message": "The number rings out.", "contact": ""}
    for attempt in range(REPORTS_PER_HOUR):
        meta = through_proxies(proxies, CLIENT, forged(attempt))
        assert client.post(url, report, **meta).status_code == 302
    meta = through_proxies(proxies, CLIENT, forged(REPORTS_PER_HOUR))
    assert client.post(url, report, **meta).status_code == 429
    assert Client().post(url, report, **through_proxies(proxies, NEIGHBOUR)).status_code == 302


def test_the_api_throttle(client, settings, proxies, db):
    settings.API_ANON_RATE = "2/min"

    def read(meta):
        return client.get("/api/v1/facilities/", **meta).status_code

    for attempt in range(2):
        assert read(through_proxies(proxies, CLIENT, forged(attempt))) == 200
    assert read(through_proxies(proxies, CLIENT, forged(2))) == 429
    assert read(through_proxies(proxies, NEIGHBOUR)) == 200


# --- The one setting ------------------------------------------------------------------


def test_the_proxy_count_comes_from_the_environment():
    code = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
    assert subprocesses.run_script(code, TRUSTED_PROXY_COUNT="2") == 2


def test_the_old_api_proxy_setting_is_refused_not_ignored():
    # Ignored, it would leave the API counting every caller behind the proxy as one.
    result = subprocesses.run(["-c", "import finder.settings"], API_NUM_PROXIES="1")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT" in result.stderr
