"""Admin brute-force protection (django-axes): repeated failed logins lock a username out."""

import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

LOGIN = reverse("admin:login")
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Dozens of logins per test: the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    User.objects.create_user("casey", password=PASSWORD, is_staff=True)
    User.objects.create_user("nora", password=PASSWORD, is_staff=True)


def log_in(client, username, password, address="203.0.113.7"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def fail(client, times, username="casey", address="203.0.113.7"):
    for _ in range(times):
        response = log_in(client, username, "wrong", address)
    return response


def signed_in(client):
    return SESSION_KEY in client.session


def test_right_password_works_before_the_limit(client, staff, settings):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    response = log_in(client, "casey", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_failure_limit_locks_out_even_the_right_password(client, staff, settings, caplog):
    assert settings.AXES_FAILURE_LIMIT == 5  # the default when AXES_FAILURE_LIMIT is unset
    fail(client, 4)
    with caplog.at_level(logging.WARNING, logger="axes"):
        response = fail(client, 1)
    assert response.status_code == 429
    assert "Locking out" in caplog.text  # the lockout is logged

    response = log_in(client, "casey", PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Sign-in paused" in page
    assert "5 failed sign-in attempts" in page
    assert "paused for 15 minutes" in page
    assert "<form" not in page  # no login form to keep guessing in

    attempt = AccessAttempt.objects.get(username="casey")
    assert attempt.failures_since_start >= 5
    assert attempt.ip_address == "203.0.113.7"


def test_lockout_is_per_username_and_address(client, staff, settings):
    fail(client, settings.AXES_FAILURE_LIMIT)
    assert log_in(client, "casey", PASSWORD).status_code == 429
    # Another curator on the same network signs in...
    assert log_in(Client(), "nora", PASSWORD).status_code == 302
    # ...and so does casey from elsewhere: guessing cannot lock a curator out everywhere.
    other_place = Client()
    assert log_in(other_place, "casey", PASSWORD, address="198.51.100.20").status_code == 302
    assert signed_in(other_place)


@pytest.mark.parametrize("cooloff_minutes, locked_after_20_minutes", [(15, False), (60, True)])
def test_cool_off_is_configurable(
    client, staff, settings, cooloff_minutes, locked_after_20_minutes
):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=cooloff_minutes)
    fail(client, settings.AXES_FAILURE_LIMIT)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=20))

    response = log_in(client, "casey", PASSWORD)
    assert (response.status_code == 429) is locked_after_20_minutes
    assert signed_in(client) is not locked_after_20_minutes


@override_settings(AXES_FAILURE_LIMIT=2)
def test_failure_limit_is_a_setting(client, staff):
    fail(client, 2)
    assert log_in(client, "casey", PASSWORD).status_code == 429


def test_limits_come_from_the_environment():
    env = {**os.environ, "AXES_FAILURE_LIMIT": "8", "AXES_COOLOFF_MINUTES": "30"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = (
        "from finder import settings as s;"
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["8", "1800"]


def test_signing_in_resets_the_count(client, staff, settings):
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "casey", PASSWORD).status_code == 302
    client.logout()
    fail(client, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "casey", PASSWORD).status_code == 302


def test_test_helpers_still_sign_in(admin_client, curator_client):
    # force_login (used by these fixtures) does not go through authenticate().
    assert admin_client.get(reverse("admin:index")).status_code == 200
    assert curator_client.get(reverse("admin:index")).status_code == 200
