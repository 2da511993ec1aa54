"""URLs used only by the tests: views that fail in the ways production must survive."""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import path

from finder.csp import redoc_csp, swagger_ui_csp
from finder.urls import urlpatterns as site_urlpatterns


def database_down(request):
    raise OperationalError("could not connect to server: Connection refused")


def database_connection_lost(request):
    raise InterfaceError("connection already closed")


def count_listings(request):
    # A real query, for runs where the database itself is unreachable.
    from facilities.models import Facility

    return HttpResponse(str(Facility.objects.count()))


def crash(request):
    raise ValueError("unexpected")


def report_that_crashes(request, slug):
    # Stands in for the report-a-problem form: an error message that echoes
    # what the visitor typed must still not reach the logs.
    raise ValueError(f"could not save report from {request.POST.get('email')}")


def inline_script_page(request):
    # What an injected script would look like: CSP must stop it running.
    return HttpResponse(
        "<!doctype html><html><head><title>untouched</title></head><body>"
        "<script>document.title = 'script ran'</script></body></html>"
    )


def api_docs_stand_in(request):
    return HttpResponse("<!doctype html><title>API docs</title>")


urlpatterns = [
    path("api/docs/", swagger_ui_csp(api_docs_stand_in)),
    path("api/redoc/", redoc_csp(api_docs_stand_in)),
    path("boom/", database_down),
    path("boom-interface/", database_connection_lost),
    path("api/boom/", database_down),
    path("count/", count_listings),
    path("api/count/", count_listings),
    path("crash/", crash),
    path("report/<slug:slug>/", report_that_crashes),
    path("csp-probe/", inline_script_page),
    *site_urlpatterns,
]

handler500 = "finder.middleware.server_error"
