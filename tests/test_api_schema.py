"""The OpenAPI schema is valid, documents every filter with its codes, and the docs work offline."""

import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError

from facilities import selectors
from facilities.api import schema as api_schema
from facilities.models import Term
from facilities.search.filters import FacilityFilterSet

pytestmark = pytest.mark.django_db


def openapi(client):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def parameters(document, path="/api/v1/facilities/"):
    return {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}


def test_spectacular_validates_the_schema_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/facilities/" in target.read_text()


def test_every_filter_is_documented_with_its_allowed_codes(client):
    document = openapi(client)
    params = parameters(document)
    assert set(FacilityFilterSet.base_filters) | {"page", "page_size", "format"} == set(params)
    payment = params["payment"]
    assert payment["schema"]["items"]["enum"] == [
        "PI",
        "MD",
        "MC",
        "SI",
        "MI",
        "SF",
        "ITU",
        "GF",
        "NP",
    ]
    assert "`MD` Medicaid" in payment["description"]
    assert params["ownership"]["schema"]["items"]["enum"][-3:] == ["VAMC", "DDF", "IH"]
    assert "MS" in params["state"]["schema"]["items"]["enum"]
    assert params["radius"]["schema"] == {"type": "number", "minimum": 1, "maximum": 500}
    assert params["ordering"]["schema"]["enum"] == ["distance", "name", "verified"]
    assert params["co_occurring"]["schema"] == {"type": "boolean"}
    assert params["page_size"]["schema"]["maximum"] == 100
    assert params["level_of_care"]["examples"]["iop"]["value"] == ["OIT"]
    summary = parameters(document, "/api/v1/states/{state_code}/summary/")
    assert "state" not in summary and "level_of_care" in summary


def test_codes_come_from_the_database_at_request_time(client):
    Term.objects.create(group="language", code="PL", label="Polish")
    params = parameters(openapi(client))
    assert "PL" in params["language"]["schema"]["items"]["enum"]


def test_without_a_database_the_built_in_codes_are_documented(monkeypatch):
    def broken(group):
        raise DatabaseError("no such table: facilities_term")

    monkeypatch.setattr(selectors, "term_choices", broken)
    choices = api_schema.documented_terms("payment")
    assert ("MD", "Medicaid") in choices and len(choices) == 9


def test_api_keys_are_a_documented_security_scheme(client):
    document = openapi(client)
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": scheme["description"],
    }
    security = document["paths"]["/api/v1/facilities/"]["get"]["security"]
    assert {"ApiKey": []} in security and {} in security


def test_formats_and_errors_are_documented(client):
    responses = openapi(client)["paths"]["/api/v1/facilities/"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {
        "application/json",
        "text/csv",
        "application/geo+json",
    }
    assert {"304", "400", "401", "404", "406", "429"} <= set(responses)


@pytest.mark.parametrize("page, asset", [("docs", "swagger-ui-dist"), ("redoc", "redoc")])
def test_docs_pages_are_served_offline(client, page, asset):
    response = client.get(f"/api/v1/{page}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/static/drf_spectacular_sidecar/{asset}/" in html
    assert "cdn." not in html and "unpkg" not in html
    src = html.split(f"/static/drf_spectacular_sidecar/{asset}/")[1].split('"')[0]
    static = client.get(f"/static/drf_spectacular_sidecar/{asset}/{src}")
    assert static.status_code == 200
