"""WSGI entry point for the IOP finder."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finder.settings")

application = get_wsgi_application()

# A server loads the offline ZIP and city tables at start, not on its first "near" search.
from facilities import geo  # noqa: E402

geo.warm()

# Everything loaded so far (Django, the URL map, 42,000 ZIPs, 30,000 cities) lives as long
# as the process: keep it out of the garbage collector's full passes, which otherwise walk
# it all every few hundred requests and show as latency spikes.
import gc  # noqa: E402

gc.freeze()
