"""State counts, the state-guide summary and the vocabularies through the API."""

import pytest

from facilities import vocabulary as vocab
from facilities.models import Term

from .factories import MISSISSIPPI, build_mississippi, make_facility

pytestmark = pytest.mark.django_db


def test_mississippi_iop_summary_matches_the_state_guide(client):
    build_mississippi()
    response = client.get("/api/v1/states/MS/summary/", {"level_of_care": "OIT"})
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "MS" and body["state_name"] == "Mississippi"
    for key, expected in MISSISSIPPI.items():
        if key == "payment_options":
            assert {code: body[key][code] for code in expected} == expected
        else:
            assert body[key] == expected, key
    assert body["populations"] == {"VET": 6}
    assert body["cities"] == [
        {"city": "Jackson", "count": 16},
        {"city": "Oxford", "count": 8},
        {"city": "Hattiesburg", "count": 4},
    ]
    assert set(body) == {
        "state",
        "state_name",
        "facility_count",
        "ownership",
        "co_occurring_count",
        "payment_options",
        "financial_assistance_count",
        "populations",
        "cities",
    }


def test_summary_without_filters_counts_every_published_listing_of_the_state(client):
    build_mississippi()
    body = client.get("/api/v1/states/ms/summary/").json()
    assert body["state"] == "MS"
    assert body["facility_count"] == 29  # the 28 IOPs and the outpatient-only listing
    assert body["ownership"]["PVTP"] == 13


def test_summary_takes_every_filter_and_the_path_state_wins(client):
    build_mississippi()
    body = client.get(
        "/api/v1/states/MS/summary/", {"level_of_care": "OIT", "payment": "MD", "state": "VA"}
    ).json()
    assert body["facility_count"] == 12
    assert body["payment_options"]["MD"] == 12
    # The fixture places every Mississippi listing at Jackson's coordinates.
    near = {"near": "39201", "radius": "5", "level_of_care": "OIT"}
    assert client.get("/api/v1/states/MS/summary/", near).json()["facility_count"] == 28
    far = {"near": "38655", "radius": "10"}
    assert client.get("/api/v1/states/MS/summary/", far).json()["facility_count"] == 0


def test_unknown_state_is_a_json_404_listing_the_codes(client):
    response = client.get("/api/v1/states/ZZ/summary/")
    assert response.status_code == 404
    body = response.json()
    assert body["detail"] == 'Unknown state "ZZ".'
    assert "MS" in body["allowed"] and "PR" in body["allowed"]
    assert client.get("/api/v1/states/MSS/summary/").status_code == 404


def test_summary_rejects_bad_filters(client):
    response = client.get("/api/v1/states/MS/summary/", {"level_of_care": "NOPE"})
    assert response.status_code == 400 and "level_of_care" in response.json()["allowed"]


def test_states_list_every_state_with_its_published_count(client):
    build_mississippi()
    results = client.get("/api/v1/states/").json()["results"]
    by_code = {row["code"]: row for row in results}
    assert len(results) == 56
    assert by_code["MS"]["facility_count"] == 29 and by_code["MS"]["name"] == "Mississippi"
    assert by_code["VA"]["facility_count"] == 1 and by_code["AL"]["facility_count"] == 0
    assert by_code["MS"]["summary_url"] == "http://testserver/api/v1/states/MS/summary/"
    assert by_code["MS"]["facilities_url"] == "http://testserver/api/v1/facilities/?state=MS"


def test_states_list_counts_only_what_the_filters_match(client):
    build_mississippi()
    make_facility(state="AL", city="Mobile", zip="36602", levels=["ORT"])
    results = client.get("/api/v1/states/", {"level_of_care": "OIT"}).json()["results"]
    by_code = {row["code"]: row["facility_count"] for row in results}
    assert by_code["MS"] == 28 and by_code["VA"] == 1 and by_code["AL"] == 0


def test_vocabularies_give_every_group_with_codes_labels_descriptions_and_parents(client):
    body = client.get("/api/v1/vocabularies/").json()
    groups = {group["group"]: group for group in body["groups"]}
    assert list(groups) == [code for code, _ in vocab.GROUP_CHOICES]
    ownership = {term["code"]: term for term in groups["ownership"]["terms"]}
    assert ownership["VAMC"]["parent"] == "FED" and ownership["FED"]["parent"] is None
    assert ownership["VAMC"]["label"] == "Department of Veterans Affairs"
    assert ownership["PVTP"]["description"] == "Run by a private for-profit organization."
    assert groups["payment"]["parameter"] == "payment"
    assert groups["payment"]["field"] == "payment_options"
    assert groups["gender"]["parameter"] is None and groups["gender"]["field"] == "genders"
    assert groups["ownership"]["field"] == "ownership"
    total = sum(len(group["terms"]) for group in body["groups"])
    assert total == Term.objects.count()


def test_a_term_added_by_a_curator_is_listed_and_accepted_as_a_filter(client):
    Term.objects.create(group=vocab.PAYMENT, code="EAP", label="Employee assistance program")
    codes = {
        term["code"]
        for group in client.get("/api/v1/vocabularies/").json()["groups"]
        for term in group["terms"]
    }
    assert "EAP" in codes
    assert client.get("/api/v1/facilities/", {"payment": "EAP"}).status_code == 200
