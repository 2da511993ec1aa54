"""The shared FilterSet: each filter narrows as specified, OR within a group, AND across."""

from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from facilities import geo
from facilities.models import Facility
from facilities.search.filters import FacilityFilterSet

from .factories import make_facility

pytestmark = pytest.mark.django_db


def as_query(params):
    return QueryDict(urlencode(params, doseq=True))


def search(**params):
    filterset = FacilityFilterSet(as_query(params), queryset=Facility.objects.published())
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def names(**params):
    return sorted(facility.name for facility in search(**params))


def errors(**params):
    filterset = FacilityFilterSet(as_query(params), queryset=Facility.objects.published())
    assert not filterset.is_valid()
    return filterset.errors


def test_no_filters_returns_every_published_listing_by_name():
    make_facility(name="B")
    make_facility(name="A")
    make_facility(name="Draft", status=Facility.Status.DRAFT)
    assert [f.name for f in search()] == ["A", "B"]


def test_payment_values_are_ored_and_groups_are_anded():
    make_facility(name="Medicaid", payments=["MD"])
    make_facility(name="Military", payments=["MI"])
    make_facility(name="Private", payments=["PI"])
    make_facility(name="Medicaid co-occurring", payments=["MD"], co_occurring=True)
    assert names(payment=["MD", "MI"]) == ["Medicaid", "Medicaid co-occurring", "Military"]
    assert names(payment=["MD", "MI"], co_occurring="true") == ["Medicaid co-occurring"]


def test_a_facility_matching_several_values_is_listed_once():
    make_facility(name="Both", payments=["MD", "MI"])
    assert list(search(payment=["MD", "MI"]).values_list("name", flat=True)) == ["Both"]


def test_codes_are_case_insensitive_and_may_be_comma_separated():
    make_facility(name="Medicaid", payments=["MD"])
    make_facility(name="Military", payments=["MI"])
    assert names(payment="md,mi") == ["Medicaid", "Military"]


def test_ownership_fed_includes_va_defense_and_ihs():
    make_facility(name="VA", ownership="VAMC")
    make_facility(name="IHS", ownership="IH")
    make_facility(name="Federal", ownership="FED")
    make_facility(name="Private", ownership="PVTP")
    assert names(ownership="FED") == ["Federal", "IHS", "VA"]
    assert names(ownership="VAMC") == ["VA"]


@pytest.mark.parametrize(
    "param, kwargs, value",
    [
        ("level_of_care", {"levels": ["ODT"]}, "ODT"),
        ("population", {"populations": ["VET"]}, "VET"),
        ("age", {"ages": ["CHLD"]}, "CHLD"),
        ("language", {"languages": ["SP"]}, "SP"),
        ("medication", {"medications": ["BU"]}, "BU"),
        ("state", {"state": "VA", "zip": "22902", "city": "Charlottesville"}, "VA"),
        ("zip", {"zip": "38655"}, "38655"),
        ("city", {"city": "St. Louis", "state": "MO", "zip": "63101"}, "saint louis"),
        ("co_occurring", {"co_occurring": True}, "true"),
        ("evening", {"offers_evening": True}, "true"),
        ("max_hours_per_week", {"hours_per_week_min": 6, "hours_per_week_max": 9}, "8"),
        ("q", {"name": "Harbor Light"}, "harbor"),
    ],
)
def test_each_filter_narrows_to_the_matching_listing(param, kwargs, value):
    make_facility(name="Match", **kwargs) if "name" not in kwargs else make_facility(**kwargs)
    make_facility(name="Other", hours_per_week_min=12, hours_per_week_max=20)
    found = names(**{param: value})
    assert len(found) == 1 and found[0] != "Other"


def test_financial_assistance_means_sliding_scale_or_assistance():
    make_facility(name="Sliding", assistance=["SS"])
    make_facility(name="Plan", assistance=["PA"])
    make_facility(name="None")
    assert names(financial_assistance="true") == ["Plan", "Sliding"]
    assert names(financial_assistance="false") == ["None"]


def test_telehealth_means_tele_level_or_virtual_option():
    make_facility(name="Tele", levels=["OIT", "TELE"])
    make_facility(name="Virtual", offers_virtual=True)
    make_facility(name="In person")
    assert names(telehealth="true") == ["Tele", "Virtual"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"payment": "XX"}, "payment"),
        ({"ownership": "NOPE"}, "ownership"),
        ({"state": "ZZ"}, "state"),
        ({"radius": "abc", "near": "38655"}, "radius"),
        ({"radius": "900", "near": "38655"}, "radius"),
        ({"radius": "25"}, "radius"),
        ({"near": "99999"}, "near"),
        ({"near": "Oxfrd, MS"}, "near"),
        ({"co_occurring": "maybe"}, "co_occurring"),
        ({"ordering": "distance"}, "ordering"),
        ({"ordering": "price"}, "ordering"),
        ({"max_hours_per_week": "lots"}, "max_hours_per_week"),
        ({"q": "x" * 2000}, "q"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_parameter(params, field):
    assert field in errors(**params)


def test_unknown_place_suggests_close_matches():
    assert "Oxford, MS" in str(errors(near="Oxfrd, MS")["near"])


def test_ambiguous_city_asks_which_state():
    message = str(errors(near="Springfield")["near"])
    assert "Which one do you mean?" in message
    # The states are offered as choices (the page's links, the API's `allowed`), not
    # written out in the message: two dozen of them were a wall of text on a phone.
    assert "Springfield, IL" not in message
    filterset = FacilityFilterSet({"near": "Springfield"}, queryset=Facility.objects.all())
    assert not filterset.is_valid()
    offered = [choice.value for choice in filterset.form.near_choices]
    assert "Springfield, IL" in offered and "Springfield, MO" in offered


def test_the_results_page_offers_an_ambiguous_citys_states_with_programs_first_counted(client):
    make_facility(name="Capital", city="Springfield", state="IL", zip="62701")
    make_facility(name="Capital 2", city="Springfield", state="IL", zip="62701")
    make_facility(name="Ozarks", city="Springfield", state="MO", zip="65806")
    response = client.get("/facilities/?near=Springfield")
    assert response.status_code == 400
    labels = [label for label, _ in response.context["near_suggestions"]]
    assert labels[:2] == ["Springfield, IL (2 programs)", "Springfield, MO (1 program)"]
    assert len(labels) > 2


def test_radius_search_keeps_listings_inside_and_orders_by_distance():
    # Hand-checked haversine distances from ZIP 38655 (Oxford, MS centre 34.3308, -89.4835).
    make_facility(name="Oxford", latitude=34.3665, longitude=-89.5192)  # ~3.2 mi
    make_facility(name="Batesville", latitude=34.3115, longitude=-89.9442)  # ~26.4 mi
    make_facility(name="Tupelo", latitude=34.2576, longitude=-88.7034)  # ~44.9 mi
    make_facility(name="Nowhere", latitude=None, longitude=None)
    found = search(near="38655", radius="50")
    assert [f.name for f in found] == ["Oxford", "Batesville", "Tupelo"]
    assert [f.name for f in search(near="38655")] == ["Oxford"]  # default 25 miles
    for facility in found:
        expected = geo.haversine_miles(34.3308, -89.4835, facility.latitude, facility.longitude)
        assert facility.distance_miles == pytest.approx(expected, abs=0.1)
    assert found[0].distance_miles == pytest.approx(3.2, abs=0.2)
    assert found[2].distance_miles == pytest.approx(44.9, abs=0.3)


def test_near_accepts_zip_city_state_and_coordinates():
    make_facility(name="Oxford", latitude=34.3665, longitude=-89.5192)
    for near in ["38655", "Oxford, MS", "Oxford MS", "oxford, mississippi", "34.36,-89.52"]:
        assert names(near=near) == ["Oxford"], near


def test_ordering_by_name_and_by_recent_verification():
    import datetime

    make_facility(name="B", verified_at=datetime.date(2026, 1, 1))
    make_facility(name="A", verified_at=datetime.date(2025, 1, 1))
    make_facility(name="C")
    assert [f.name for f in search(ordering="name")] == ["A", "B", "C"]
    assert [f.name for f in search(ordering="verified")] == ["B", "A", "C"]
