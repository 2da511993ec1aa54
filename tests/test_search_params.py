"""The table of search parameters (search/params.py) is the one source of their wording.

Each parameter's label reads the same on the filter panel, the chips, the error
summary, the API schema and the CSV column notes; the FilterSet has exactly the
table's parameters; the parsers read what the pages and the API accept.
"""

import html
import json
import re

import pytest

from facilities import exports, selectors
from facilities.models import Facility
from facilities.search import params
from facilities.search.filters import FacilityFilterSet
from facilities.search.params import BY_NAME, PARAMS

from .factories import make_facility

pytestmark = pytest.mark.django_db

URL = "/facilities/"

# A valid value for each parameter, and one it refuses.
GOOD = {
    "q": "Oxford",
    "city": "Oxford",
    "state": "MS",
    "zip": "38655",
    "near": "38655",
    "radius": "50",
    "level_of_care": "ORT",
    "payment": "MD",
    "financial_assistance": "true",
    "ownership": "PVTN",
    "population": "VET",
    "co_occurring": "false",
    "age": "ADLT",
    "language": "SP",
    "medication": "BU",
    "telehealth": "true",
    "evening": "true",
    "max_hours_per_week": "9",
    "ordering": "verified",
}
BAD = {
    "q": "x" * 201,
    "city": "x" * 101,
    "state": "ZZ",
    "zip": "1" * 11,
    "near": "Nowhereville, ZZ",
    "radius": "9000",
    "level_of_care": "NOPE",
    "payment": "XX",
    "financial_assistance": "maybe",
    "ownership": "XX",
    "population": "XX",
    "co_occurring": "perhaps",
    "age": "XX",
    "language": "XX",
    "medication": "XX",
    "telehealth": "sometimes",
    "evening": "2",
    "max_hours_per_week": "99",
    "ordering": "price",
}


def test_the_table_and_the_filterset_have_the_same_parameters_in_the_same_order():
    assert list(FacilityFilterSet.base_filters) == [param.name for param in PARAMS]
    assert set(GOOD) == set(BY_NAME) == set(BAD)


def test_every_filter_takes_its_label_and_limits_from_the_table():
    form = FacilityFilterSet().form
    for param in PARAMS:
        field = form.fields[param.name]
        assert field.label == param.label, param.name
        if param.max_length is not None:
            assert field.max_length == param.max_length, param.name
        if param.min_value is not None:
            assert (field.min_value, field.max_value) == (param.min_value, param.max_value)


def test_labels_are_one_wording_each():
    labels = [param.label for param in PARAMS]
    assert len(set(labels)) == len(labels), "two parameters share a label"


def _panel(body):
    """The filter panel's HTML, unescaped (labels, legends, summaries)."""
    start = body.index('id="filter-form"')
    return html.unescape(body[start : body.index("</form>", start)])


def test_the_panel_shows_every_parameter_by_its_label(client):
    # city and zip are shown when given; ordering in the sort form next to the results.
    make_facility(name="Oxford IOP", city="Oxford", zip="38655", latitude=34.36, longitude=-89.52)
    body = client.get(URL, {"near": "38655", "city": "Oxford", "zip": "38655"}).content.decode()
    panel = _panel(body)
    for param in PARAMS:
        if param.name == "ordering":
            assert f'<label for="id_ordering">{param.label}</label>' in body
        else:
            assert param.label in panel, param.name


@pytest.mark.parametrize("name", [param.name for param in PARAMS if param.name != "ordering"])
def test_a_chip_names_the_parameter_by_its_label(client, name):
    make_facility(name="Oxford IOP", city="Oxford", zip="38655", latitude=34.36, longitude=-89.52)
    query = {name: GOOD[name]}
    if name == "radius":
        query["near"] = "38655"
    response = client.get(URL, query)
    assert response.status_code == 200
    labels = [chip.label for chip in response.context["chips"]]
    if name in ("near", "radius"):  # one chip for both: "Within 50 miles of 38655"
        assert f"Within {GOOD['radius'] if name == 'radius' else 25} miles of 38655" in labels
        return
    param = BY_NAME[name]
    if param.kind == params.BOOLEAN:
        expected = param.label if GOOD[name] == "true" else f"{param.label}: no"
        assert expected in labels
    else:
        assert any(label.startswith(f"{param.label}: ") for label in labels), labels
    # Every chip's words are on the page, as the chip's link text.
    body = html.unescape(response.content.decode())
    assert all(label in body for label in labels)


@pytest.mark.parametrize("name", [param.name for param in PARAMS])
def test_an_error_names_the_parameter_by_its_label_and_links_to_it(client, name):
    query = {name: BAD[name]}
    if name in ("radius", "ordering"):
        query["near"] = "38655"
    response = client.get(URL, query)
    assert response.status_code == 400
    summary = response.context["error_summary"]
    assert [entry["label"] for entry in summary] == [BY_NAME[name].label]
    anchor = summary[0]["anchor"]
    assert anchor == BY_NAME[name].anchor
    assert f'id="{anchor}"' in response.content.decode(), "the summary links to the field"


def test_the_api_schema_describes_each_parameter_starting_with_its_label(client):
    document = json.loads(client.get("/api/v1/schema/", {"format": "json"}).content)
    documented = {
        item["name"]: item["description"]
        for item in document["paths"]["/api/v1/facilities/"]["get"]["parameters"]
    }
    for param in PARAMS:
        assert documented[param.name].startswith(param.label.rstrip(".") + "."), param.name


def test_the_csv_columns_that_answer_a_parameter_are_described_by_its_label(client):
    notes = exports.column_notes()
    assert set(notes) <= set(exports.CSV_COLUMNS)
    assert notes["payment_options"] == BY_NAME["payment"].label
    assert notes["co_occurring"] == BY_NAME["co_occurring"].label
    document = json.loads(client.get("/api/v1/schema/", {"format": "json"}).content)
    documented = document["paths"]["/api/v1/facilities/"]["get"]["parameters"]
    description = next(item for item in documented if item["name"] == "format")["description"]
    for column, label in notes.items():
        assert f"`{column}` ({label})" in description


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["md"], ["MD"]),
        (["MD,mi"], ["MD", "MI"]),
        (["MD", " PI , ,SF "], ["MD", "PI", "SF"]),
        ("md", ["MD"]),
        (["", ","], []),
    ],
)
def test_codes_are_split_on_commas_and_upper_cased(values, expected):
    assert params.split_codes(values) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("YES", True), (" 1 ", True), ("on", True)]
    + [("false", False), ("No", False), ("0", False), ("off", False), ("", None), (None, None)],
)
def test_boolean_words(text, expected):
    assert params.parse_boolean(text) is expected


@pytest.mark.parametrize("text", ["2", "maybe", "truee", "y"])
def test_other_words_are_not_booleans(text):
    with pytest.raises(ValueError):
        params.parse_boolean(text)


def test_the_page_default_is_applied_only_when_the_parameter_is_absent():
    from django.http import QueryDict

    assert params.with_defaults(QueryDict("")).getlist("level_of_care") == ["OIT"]
    assert params.with_defaults(QueryDict("level_of_care=")).getlist("level_of_care") == [""]
    assert params.with_defaults(QueryDict("level_of_care=ORT")).getlist("level_of_care") == ["ORT"]
    assert params.uses_default(QueryDict(""), "level_of_care")
    assert not params.uses_default(QueryDict("level_of_care="), "level_of_care")
    assert not params.uses_default(QueryDict(""), "payment")


def test_anchors_point_at_the_panel_section_or_the_field():
    assert BY_NAME["medication"].anchor == "field-co_occurring"
    assert BY_NAME["max_hours_per_week"].anchor == "field-schedule"
    assert BY_NAME["near"].anchor == "id_near"
    assert BY_NAME["ordering"].anchor == "filters"
    assert re.fullmatch(r"field-\w+", BY_NAME["language"].anchor)


def test_the_csv_download_names_a_bad_parameter_by_its_label(client):
    response = client.get("/facilities/export.csv", {"payment": "XX", "evening": "2"})
    assert response.status_code == 400
    text = response.content.decode()
    assert f"{BY_NAME['payment'].label} (payment): " in text
    assert f"{BY_NAME['evening'].label} (evening): " in text


def test_the_default_level_of_care_is_ticked_so_sending_the_panel_keeps_it(client):
    body = client.get(URL, {"near": "38655"}).content.decode()
    assert 'value="OIT" id="id_level_of_care_OIT" checked' in body
    assert 'id="id_level_of_care_ODT" checked' not in body
    # Closed: the default alone is not a choice the person made.
    assert '<details class="group-details" id="field-level_of_care">' in body
    every_level = client.get(URL, {"near": "38655", "level_of_care": ""}).content.decode()
    assert 'value="OIT" id="id_level_of_care_OIT" checked' not in every_level
    assert '<details class="group-details" id="field-level_of_care" open>' in every_level


def test_an_invalid_search_still_counts_its_active_filters(client):
    response = client.get(URL, {"payment": ["MD", "XX"], "evening": "true"})
    assert response.status_code == 400
    # The IOP default and evening; payment is wrong as a whole (XX), so it is not counted.
    assert "Change search and filters (2 active)" in response.content.decode()


def _sample_value(param):
    if param.kind == params.TERMS:
        return {"level_of_care": "OIT", "ownership": "PVTP"}.get(param.name) or next(
            code for code, _ in selectors.term_choices(param.group)
        )
    return {
        params.BOOLEAN: "true",
        params.NUMBER: str(param.min_value),
        params.CODES: "MS",
        params.CHOICE: "name",
        params.PLACE: "38655",
    }.get(param.kind, "jackson")


@pytest.mark.django_db
@pytest.mark.parametrize("param", params.PARAMS, ids=lambda param: param.name)
def test_a_parameters_level_decides_whether_it_is_a_condition_on_one_line(param):
    query = {param.name: _sample_value(param)}
    if param.name == "radius":
        query["near"] = "38655"
    filterset = FacilityFilterSet(query, queryset=Facility.objects.all())
    assert filterset.is_valid(), filterset.errors
    filterset.qs  # noqa: B018  (filtering collects the line conditions)
    expected = 1 if param.level == params.LINE else 0
    assert len(filterset.line_conditions) == expected
