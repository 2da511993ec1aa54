"""OpenAPI documentation (drf-spectacular): filter parameters, the API-key scheme, errors.

The schema is generated per request, so the allowed codes are the database's
vocabularies of the moment. Without a usable database (`manage.py spectacular`
before migrating) they fall back to the built-in vocabularies the first
migration loads.
"""

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from .. import exports, selectors
from .. import vocabulary as vocab
from ..search import params
from .serializers import ErrorSerializer

JSON = "application/json"


def documented_terms(group):
    """(code, label) pairs of a vocabulary group, from the database when it can be read."""
    try:
        choices = selectors.term_choices(group)
    except DatabaseError:
        choices = []
    return choices or [(entry[0], entry[1]) for entry in vocab.VOCABULARY.get(group, [])]


def _code_list(choices):
    return "; ".join(f"`{code}` {label}" for code, label in choices)


# Examples shown in Swagger UI and ReDoc (and tried by schemathesis).
PARAMETER_EXAMPLES = {
    "level_of_care": {"IOP": ["OIT"], "IOP or partial hospitalization": ["OIT", "ODT"]},
    "payment": {"Medicaid": ["MD"], "Medicaid or Medicare": ["MD", "MC"]},
    "state": {"Mississippi": ["MS"]},
    "near": {"A ZIP code": "38655", "A city": "Oxford, MS", "Coordinates": "34.36,-89.52"},
    "radius": {"50 miles": 50},
    "population": {"Veterans": ["VET"]},
    "ownership": {"Federal, incl. VA, DoD and IHS": ["FED"]},
}


def _parameter(name, description, schema, **extra):
    parameter = {"name": name, "in": "query", "required": False}
    parameter.update(description=description, schema=schema, **extra)
    examples = PARAMETER_EXAMPLES.get(name)
    if examples:
        parameter["examples"] = {
            key.lower().replace(" ", "-").replace(",", "").replace(".", ""): {
                "summary": key,
                "value": value,
            }
            for key, value in examples.items()
        }
    return parameter


def _code_parameter(name, intro, choices):
    description = (
        f"{intro} Several values mean OR (repeat the parameter, or separate codes with "
        f"commas; case does not matter). Allowed: {_code_list(choices)}."
    )
    schema = {"type": "array", "items": {"type": "string", "enum": [c for c, _ in choices]}}
    return _parameter(name, description, schema, style="form", explode=True)


def filter_parameters(exclude=()):
    """OpenAPI parameter objects for every search parameter (search/params.py), in order."""
    parameters = []
    for param in params.PARAMS:
        if param.name in exclude:
            continue
        texts = (param.label, param.help, params.LINE_MEANING if param.level == params.LINE else "")
        intro = " ".join(text.rstrip(".") + "." for text in texts if text)
        if param.kind == params.TERMS:
            parameters.append(_code_parameter(param.name, intro, documented_terms(param.group)))
        elif param.kind == params.CODES:
            parameters.append(_code_parameter(param.name, intro, sorted(param.choices)))
        elif param.kind == params.CHOICE:
            description = f"{intro} Allowed: {_code_list(param.choices)}."
            schema = {"type": "string", "enum": [code for code, _ in param.choices]}
            parameters.append(_parameter(param.name, description, schema))
        elif param.kind == params.BOOLEAN:
            description = f"{intro} true or false; leave out to ignore."
            parameters.append(_parameter(param.name, description, {"type": "boolean"}))
        elif param.kind == params.NUMBER:
            schema = {"type": "number", "minimum": param.min_value, "maximum": param.max_value}
            parameters.append(_parameter(param.name, intro, schema))
        else:
            schema = {"type": "string", "maxLength": param.max_length}
            parameters.append(_parameter(param.name, intro, schema))
    return parameters


class FacilityFilterParameters(OpenApiFilterExtension):
    """Documents StrictFilterBackend's parameters with their codes (outranks django-filter's)."""

    target_class = "facilities.api.filtering.StrictFilterBackend"
    match_subclasses = True
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        return filter_parameters(exclude=getattr(auto_schema.view, "ignored_filter_parameters", ()))


class FilteredSchema(AutoSchema):
    """For views that filter but return one object (state counts, a summary)."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "facilities.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Optional. Send `Authorization: Api-Key <key>` with the key a curator "
            "gave you for a higher rate limit. Without it requests are anonymous.",
        }


def error(description, example=None):
    examples = [OpenApiExample("Example", value=example)] if example else None
    return OpenApiResponse(ErrorSerializer, description=description, examples=examples)


COMMON_ERRORS = {
    (401, JSON): error(
        "The API key sent is malformed, unknown, revoked or expired.",
        {"detail": "This API key has been revoked."},
    ),
    (406, JSON): error("The Accept header asks for a format this endpoint does not offer."),
    (429, JSON): error(
        "Too many requests: wait the seconds given in the Retry-After header.",
        {"detail": "Request was throttled. Expected available in 21 seconds."},
    ),
}

BAD_FILTER = {
    (400, JSON): OpenApiResponse(
        {"type": "object", "additionalProperties": True},
        description="A parameter is invalid. The body names each bad parameter with its "
        "messages, and `allowed` says what each accepts.",
        examples=[
            OpenApiExample(
                "Unknown payment code",
                value={
                    "payment": ["Select a valid choice. XX is not one of the available choices."],
                    "allowed": {"payment": ["PI", "MD", "MC", "SI", "MI", "SF", "ITU", "GF", "NP"]},
                },
            )
        ],
    ),
}

NOT_MODIFIED = {
    (304, JSON): OpenApiResponse(
        description="Nothing changed since the ETag (If-None-Match) or date (If-Modified-Since)."
    )
}

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    OpenApiParameter.QUERY,
    enum=["json", "csv", "geojson"],
    description="json (default, paged), csv or geojson (every matching listing, streamed). "
    "Accept: text/csv or Accept: application/geo+json do the same. In the CSV, vocabulary "
    "codes are joined with ';'; the columns that answer a search parameter: "
    + "; ".join(f"`{column}` ({label})" for column, label in exports.column_notes().items())
    + ".",
)
