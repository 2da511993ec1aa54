"""The facilities endpoints: same answers as the shared FilterSet, the documented item, formats."""

import csv
import datetime
import io
import json
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from facilities import geo
from facilities.exports import CSV_COLUMNS
from facilities.models import TERM_FIELDS, Facility
from facilities.search.filters import FacilityFilterSet

from .factories import add_line, build_mississippi, make_facility

pytestmark = pytest.mark.django_db

LIST = "/api/v1/facilities/"


@pytest.fixture
def listings():
    """The Mississippi fixture plus listings that exercise every other filter."""
    build_mississippi()
    make_facility(
        name="Oxford Spanish evening",
        city="Oxford",
        zip="38655",
        latitude=34.3665,
        longitude=-89.5192,
        ownership="IH",
        languages=["SP"],
        medications=["BU"],
        ages=["CHLD"],
        offers_evening=True,
        hours_per_week_min=6,
        hours_per_week_max=9,
        verified_at=datetime.date(2026, 2, 1),
    )
    make_facility(
        name="Batesville telehealth PHP",
        levels=["ODT", "TELE"],
        city="Batesville",
        zip="38606",
        latitude=34.3115,
        longitude=-89.9442,
        verified_at=datetime.date(2025, 6, 1),
    )
    make_facility(name="Tupelo virtual", latitude=34.2576, longitude=-88.7034, offers_virtual=True)
    make_facility(name="Nowhere", zip="00000", latitude=None, longitude=None, payments=["MD"])
    make_facility(name="Archived", status=Facility.Status.ARCHIVED, payments=["MD"])


def query(params):
    return urlencode(params, doseq=True)


def filterset_ids(query_string):
    filterset = FacilityFilterSet(QueryDict(query_string), queryset=Facility.objects.published())
    assert filterset.is_valid(), filterset.errors
    return [facility.id for facility in filterset.qs]


def api_ids(client, query_string, page_size=7):
    """Every id the API lists for the query, following `next` across pages."""
    ids = []
    url = f"{LIST}?{query_string}&page_size={page_size}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [item["id"] for item in body["results"]]
        assert body["count"] == len(filterset_ids(query_string))
        url = body["next"]
    return ids


SEARCHES = [
    {},
    {"level_of_care": "OIT"},
    {"level_of_care": ["OIT", "ODT"]},
    {"level_of_care": "TELE"},
    {"payment": "MD"},
    {"payment": "md,mi"},
    {"payment": ["MD", "MI"], "co_occurring": "true"},
    {"financial_assistance": "true"},
    {"financial_assistance": "false"},
    {"ownership": "FED"},
    {"ownership": ["VAMC", "PVTN"]},
    {"population": "VET"},
    {"co_occurring": "false"},
    {"age": "CHLD"},
    {"language": "SP"},
    {"medication": "BU"},
    {"telehealth": "true"},
    {"telehealth": "false"},
    {"evening": "true"},
    {"max_hours_per_week": "8"},
    {"state": "MS"},
    {"state": ["VA", "MS"]},
    {"city": "oxford"},
    {"zip": "38655"},
    {"q": "oxford"},
    {"q": "Mississippi IOP 1"},
    {"near": "38655"},
    {"near": "38655", "radius": "100"},
    {"near": "Oxford, MS", "radius": "200", "ordering": "name"},
    {"near": "34.36,-89.52", "radius": "60", "level_of_care": "OIT"},
    {"ordering": "verified"},
    {"ordering": "name"},
    {"level_of_care": "OIT", "state": "MS", "payment": "MD"},
    {
        "level_of_care": "OIT",
        "state": "MS",
        "payment": "MD",
        "ownership": "PVTP",
        "co_occurring": "1",
    },
    {
        "level_of_care": "OIT",
        "population": "VET",
        "evening": "false",
        "financial_assistance": "yes",
    },
    {"state": "MS", "not_a_filter": "ignored", "utm_source": "x"},
]


@pytest.mark.parametrize("params", SEARCHES, ids=lambda params: query(params) or "no-filters")
def test_the_api_lists_the_same_ids_in_the_same_order_as_the_shared_filterset(
    client, listings, params
):
    query_string = query(params)
    expected = filterset_ids(query_string)
    assert api_ids(client, query_string) == expected
    # A search that finds nothing would prove little: most of these must find something.
    assert expected


def test_the_api_does_not_default_to_iop(client, listings):
    body = client.get(LIST, {"page_size": 100}).json()
    levels = {code for item in body["results"] for code in item["levels_of_care"]}
    assert "ODT" in levels and "ORT" in levels
    assert body["count"] == Facility.objects.published().count()


def test_an_item_has_the_documented_fields(client):
    facility = make_facility(
        name="Magnolia",
        program_name="Oxford IOP",
        ownership="VAMC",
        payments=["MD", "PI"],
        assistance=["SS"],
        populations=["VET"],
        hours_per_week_min=9,
        hours_per_week_max=12,
        duration_weeks=8,
        offers_evening=True,
        verified_at=datetime.date(2026, 3, 2),
    )
    item = client.get(LIST).json()["results"][0]
    assert item["id"] == facility.id and item["slug"] == facility.slug
    assert item["ownership"] == {"code": "VAMC", "label": "Department of Veterans Affairs"}
    assert item["levels_of_care"] == ["OIT"]
    assert sorted(item["payment_options"]) == ["MD", "PI"]
    assert item["financial_assistance"] is True
    assert item["populations"] == ["VET"]
    assert item["iop"] == {
        "hours_per_week_min": 9,
        "hours_per_week_max": 12,
        "sessions_per_week": None,
        "session_length_minutes": None,
        "duration_weeks": 8,
        "daytime": False,
        "evening": True,
        "weekend": False,
        "virtual": False,
    }
    assert item["url"] == f"http://testserver/facilities/{facility.slug}/"
    assert item["verified_at"] == "2026-03-02"
    assert item["updated_at"].startswith(str(timezone.localtime(facility.updated_at).date()))
    assert item["distance_miles"] is None
    expected = {"name", "program_name", "street1", "street2", "city", "state", "zip"}
    expected |= {"latitude", "longitude", "phone", "intake_phone", "website", "co_occurring"}
    assert expected <= set(item)


@pytest.mark.parametrize("near", [None, "38655"])
def test_the_written_out_list_item_equals_what_drf_fields_build(rf, listings, near):
    """FacilityListSerializer writes its item by hand from a dict row for speed; it must stay
    exactly what the declared fields (and so the OpenAPI schema) give for the listing."""
    from rest_framework import serializers

    from facilities import rows, selectors
    from facilities.api.serializers import FacilityListSerializer

    make_facility(
        name="Every field",
        program_name="Evening IOP",
        street1="1 Main St",
        street2="Suite 2",
        phone="601-555-0100",
        intake_phone="601-555-0101",
        website="https://example.org/",
        ownership="VAMC",
        verified_at=datetime.date(2026, 3, 2),
        hours_per_week_min=9,
        sessions_per_week=3,
        offers_weekend=True,
        offers_virtual=True,
        location_approximate=True,
        source="demo",
    )
    make_facility(name="Nothing optional", latitude=None, longitude=None, zip="39201")
    data = QueryDict(mutable=True)
    if near:
        data.update({"near": near, "radius": "500"})
    filterset = FacilityFilterSet(data, queryset=selectors.published_facilities())
    assert filterset.is_valid()
    models = rows.read_models(filterset.qs.select_related("ownership"), rows.LIST_TERM_FIELDS)
    items = rows.read(filterset.qs)
    assert len(items) >= 30 and [row["id"] for row in items] == [model.pk for model in models]
    serializer = FacilityListSerializer(context={"request": rf.get(LIST)})
    for row, model in zip(items, models, strict=True):
        generic = serializers.ModelSerializer.to_representation(serializer, model)
        assert json.dumps(serializer.to_representation(row)) == json.dumps(generic)


def test_near_adds_distance_correct_to_a_tenth_of_a_mile(client, listings):
    items = client.get(LIST, {"near": "38655", "radius": "100", "page_size": 100}).json()["results"]
    assert items, "the Oxford listings are within 100 miles"
    latitude, longitude = geo.resolve_place("38655").latitude, geo.resolve_place("38655").longitude
    for item in items:
        exact = geo.haversine_miles(latitude, longitude, item["latitude"], item["longitude"])
        assert item["distance_miles"] == pytest.approx(exact, abs=0.051)
    distances = [item["distance_miles"] for item in items]
    assert distances == sorted(distances)


def test_detail_has_labels_and_everything_known(client):
    facility = make_facility(
        ownership="PVTN",
        payments=["MD"],
        languages=["SP"],
        genders=["FEM"],
        description="Evening groups.",
        county="Hinds",
    )
    body = client.get(f"{LIST}{facility.id}/").json()
    assert body["payment_options"] == [{"code": "MD", "label": "Medicaid"}]
    assert body["languages"] == [{"code": "SP", "label": "Spanish"}]
    assert body["genders"] == [{"code": "FEM", "label": "Female"}]
    assert body["levels_of_care"] == [{"code": "OIT", "label": "Intensive outpatient (IOP)"}]
    assert body["state_name"] == "Mississippi" and body["county"] == "Hinds"
    assert body["description"] == "Evening groups."
    assert "distance_miles" not in body


def codes(terms):
    return [term["code"] for term in terms]


def two_program_place():
    """An IOP paid for yourself (SA), beside outpatient care on Medicaid (MH)."""
    place = make_facility(
        name="Two Rivers",
        payments=["SF"],
        assistance=["SS"],
        populations=["VET"],
        hours_per_week_min=9,
        hours_per_week_max=12,
        offers_evening=True,
    )
    add_line(
        place,
        "MH",
        levels=["ORT"],
        payments=["MD", "SF"],
        offers_virtual=True,
        transportation_assistance=True,
    )
    return place


def test_the_detail_carries_each_service_line_with_its_own_terms(client):
    place = two_program_place()
    body = client.get(f"{LIST}{place.id}/").json()
    sa, mh = body["service_lines"]
    assert set(sa) == {"kind", "kind_label", *TERM_FIELDS, "iop", "transportation_assistance"}
    assert (sa["kind"], sa["kind_label"]) == ("SA", "Substance use treatment")
    assert (mh["kind"], mh["kind_label"]) == ("MH", "Mental health treatment")
    assert codes(sa["levels_of_care"]) == ["OIT"] and codes(mh["levels_of_care"]) == ["ORT"]
    assert sa["payment_options"] == [{"code": "SF", "label": "Cash or self-payment"}]
    assert codes(mh["payment_options"]) == ["MD", "SF"]
    assert codes(sa["payment_assistance"]) == ["SS"] and mh["payment_assistance"] == []
    assert codes(sa["populations"]) == ["VET"] and mh["populations"] == []
    assert (sa["iop"]["hours_per_week_min"], sa["iop"]["evening"]) == (9, True)
    assert (mh["iop"]["hours_per_week_min"], mh["iop"]["virtual"]) == (None, True)
    assert (sa["transportation_assistance"], mh["transportation_assistance"]) == (False, True)
    # The flat fields, as documented: the union; the schedule of the line offering IOP.
    assert codes(body["levels_of_care"]) == ["OIT", "ORT"]
    assert codes(body["payment_options"]) == ["MD", "SF"]
    assert body["iop"]["hours_per_week_min"] == 9
    assert body["iop"]["virtual"] is True  # any line's
    assert body["transportation_assistance"] is False  # the IOP line's


def test_a_list_item_of_a_place_with_two_lines_is_the_flat_union(client):
    place = two_program_place()
    item = client.get(LIST).json()["results"][0]
    assert item["id"] == place.id and "service_lines" not in item
    assert item["levels_of_care"] == ["OIT", "ORT"]
    assert item["payment_options"] == ["MD", "SF"]
    assert item["populations"] == ["VET"] and item["financial_assistance"] is True
    assert (item["iop"]["hours_per_week_min"], item["iop"]["virtual"]) == (9, True)
    detail = client.get(f"{LIST}{place.id}/").json()
    for name in ("levels_of_care", "payment_options", "populations"):
        assert item[name] == codes(detail[name]), name
    assert item["iop"] == detail["iop"]


def test_detail_query_count_does_not_grow_with_lines_and_terms(client):
    sparse = make_facility(name="Sparse")
    rich = make_facility(
        name="Rich",
        payments=["PI", "MD", "SF"],
        assistance=["SS"],
        populations=["VET", "WN"],
        ages=["ADLT"],
        languages=["SP"],
        medications=["BU"],
        accreditations=["CARF"],
    )
    add_line(rich, "MH", levels=["ORT", "OIT"], payments=["MD"], ages=["CHLD"], genders=["FEM"])
    client.get(f"{LIST}{sparse.id}/")  # warm the vocabulary cache
    counts = []
    for facility in (sparse, rich):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{LIST}{facility.id}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("status", [Facility.Status.DRAFT, Facility.Status.ARCHIVED])
def test_detail_of_an_unpublished_listing_is_a_json_404(client, status):
    facility = make_facility(status=status)
    response = client.get(f"{LIST}{facility.id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": f"No published listing has id {facility.id}."}


@pytest.mark.parametrize(
    "path",
    [f"{LIST}0/", f"{LIST}99999999999999999999999/", f"{LIST}abc/", "/api/v1/nope/", "/api/v2/"],
)
def test_unknown_api_addresses_are_json_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_missing_trailing_slash_redirects_with_the_query(client):
    response = client.get("/api/v1/facilities?state=MS")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/facilities/?state=MS"


def test_pages_are_counted_and_linked(client, listings):
    body = client.get(LIST, {"state": "MS", "page_size": 10}).json()
    assert body["count"] == Facility.objects.published().filter(state="MS").count()
    assert len(body["results"]) == 10 and body["previous"] is None
    assert body["next"].startswith("http://testserver/api/v1/facilities/?")
    assert len(client.get(LIST).json()["results"]) == 20  # the default page size


def test_query_count_does_not_grow_with_page_size(client, listings):
    # Warm the vocabulary and this search's count (cached per search, whatever the page size).
    client.get(LIST, {"page_size": 1, "payment": "MD"})
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"page_size": size, "payment": "MD"})
        assert len(response.json()["results"]) == min(size, response.json()["count"])
        counts.append(len(queries))
    assert response.json()["count"] > 1
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("file_format", ["csv", "geojson"])
def test_a_streamed_export_costs_the_same_queries_for_3_or_30_rows(client, listings, file_format):
    """Terms come a chunk at a time, not with a query per listing."""
    b"".join(client.get(LIST, {"format": file_format, "state": "VA"}).streaming_content)  # warm
    counts = {}
    for state in ("VA", "MS"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"format": file_format, "state": state})
            body = b"".join(response.streaming_content)
        rows = body.count(b'"Feature"') if file_format == "geojson" else body.count(b"\n") - 1
        counts[rows] = len(queries)
    assert len(counts) == 2 and max(counts) >= 28, counts
    assert len(set(counts.values())) == 1, counts


def csv_rows(response):
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("how", [{"format": "csv"}, {"HTTP_ACCEPT": "text/csv"}])
def test_csv_streams_every_matching_row_not_one_page(client, listings, how):
    params = {"level_of_care": "OIT", "state": "MS"}
    if "format" in how:
        response = client.get(LIST, {**params, **how})
    else:
        response = client.get(LIST, params, **how)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert header == list(CSV_COLUMNS)
    rows = [dict(zip(header, line, strict=True)) for line in lines]
    expected = filterset_ids(query(params))
    assert len(expected) > 20  # more than a JSON page
    assert [int(row["id"]) for row in rows] == expected
    medicaid_military = [r for r in rows if set(r["payment_options"].split(";")) >= {"MD", "MI"}]
    assert medicaid_military, "codes are joined with ';'"
    assert rows[0]["url"].startswith("http://testserver/facilities/")


def test_csv_carries_distance_for_near_searches(client, listings):
    response = client.get(LIST, {"near": "38655", "radius": "50", "format": "csv"})
    rows = csv_rows(response)
    assert rows and all(float(row["distance_miles"]) <= 50 for row in rows)


def test_geojson_is_a_feature_collection_of_every_match(client, listings):
    response = client.get(LIST, {"payment": "MD", "format": "geojson"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = json.loads(b"".join(response.streaming_content))
    assert body["type"] == "FeatureCollection"
    expected = filterset_ids("payment=MD")
    assert [feature["id"] for feature in body["features"]] == expected
    by_name = {feature["properties"]["name"]: feature for feature in body["features"]}
    oxford = by_name["Mississippi IOP 05"]
    assert oxford["type"] == "Feature"
    assert oxford["geometry"] == {"type": "Point", "coordinates": [-90.1848, 32.2988]}
    assert by_name["Nowhere"]["geometry"] is None
    assert oxford["properties"]["payment_options"]


def test_geojson_by_accept_header(client, listings):
    response = client.get(LIST, {"state": "VA"}, HTTP_ACCEPT="application/geo+json")
    assert json.loads(b"".join(response.streaming_content))["features"][0]["properties"][
        "state"
    ] == ("VA")


@pytest.mark.parametrize(
    "params, parameter, allowed",
    [
        ({"payment": "XX"}, "payment", ["PI", "MD", "MC", "SI", "MI", "SF", "ITU", "GF", "NP"]),
        ({"level_of_care": "IOP"}, "level_of_care", None),
        ({"ownership": "NOPE"}, "ownership", None),
        ({"state": "ZZ"}, "state", None),
        ({"co_occurring": "maybe"}, "co_occurring", ["true", "false"]),
        ({"radius": "abc", "near": "38655"}, "radius", "a number from 1 to 500, with `near`"),
        ({"radius": "900", "near": "38655"}, "radius", None),
        ({"radius": "0", "near": "38655"}, "radius", None),
        ({"radius": "25"}, "radius", None),
        ({"near": "Oxfrd, MS"}, "near", None),
        ({"ordering": "distance"}, "ordering", ["distance", "name", "verified"]),
        ({"max_hours_per_week": "lots"}, "max_hours_per_week", "a number from 1 to 40"),
        ({"q": "x" * 300}, "q", "text of at most 200 characters"),
        ({"page_size": "500"}, "page_size", "a whole number from 1 to 100"),
        ({"page_size": "ten"}, "page_size", "a whole number from 1 to 100"),
        ({"format": "xml"}, "format", ["json", "csv", "geojson"]),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter_and_what_it_allows(
    client, params, parameter, allowed
):
    response = client.get(LIST, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body[parameter] and all(isinstance(message, str) for message in body[parameter])
    assert parameter in body["allowed"]
    if allowed is not None:
        assert body["allowed"][parameter] == allowed


def test_unknown_codes_list_every_allowed_code(client):
    body = client.get(LIST, {"payment": "MD,XX"}).json()
    assert body["payment"] == ["Select a valid choice. XX is not one of the available choices."]
    assert "MD" in body["allowed"]["payment"]
    assert "OIT" in client.get(LIST, {"level_of_care": "X"}).json()["allowed"]["level_of_care"]


def test_unplaceable_near_suggests_places(client):
    body = client.get(LIST, {"near": "Oxfrd, MS"}).json()
    assert body["allowed"]["near"]["suggestions"] == ["Oxford, MS"]


def test_a_csv_request_with_a_bad_filter_still_gets_a_json_error(client):
    response = client.get(LIST, {"payment": "XX", "format": "csv"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"


def test_a_page_past_the_last_is_a_json_404(client, listings):
    response = client.get(LIST, {"page": 99})
    assert response.status_code == 404
    assert response.json() == {"detail": 'Invalid page "99": That page contains no results.'}


def test_an_unoffered_media_type_is_a_json_406(client):
    response = client.get(LIST, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", [LIST, "/api/v1/vocabularies/", "/api/v1/states/MS/summary/"])
def test_nothing_is_writable(client, method, path):
    response = getattr(client, method)(path, data={}, content_type="application/json")
    assert response.status_code == 405
    assert response.json()["detail"] == f'Method "{method.upper()}" not allowed.'
    assert "POST" not in response["Allow"]


def page_ids(client, params):
    """Every id the search page lists for the query, following its pages."""
    ids, number = [], 1
    while True:
        # follow: the page redirects to its canonical address (search/page.canonical_query).
        response = client.get("/facilities/", {**params, "page": number}, follow=True)
        assert response.status_code == 200
        page = response.context["page"]
        ids += [row["id"] for row in page.object_list]
        if not page.has_next():
            return ids
        number += 1


@pytest.mark.parametrize("params", SEARCHES, ids=lambda params: query(params) or "no-filters")
def test_the_search_page_and_the_api_list_the_same_ids_for_the_same_query(client, listings, params):
    # The page defaults to IOPs (level_of_care=OIT) when the query names no level of care;
    # the API assumes nothing, so it is asked for the same scope explicitly.
    api_params = params if "level_of_care" in params else {**params, "level_of_care": "OIT"}
    assert page_ids(client, params) == api_ids(client, query(api_params))
