"""/api/...: version 1 of the partner API, its schema and docs; anything else is a JSON 404."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views
from .auth import ApiKeyAuthentication
from .errors import not_found
from .throttling import AnonymousRateThrottle, ApiKeyRateThrottle

app_name = "api"

# The schema is generated per request: throttle it like the data.
served = {
    "authentication_classes": [ApiKeyAuthentication],
    "throttle_classes": [AnonymousRateThrottle, ApiKeyRateThrottle],
}

urlpatterns = [
    path("v1/", views.ApiIndex.as_view(), name="index"),
    path("v1/facilities/", views.FacilityList.as_view(), name="facility-list"),
    # At most 18 digits: a longer id cannot exist and would overflow the database's integer.
    re_path(
        r"^v1/facilities/(?P<pk>[0-9]{1,18})/$",
        views.FacilityDetail.as_view(),
        name="facility-detail",
    ),
    path("v1/vocabularies/", views.Vocabularies.as_view(), name="vocabularies"),
    path("v1/states/", views.StateList.as_view(), name="state-list"),
    re_path(
        r"^v1/states/(?P<state_code>[A-Za-z]{2})/summary/$",
        views.StateSummary.as_view(),
        name="state-summary",
    ),
    path("v1/schema/", SpectacularAPIView.as_view(**served), name="schema"),
    path("v1/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("v1/redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^(?P<path>[\s\S]*)$", not_found),
]
