import os
import uuid

import pytest
from django.core.cache import caches

# --- Parallel runs (pytest-xdist, `make test` uses 2 workers) -------------------------------
# Each worker is its own process with its own test database (pytest-django adds _gw0, _gw1
# to PostgreSQL's name; SQLite is in memory) and its own locmem cache. Only a Redis cache
# (REDIS_URL set for the run) is shared: there cache.clear() empties the whole Redis
# database, under the other worker's (or another test run's) feet.


def pytest_configure(config):
    from django.conf import settings

    if settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.redis.RedisCache":
        return
    from django.test import override_settings

    # This run's and this worker's own keys, which _fresh_cache deletes instead of flushing.
    worker = getattr(config, "workerinput", {})
    run = worker.get("testrunuid") or uuid.uuid4().hex
    prefix = f"iop-tests-{run[:12]}-{worker.get('workerid', 'main')}"
    cache_settings = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    override_settings(CACHES=cache_settings).enable()  # resets the cache connections


def clear_cache():
    """Empty the cache: with Redis only this run's keys (see pytest_configure)."""
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if isinstance(backend, RedisCache) and backend.key_prefix:
        client = backend._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{backend.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        backend.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Cached vocabularies and summaries must not leak between tests.
    from facilities import data_version

    clear_cache()
    data_version.clear_process_cache()
    yield
    clear_cache()
    data_version.clear_process_cache()


@pytest.fixture
def terms(db):
    """Look up a vocabulary term: terms("payment", "MD")."""
    from facilities.models import Term

    def get(group, code):
        return Term.objects.get(group=group, code=code)

    return get


@pytest.fixture
def curator(db):
    """A staff user whose only powers come from the Curators group."""
    from django.contrib.auth.models import Group, User

    from facilities.permissions import CURATORS_GROUP

    user = User.objects.create_user("casey", "casey@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    return user


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def superuser_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    return client


# --- Browser tests (marker `browser`): Playwright driving Debian's Chromium. ---------------
# Debian's Chromium; CHROMIUM=/elsewhere only to check how a missing browser is handled.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# How many browser tests this run left out (no Chromium), for the banner.
BROWSER_LEFT_OUT = pytest.StashKey[int]()


def chromium_available():
    return os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """No Chromium: browser tests fail under REQUIRE_BROWSER=1, else are left out, loudly."""
    browser = [item for item in items if item.get_closest_marker("browser")]
    for item in browser:
        # `--dist loadgroup` (make test) runs them all on one worker: one Chromium and one
        # live server at a time on two cores, and the module's browser is launched once.
        item.add_marker(pytest.mark.xdist_group("browser"))
    if not browser or chromium_available() or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    items[:] = [item for item in items if not item.get_closest_marker("browser")]
    config.hook.pytest_deselected(items=browser)
    config.stash[BROWSER_LEFT_OUT] = len(browser)
    if hasattr(config, "workeroutput"):
        # An xdist worker: its output is not shown; the controller prints the banner.
        config.workeroutput["browser_tests_left_out"] = len(browser)
    else:
        write_browser_banner(config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: a worker finished; did it leave browser tests out?"""
    left_out = getattr(node, "workeroutput", {}).get("browser_tests_left_out", 0)
    config = node.config
    config.stash[BROWSER_LEFT_OUT] = max(config.stash.get(BROWSER_LEFT_OUT, 0), left_out)


def pytest_terminal_summary(terminalreporter, config):
    # Again at the end, next to the result line (and the only place it shows under xdist).
    if not hasattr(config, "workeroutput"):
        write_browser_banner(config)


def write_browser_banner(config):
    left_out = config.stash.get(BROWSER_LEFT_OUT, 0)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if not left_out or not reporter:
        return
    message = (
        f"!! {CHROMIUM} not found: {left_out} BROWSER TESTS LEFT OUT. "
        "Install chromium (make browser-deps); CI sets REQUIRE_BROWSER=1 and fails instead. !!"
    )
    reporter.write_line("!" * len(message), red=True, bold=True)
    reporter.write_line(message, red=True, bold=True)
    reporter.write_line("!" * len(message), red=True, bold=True)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright's loop must be gone before other modules run
    (a second sync_playwright() in the same thread, or a plain ORM call, would fail)."""
    if not chromium_available():
        pytest.fail(f"{CHROMIUM} is missing and REQUIRE_BROWSER=1: the browser tests must run.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async-safety check must not stop them. Only while the
    # browser runs: subprocesses started by other tests (check --deploy) must not inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


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
