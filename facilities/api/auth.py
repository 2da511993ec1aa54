"""Partner API keys, sent as `Authorization: Api-Key <key>`.

Keys are optional: without one a request is anonymous (and throttled harder).
A key that is sent but unknown, revoked or expired is an error rather than a
silent fall back to anonymous, so a partner learns at once that it stopped working.
"""

import re

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework_api_key.models import APIKey

KEYWORD = "Api-Key"
# prefix.secret as djangorestframework-api-key makes them (letters and digits).
_KEY_SHAPE = re.compile(r"^[A-Za-z0-9]{1,64}\.[A-Za-z0-9]{1,256}$")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        keyword, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        # Other schemes (a proxy's Basic auth) are not ours to judge.
        if keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        if not _KEY_SHAPE.match(key):
            raise exceptions.AuthenticationFailed(
                f'Malformed API key: send "Authorization: {KEYWORD} <prefix>.<secret>".'
            )
        api_key = APIKey.objects.filter(prefix=key.partition(".")[0]).first()
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return (AnonymousUser(), api_key)

    def authenticate_header(self, request):
        # Makes failures 401 with WWW-Authenticate rather than 403.
        return KEYWORD
