"""Who may get into admin: the address failed logins count against, and the lockout page."""

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render


def client_ip(request):
    """The client's address for the login lockout (settings.AXES_CLIENT_IP_CALLABLE).

    Each trusted proxy appends the address it saw to X-Forwarded-For, so behind N
    of them the Nth entry from the right is the client; anything further left was
    written by the client and could be forged to dodge the lockout.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
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
