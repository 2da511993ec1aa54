"""Request rates: anonymous callers by client address, partners by API key.

Rates come from settings (API_ANON_RATE, API_KEY_RATE, set by environment
variables) when a request is checked, so a test or a deploy can change them.
Counts live in Django's cache: use a shared cache (Redis) when several
processes serve the API, or each process counts on its own.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from ..access import client_ip


class AnonymousRateThrottle(SimpleRateThrottle):
    scope = "anon"

    def get_rate(self):
        return settings.API_ANON_RATE

    def get_ident(self, request):
        # The site's one rule (TRUSTED_PROXY_COUNT), not DRF's NUM_PROXIES.
        return client_ip(request)

    def get_cache_key(self, request, view):
        if request.auth is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self):
        return settings.API_KEY_RATE

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
