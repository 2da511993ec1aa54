import os

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Cached vocabularies and summaries must not leak between tests.
    cache.clear()
    yield
    cache.clear()


# --- Browser tests (marker `browser`): Playwright driving Debian's Chromium. ---------------
# Debian's Chromium; CHROMIUM=/elsewhere only to check how a missing browser is handled.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def chromium_available():
    return os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config, items):
    """No Chromium: browser tests fail under REQUIRE_BROWSER=1, else are left out, loudly."""
    if chromium_available() or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    browser = [item for item in items if item.get_closest_marker("browser")]
    if not browser:
        return
    items[:] = [item for item in items if not item.get_closest_marker("browser")]
    config.hook.pytest_deselected(items=browser)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"!! {CHROMIUM} not found: {len(browser)} BROWSER TESTS LEFT OUT. "
        "Install chromium (make browser-deps); CI sets REQUIRE_BROWSER=1 and fails instead. !!"
    )
    if reporter:
        reporter.write_line("!" * len(message), red=True, bold=True)
        reporter.write_line(message, red=True, bold=True)
        reporter.write_line("!" * len(message), red=True, bold=True)


@pytest.fixture(scope="session")
def browser():
    if not chromium_available():
        pytest.fail(f"{CHROMIUM} is missing and REQUIRE_BROWSER=1: the browser tests must run.")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety check must not stop them.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def live_vocabulary(live_server):
    """live_server tests run in a flushed transactional database: put the vocabulary back."""
    from facilities.models import Term
    from facilities.vocabulary import sync_vocabulary

    if not Term.objects.exists():
        sync_vocabulary(Term)


@pytest.fixture
def page(browser, live_server, live_vocabulary):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
