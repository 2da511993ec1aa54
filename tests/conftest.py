import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Cached vocabularies and summaries must not leak between tests.
    cache.clear()
    yield
    cache.clear()
