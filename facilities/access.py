"""Who is asking, and who may get into admin: the client's address and the lockout page.

client_ip is the one rule for the client's address behind the site's reverse proxies
(settings.TRUSTED_PROXY_COUNT). The admin lockout, the report-a-problem limit and the
API's anonymous throttle all count by it, so none can be dodged where another holds.
"""

import ipaddress

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind N trusted proxies the one they saw.

    Each trusted proxy appends the address it saw to X-Forwarded-For, so behind N of
    them the Nth entry from the right is the client; anything further left was written
    by the client and could be forged. A header too short for N, or an empty or
    malformed entry in that place, falls back to REMOTE_ADDR: the request did not come
    the way the proxies send it, so nothing in the header can be trusted. Never raises.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        # Empty entries are kept, not dropped: dropping them would shift the count left
        # onto entries the client wrote.
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= count:
            try:
                return str(ipaddress.ip_address(hops[-count].strip()))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (settings.AXES_LOCKOUT_CALLABLE)."""
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {
        **admin.site.each_context(request),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": minutes,
    }
    return render(request, "admin/locked_out.html", context, status=429)
