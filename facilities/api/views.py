"""Read-only API views. Filtering is search/filters.py's FacilityFilterSet, as on the pages."""

import zoneinfo
from datetime import UTC, date, datetime
from types import SimpleNamespace

from django.db.models import Count
from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .. import data_version, exports, rows, selectors
from .. import vocabulary as vocab
from ..models import TERM_FIELDS, Facility, ServiceLine
from ..search import params
from ..search.filters import FacilityFilterSet
from ..states import STATE_CHOICES, STATES
from . import schema  # noqa: F401  (registers the schema extensions)
from .auth import ApiKeyAuthentication
from .caching import Validators
from .errors import api_exception_handler
from .filtering import FacilityPagination, StrictFilterBackend
from .renderers import CSVRenderer, GeoJSONRenderer, StreamedRenderer, geojson_chunks
from .schema import FilteredSchema
from .serializers import (
    FacilityDetailSerializer,
    FacilityListSerializer,
    GeoJSONFeatureCollectionSerializer,
    ItemPage,
    ServiceLineSerializer,
    StatesSerializer,
    StateSummarySerializer,
    VocabulariesSerializer,
)
from .throttling import AnonymousRateThrottle, ApiKeyRateThrottle

JSON = schema.JSON


class ApiView(generics.GenericAPIView):
    """Shared by every endpoint: GET only, optional API key, throttled, JSON errors, ETags."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [AnonymousRateThrottle, ApiKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    http_method_names = ["get", "head", "options"]
    validators = None

    def get_exception_handler(self):
        return api_exception_handler

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # ?format= names no renderer of this view
            offered = [renderer.format for renderer in self.get_renderers()]
            raise ValidationError(
                {
                    "format": [f'Unknown format "{request.query_params.get("format")}".'],
                    "allowed": {"format": offered},
                }
            ) from None

    def not_modified(self, request):
        """Set this answer's ETag/Last-Modified; a 304 if the client already has it."""
        self.validators = Validators(request, request.accepted_media_type)
        return self.validators.not_modified(request)

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and (
            response.exception or isinstance(renderer, StreamedRenderer)
        ):
            # Errors (and OPTIONS metadata) are JSON whatever format was asked for.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSON
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.validators is not None and response.status_code == 200:
            self.validators.apply(response)
        return response

    def filtered(self, queryset):
        return self.filter_queryset(queryset)


LIST_DESCRIPTION = """
Published listings matching the filters, 20 a page (`page_size` up to 100).

Filters mean what they mean on the search page: several values of one parameter
are OR (`payment=MD&payment=MC`: Medicaid or Medicare), different parameters are
AND. Unlike the search page, nothing is assumed: without `level_of_care=OIT` you
get every level of care. Unknown parameters are ignored; a bad value of a known
one is a 400 naming the parameter and what it allows.

`near` (with optional `radius`, default 25 miles) keeps listings within that
distance, sorts them nearest first and fills in `distance_miles`.

A place may have two service lines, substance use and mental health treatment,
each with its own care, payment and populations. The filters of one search must
be met by the same line (`level_of_care=OIT&payment=MD`: a line offering IOP that
takes Medicaid); place facts (location, ownership, name, co-occurring) are the
place's. A list item is flat: its vocabularies are the union over its lines and
`iop` is the schedule of the line offering IOP. The detail
(`/api/v1/facilities/{id}/`) carries each line in `service_lines`.

`format=csv` and `format=geojson` return **every** matching listing in one
streamed file instead of a page.

Common searches:

* Every IOP in Mississippi that takes Medicaid:
  `/api/v1/facilities/?level_of_care=OIT&state=MS&payment=MD`
* The same as CSV: `/api/v1/facilities/?level_of_care=OIT&state=MS&payment=MD&format=csv`
* IOPs within 50 miles of ZIP 38655, nearest first:
  `/api/v1/facilities/?level_of_care=OIT&near=38655&radius=50`
* IOPs for veterans with evening sessions:
  `/api/v1/facilities/?level_of_care=OIT&population=VET&evening=true`
"""


def _terms(*codes):
    return [SimpleNamespace(code=code) for code in codes]


# A listing row (rows.LIST_COLUMNS, terms attached) for the documented example item: the
# item is made from it by the serializer itself, so the example has the item's shape.
EXAMPLE_ROW = {
    "id": 42,
    "slug": "magnolia-recovery-oxford-iop-oxford-ms",
    "name": "Magnolia Recovery",
    "program_name": "Oxford IOP",
    "street1": "100 Jackson Ave",
    "street2": "",
    "city": "Oxford",
    "state": "MS",
    "zip": "38655",
    "county": "Lafayette",
    "latitude": 34.3665,
    "longitude": -89.5192,
    "location_approximate": False,
    "distance_miles": 3.2,
    "phone": "662-555-0100",
    "intake_phone": "",
    "hotline": "",
    "website": "https://example.org/",
    "co_occurring": True,
    "hours_per_week_min": 9,
    "hours_per_week_max": 12,
    "sessions_per_week": 3,
    "session_length_minutes": 180,
    "duration_weeks": 8,
    "offers_daytime": False,
    "offers_evening": True,
    "offers_weekend": False,
    "offers_virtual": True,
    "transportation_assistance": False,
    "verified_at": date(2026, 3, 2),
    "updated_at": datetime(2026, 3, 2, 20, 4, 5, 123456, tzinfo=UTC),
    "source": "demo",
    "ownership__code": "PVTN",
    "ownership__label": "Private non-profit",
    "levels_of_care": _terms("OIT", "ORT"),
    "payment_options": _terms("PI", "MD", "SF"),  # in the vocabulary's order, as served
    "payment_assistance": _terms("SS"),
    "populations": _terms("VET"),
}
# One item: drf-spectacular wraps it in a page. URLs cannot be reversed while this module
# loads, so the example writes the listing's path itself.
LIST_ITEM_EXAMPLE = FacilityListSerializer.item(
    EXAMPLE_ROW,
    ItemPage(
        "https://iopfinder.example",
        zoneinfo.ZoneInfo("America/New_York"),
        lambda slug: f"/facilities/{slug}/",
    ),
)


def _labelled(field_name, codes):
    """[{code, label}] of the built-in vocabulary, for the documented detail."""
    labels = {entry[0]: entry[1] for entry in vocab.VOCABULARY[vocab.TERM_FIELD_GROUPS[field_name]]}
    return [{"code": code, "label": labels[code]} for code in codes]


# The example place's two lines (codes per vocabulary; the others empty): an IOP paid
# privately or by yourself beside regular outpatient care that also takes Medicaid.
EXAMPLE_LINES = {
    "SA": {
        "levels_of_care": ["OIT"],
        "payment_options": ["PI", "SF"],
        "payment_assistance": ["SS"],
        "populations": ["VET"],
    },
    "MH": {"levels_of_care": ["ORT"], "payment_options": ["PI", "MD", "SF"]},
}
# A line without an IOP schedule: nothing known, no sessions offered.
_NO_IOP = {
    name: False if isinstance(value, bool) else None
    for name, value in LIST_ITEM_EXAMPLE["iop"].items()
}


def _example_line(kind):
    values = {
        "kind": kind,
        "kind_label": ServiceLine.Kind(kind).label,
        **{name: _labelled(name, EXAMPLE_LINES[kind].get(name, ())) for name in TERM_FIELDS},
        "iop": LIST_ITEM_EXAMPLE["iop"] if kind == "SA" else _NO_IOP,
        "transportation_assistance": False,
    }
    return {name: values[name] for name in ServiceLineSerializer.Meta.fields}


def _example_detail():
    """The list item's example as a detail: labels, more contact detail, the lines."""
    lines = [_example_line(kind) for kind in EXAMPLE_LINES]
    values = {
        **LIST_ITEM_EXAMPLE,
        "state_name": "Mississippi",
        "county": EXAMPLE_ROW["county"],
        "hotline": "",
        "email": "",
        "description": "Evening groups three times a week.",
        "transportation_assistance": False,
        "service_lines": lines,
        # The flat fields: each line's terms once, in the vocabulary's order.
        **{
            name: [
                term
                for term in _labelled(name, [entry[0] for entry in vocab.VOCABULARY[group]])
                if any(term in line[name] for line in lines)
            ]
            for name, group in vocab.TERM_FIELD_GROUPS.items()
        },
    }
    return {name: values[name] for name in FacilityDetailSerializer.Meta.fields}


DETAIL_EXAMPLE = _example_detail()


@extend_schema(
    summary="Search listings",
    description=LIST_DESCRIPTION,
    parameters=[schema.FORMAT_PARAMETER],
    responses={
        (200, JSON): OpenApiResponse(
            FacilityListSerializer(many=True),
            examples=[OpenApiExample("IOPs near Oxford, MS", value=LIST_ITEM_EXAMPLE)],
        ),
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR,
            description="Every matching listing, streamed; vocabulary codes joined with ';' "
            "(the `format` parameter names the columns).",
        ),
        (200, "application/geo+json"): GeoJSONFeatureCollectionSerializer,
        **schema.NOT_MODIFIED,
        **schema.BAD_FILTER,
        (404, JSON): schema.error("The page is past the last one."),
        **schema.COMMON_ERRORS,
    },
)
class FacilityList(ApiView, generics.ListAPIView):
    serializer_class = FacilityListSerializer
    filter_backends = [StrictFilterBackend]
    filterset_class = FacilityFilterSet
    pagination_class = FacilityPagination
    renderer_classes = [JSONRenderer, CSVRenderer, GeoJSONRenderer]

    def get_queryset(self):
        return selectors.published_facilities()

    def list(self, request, *args, **kwargs):
        queryset = self.filtered(self.get_queryset())  # a bad filter is a 400 before anything
        not_modified = self.not_modified(request)
        if not_modified:
            return not_modified
        file_format = request.accepted_renderer.format
        if file_format == "csv":
            base_url = request.build_absolute_uri("/").rstrip("/")
            return self.streamed(
                exports.csv_lines(queryset, base_url), "text/csv; charset=utf-8", "csv"
            )
        if file_format == "geojson":
            serializer = self.get_serializer()
            chunks = geojson_chunks(queryset, serializer.to_representation)
            return self.streamed(chunks, "application/geo+json", "geojson")
        page = self.paginate_queryset(queryset)  # listing rows (selectors.CachedCountPaginator)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def streamed(self, chunks, content_type, extension):
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="facilities.{extension}"'
        patch_vary_headers(response, ["Accept"])
        self.validators.apply(response)
        return response


@extend_schema(
    summary="One listing",
    description="A published listing with everything known about it, codes with labels. "
    "`service_lines` gives each of its programs (substance use, mental health treatment) "
    "with its own care, payment and populations; the flat vocabularies are the union over "
    "them, as in a list item.",
    responses={
        (200, JSON): OpenApiResponse(
            FacilityDetailSerializer,
            examples=[OpenApiExample("A place with two programs", value=DETAIL_EXAMPLE)],
        ),
        **schema.NOT_MODIFIED,
        (404, JSON): schema.error("No published listing has this id."),
        **schema.COMMON_ERRORS,
    },
)
class FacilityDetail(ApiView, generics.RetrieveAPIView):
    serializer_class = FacilityDetailSerializer

    def get_queryset(self):
        return selectors.for_detail(selectors.published_facilities())

    def retrieve(self, request, *args, **kwargs):
        not_modified = self.not_modified(request)
        if not_modified:
            return not_modified
        found = rows.read_models(self.get_queryset().filter(pk=kwargs["pk"]))
        if not found:
            raise NotFound(f"No published listing has id {kwargs['pk']}.")
        return Response(self.get_serializer(found[0]).data)


def _group_parameters():
    """{vocabulary group: the facilities/ parameter taking its codes}."""
    return {param.group: param.name for param in params.PARAMS if param.kind == params.TERMS}


@extend_schema(
    summary="Vocabularies",
    description="Every code group with its codes, labels and descriptions, so nothing needs "
    "hard-coding. `parameter` is the facilities/ filter taking the group's codes.",
    responses={(200, JSON): VocabulariesSerializer, **schema.NOT_MODIFIED, **schema.COMMON_ERRORS},
)
class Vocabularies(ApiView):
    def get(self, request):
        not_modified = self.not_modified(request)
        if not_modified:
            return not_modified
        terms, parameters, fields = selectors.vocabulary(), _group_parameters(), vocab.GROUP_FIELDS
        groups = [
            {
                "group": group,
                "label": label,
                "parameter": parameters.get(group),
                "field": fields.get(group),
                "terms": [
                    {key: term[key] for key in ("code", "label", "description", "parent")}
                    for term in terms.get(group, [])
                ],
            }
            for group, label in vocab.GROUP_CHOICES
        ]
        return Response({"groups": groups})


def _state_links(request, code):
    facilities = reverse("api:facility-list") + f"?state={code}"
    summary = reverse("api:state-summary", args=[code])
    return request.build_absolute_uri(facilities), request.build_absolute_uri(summary)


@extend_schema(
    summary="States",
    description="Every state and territory with how many published listings match the "
    "filters (all listings without filters; `level_of_care=OIT` counts IOPs).",
    responses={
        (200, JSON): StatesSerializer,
        **schema.NOT_MODIFIED,
        **schema.BAD_FILTER,
        **schema.COMMON_ERRORS,
    },
)
class StateList(ApiView):
    schema = FilteredSchema()
    filter_backends = [StrictFilterBackend]
    filterset_class = FacilityFilterSet

    def get_queryset(self):
        return selectors.published_facilities()

    def get(self, request):
        matching = self.filtered(self.get_queryset())
        not_modified = self.not_modified(request)
        if not_modified:
            return not_modified
        counts = data_version.cached(
            "api-state-counts",
            lambda: dict(
                Facility.objects.filter(pk__in=matching.values("pk"))
                .order_by()
                .values_list("state")
                .annotate(count=Count("id"))
            ),
            sorted(request.query_params.lists()),
        )
        results = []
        for code, name in STATE_CHOICES:
            facilities_url, summary_url = _state_links(request, code)
            results.append(
                {
                    "code": code,
                    "name": name,
                    "facility_count": counts.get(code, 0),
                    "facilities_url": facilities_url,
                    "summary_url": summary_url,
                }
            )
        return Response({"results": results})


@extend_schema(
    summary="State summary",
    description="The state guide's figures for the state's published listings matching the "
    "filters: `?level_of_care=OIT` gives the IOP summary. FED counts VA, Defense and IHS "
    "facilities too; each facility counts once. The state in the path replaces any "
    "`state` parameter.",
    parameters=[
        OpenApiParameter(
            "state_code",
            str,
            OpenApiParameter.PATH,
            enum=sorted(STATES),
            description="Two-letter USPS code (case does not matter).",
        )
    ],
    responses={
        (200, JSON): StateSummarySerializer,
        **schema.NOT_MODIFIED,
        **schema.BAD_FILTER,
        (404, JSON): schema.error("Unknown state code."),
        **schema.COMMON_ERRORS,
    },
)
class StateSummary(ApiView):
    schema = FilteredSchema()
    filter_backends = [StrictFilterBackend]
    filterset_class = FacilityFilterSet
    ignored_filter_parameters = ("state",)

    def get_queryset(self):
        return selectors.published_facilities()

    def get(self, request, state_code):
        code = state_code.upper()
        if code not in STATES:
            raise NotFound({"detail": f'Unknown state "{state_code}".', "allowed": sorted(STATES)})
        matching = self.filtered(self.get_queryset().filter(state=code))
        not_modified = self.not_modified(request)
        if not_modified:
            return not_modified
        # Aggregates over a whole state: once per data version and set of filters.
        figures = data_version.cached(
            "api-state-summary",
            lambda: selectors.summary(
                Facility.objects.filter(pk__in=matching.values("pk")),
                line_conditions=self.line_conditions,
            ),
            code,
            sorted(
                (name, values)
                for name, values in request.query_params.lists()
                if name not in self.ignored_filter_parameters
            ),
        )
        return Response({"state": code, "state_name": STATES[code], **figures})


@extend_schema(exclude=True)
class ApiIndex(ApiView):
    def get(self, request):
        def url(name):
            return request.build_absolute_uri(reverse(name))

        return Response(
            {
                "facilities": url("api:facility-list"),
                "vocabularies": url("api:vocabularies"),
                "states": url("api:state-list"),
                "schema": url("api:schema"),
                "docs": url("api:docs"),
                "redoc": url("api:redoc"),
            }
        )
