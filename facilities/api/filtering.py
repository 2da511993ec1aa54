"""Strict query parameters: a bad filter or page size is a 400 that says what is allowed.

The filters themselves are search/filters.py's FacilityFilterSet, shared with
the pages; what each parameter accepts is its row in search/params.py; this
module only turns validation errors into API answers.
"""

import functools

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from .. import selectors
from ..search import params

PLACE_HELP = 'a ZIP code, "City, ST", "City ST", a city name, or "lat,lng"'


def allowed_values(name, filterset=None):
    """What a search parameter accepts, for error bodies: a list of codes or a sentence."""
    param = params.BY_NAME[name]
    if param.kind == params.TERMS:
        return [code for code, _ in selectors.term_choices(param.group)]
    if param.kind in (params.CODES, params.CHOICE):
        return [code for code, _ in param.choices]
    if param.kind == params.BOOLEAN:
        return ["true", "false"]
    if param.kind == params.NUMBER:
        text = f"a number from {param.min_value} to {param.max_value}"
        if name == "radius":
            text += ", with `near`"
        return text
    if param.kind == params.PLACE:
        suggestions = getattr(getattr(filterset, "form", None), "near_suggestions", None)
        return {"forms": PLACE_HELP, "suggestions": suggestions or []}
    return f"text of at most {param.max_length} characters"


def filter_error_body(filterset):
    """{"param": ["message", ...], ..., "allowed": {"param": ...}} for an invalid filterset."""
    body = {
        name: [str(message) for message in messages] for name, messages in filterset.errors.items()
    }
    body["allowed"] = {
        name: allowed_values(name, filterset) for name in filterset.errors if name in params.BY_NAME
    }
    return body


class StrictFilterBackend(DjangoFilterBackend):
    """FacilityFilterSet on request.query_params; unknown parameters are ignored."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        ignored = getattr(view, "ignored_filter_parameters", ())
        if ignored:
            data = kwargs["data"].copy()
            for name in ignored:
                data.pop(name, None)
            kwargs["data"] = data
        return kwargs

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise ValidationError(filter_error_body(filterset))
        queryset = filterset.qs
        # What one service line must meet (search/filters.py), for the state summary's counts.
        view.line_conditions = filterset.line_conditions
        return queryset


class FacilityPagination(PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    invalid_page_message = 'Invalid page "{page_number}": {message}.'

    def paginate_queryset(self, queryset, request, view=None):
        # The count of a search is cached per data version (selectors.CachedCountPaginator).
        search = ("api", selectors.search_key(request.query_params, ("page", "page_size")))
        self.django_paginator_class = functools.partial(
            selectors.CachedCountPaginator, search=search
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            allowed = f"a whole number from 1 to {self.max_page_size}"
            raise ValidationError(
                {"page_size": [f"Use {allowed}."], "allowed": {"page_size": allowed}}
            )
        return size

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 57},
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "example": "https://iopfinder.example/api/v1/facilities/?page=3&state=MS",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "example": "https://iopfinder.example/api/v1/facilities/?state=MS",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "in": "query",
                "required": False,
                "description": "Page number, from 1. A page past the last one is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Results per page, 1 to {self.max_page_size} "
                f"(default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
