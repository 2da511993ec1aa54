import base64
import hashlib
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group

from tests.subprocesses import PRODUCTION_ENV, run, run_script

STRICT_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
}


def csp_directives(header):
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def test_check_deploy_reports_nothing_under_production_variables():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_does_complain_without_production_variables():
    # Guards the test above: it must be the production variables that silence it.
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # no HTTPS redirect outside production


def test_production_without_secret_key_stops_with_a_clear_message():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


def test_production_without_allowed_hosts_stops_with_a_clear_message():
    env = {**PRODUCTION_ENV, "ALLOWED_HOSTS": ""}
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set when DJANGO_ENV=production" in result.stderr


def test_debug_is_refused_in_production():
    result = run(["manage.py", "check"], DEBUG="1", **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "DEBUG=1 is not allowed" in result.stderr


def test_without_production_variables_a_laptop_needs_nothing_set():
    values = run_script(
        "from django.conf import settings\n"
        "import json\n"
        "print(json.dumps([settings.DEBUG, bool(settings.SECRET_KEY), settings.PRODUCTION,"
        " settings.STORAGES['staticfiles']['BACKEND']]))"
    )
    assert values == [
        False,
        True,
        False,
        "django.contrib.staticfiles.storage.StaticFilesStorage",
    ]


def test_production_variables_turn_on_https_protections_and_hashed_static_files():
    values = run_script(
        "from django.conf import settings as s\n"
        "import json\n"
        "print(json.dumps({'redirect': s.SECURE_SSL_REDIRECT,"
        " 'proxy': list(s.SECURE_PROXY_SSL_HEADER),"
        " 'cookies': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],"
        " 'hsts': [s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD],"
        " 'static': s.STORAGES['staticfiles']['BACKEND'],"
        " 'trusted': s.CSRF_TRUSTED_ORIGINS, 'log': s.LOG_FORMAT}))",
        CSRF_TRUSTED_ORIGINS="https://iopfinder.example,https://www.iopfinder.example",
        SECURE_HSTS_SECONDS="600",
        **PRODUCTION_ENV,
    )
    assert values == {
        "redirect": True,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "cookies": [True, True],
        "hsts": [600, True, True],
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "trusted": ["https://iopfinder.example", "https://www.iopfinder.example"],
        "log": "json",
    }


def test_production_redirects_plain_http_but_not_the_health_probes():
    # Behind the proxy: X-Forwarded-Proto says whether the visitor used HTTPS.
    values = run_script(
        "from django.test import Client\n"
        "import json\n"
        "c = Client(HTTP_HOST='iopfinder.example')\n"
        "plain = c.get('/')\n"
        # The child has no migrated database: ask for a page that needs none (the static
        # 404 page), since the home page now reads the listings.
        "secure = c.get('/no-such-page/', HTTP_X_FORWARDED_PROTO='https')\n"
        "probe = Client(HTTP_HOST='10.0.0.7').get('/healthz')\n"
        "print(json.dumps({'plain': [plain.status_code, plain.get('Location')],"
        " 'hsts': secure.get('Strict-Transport-Security'),"
        " 'probe': [probe.status_code, probe.content.decode()]}))",
        # Rendering needs no collectstatic for this check.
        STATIC_MANIFEST="0",
        SECURE_HSTS_SECONDS="31536000",
        **PRODUCTION_ENV,
    )
    assert values["plain"] == [301, "https://iopfinder.example/"]
    assert values["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert values["probe"] == [200, "ok"]


@pytest.mark.django_db
def test_pages_carry_security_headers_and_a_csp_without_unsafe_inline(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "sha256-" not in csp
    assert csp_directives(csp) == STRICT_DIRECTIVES


def test_error_pages_carry_the_same_csp(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert csp_directives(response["Content-Security-Policy"]) == STRICT_DIRECTIVES


@pytest.mark.django_db
def test_admin_changelist_inline_style_is_allowed_by_its_hash_only(admin_client, monkeypatch):
    # admin/change_list.html prints one inline <style> when a changelist shows
    # no action bar; that block, and nothing else, is allowed on admin pages.
    monkeypatch.setattr(admin.site._registry[Group], "actions_on_top", False)
    monkeypatch.setattr(admin.site._registry[Group], "actions_on_bottom", False)
    response = admin_client.get("/admin/auth/group/")
    assert response.status_code == 200
    blocks = re.findall(r"<style>(.*?)</style>", response.content.decode(), re.DOTALL)
    assert len(blocks) == 1
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    style_src = csp_directives(response["Content-Security-Policy"])["style-src"]
    assert style_src == f"'self' 'sha256-{digest}'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_api_docs_views_get_only_what_swagger_ui_and_redoc_need(client, settings):
    settings.ROOT_URLCONF = "tests.urls"
    swagger = csp_directives(client.get("/api/docs/")["Content-Security-Policy"])
    redoc = csp_directives(client.get("/api/redoc/")["Content-Security-Policy"])
    assert swagger == {**STRICT_DIRECTIVES, "style-src": "'self' 'unsafe-inline'"}
    assert redoc == {
        **STRICT_DIRECTIVES,
        "style-src": "'self' 'unsafe-inline'",
        "worker-src": "blob:",
    }


@pytest.mark.browser
def test_csp_stops_an_injected_inline_script_in_the_browser(live_server, settings):
    from playwright.sync_api import sync_playwright

    settings.ROOT_URLCONF = "tests.urls"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            headless=True,
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            messages = []
            page.on("console", lambda message: messages.append(message.text))
            page.goto(live_server.url + "/csp-probe/")
            assert page.title() == "untouched"
            assert any("Content Security Policy" in text for text in messages), messages
            # The same markup without the header does run: the block above is CSP's doing.
            response = page.request.get(live_server.url + "/csp-probe/")
            blank = browser.new_page()
            blank.set_content(response.text())
            assert blank.title() == "script ran"
        finally:
            browser.close()
