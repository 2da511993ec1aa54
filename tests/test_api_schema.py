"""The OpenAPI schema is valid, documents every filter with its codes, and the docs work offline."""

import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError

from facilities import selectors
from facilities.api import schema as api_schema
from facilities.models import TERM_FIELDS, Term
from facilities.search.filters import FacilityFilterSet

from .factories import add_line, make_facility

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


def test_list_items_are_documented_as_flat_and_the_detail_as_carrying_the_lines(client):
    document = openapi(client)
    components = document["components"]["schemas"]
    assert "union over its lines" in components["FacilityList"]["description"]
    assert "union over its lines" in document["paths"]["/api/v1/facilities/"]["get"]["description"]
    assert "service_lines" not in components["FacilityList"]["properties"]
    lines = components["FacilityDetail"]["properties"]["service_lines"]
    assert lines["items"] == {"$ref": "#/components/schemas/ServiceLine"}
    line = components["ServiceLine"]["properties"]
    assert set(line) == {"kind", "kind_label", *TERM_FIELDS, "iop", "transportation_assistance"}
    assert line["payment_options"]["items"] == {"$ref": "#/components/schemas/Term"}
    assert components["FacilityList"]["properties"]["payment_options"]["items"] == {
        "type": "string"
    }


def test_the_documented_detail_has_the_shape_of_a_served_detail(client):
    place = make_facility(payments=["SF"], hours_per_week_min=9)
    add_line(place, "MH", levels=["ORT"], payments=["MD", "SF"])
    served = client.get(f"/api/v1/facilities/{place.id}/").json()
    content = openapi(client)["paths"]["/api/v1/facilities/{id}/"]["get"]["responses"]["200"]
    (example,) = content["content"]["application/json"]["examples"].values()
    documented = example["value"]
    assert list(documented) == list(served)
    assert list(documented["iop"]) == list(served["iop"])
    assert [line["kind"] for line in documented["service_lines"]] == ["SA", "MH"]
    for documented_line, served_line in zip(
        documented["service_lines"], served["service_lines"], strict=True
    ):
        assert list(documented_line) == list(served_line)
        assert list(documented_line["iop"]) == list(served_line["iop"])
    # The example's point: Medicaid is the outpatient program's, not the IOP's.
    assert {"code": "MD", "label": "Medicaid"} in documented["service_lines"][1]["payment_options"]
    assert {"code": "MD", "label": "Medicaid"} not in documented["service_lines"][0][
        "payment_options"
    ]


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
