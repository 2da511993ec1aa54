"""WSGI entry point for the IOP finder."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finder.settings")

application = get_wsgi_application()

# A server loads the offline ZIP and city tables at start, not on its first "near" search.
from facilities import geo  # noqa: E402

geo.warm()
