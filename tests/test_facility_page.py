"""The facility page: everything we know, grouped as the domain brief groups it."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities.models import Facility

from .factories import make_facility

pytestmark = pytest.mark.django_db


def full_facility(**overrides):
    fields = {
        "name": "Harbor Light Recovery Center",
        "program_name": "Evening IOP",
        "street1": "1200 North State Street",
        "zip": "39202",
        "latitude": 32.3120,
        "longitude": -90.1800,
        "phone": "(601) 555-0142",
        "intake_phone": "601-555-0143 ext. 7",
        "website": "https://harborlight.example.org/",
        "ownership": "VAMC",
        "co_occurring": True,
        "payments": ["PI", "MD"],
        "assistance": ["SS"],
        "populations": ["VET"],
        "ages": ["ADLT"],
        "genders": ["FEM"],
        "languages": ["SP"],
        "medications": ["BWN"],
        "approaches": ["CBT"],
        "therapies": ["YOGA"],
        "conditions": ["ALC"],
        "services": ["CSM"],
        "accreditations": ["CARF"],
        "hours_per_week_min": 9,
        "hours_per_week_max": 12,
        "sessions_per_week": 3,
        "session_length_minutes": 180,
        "duration_weeks": 10,
        "offers_evening": True,
        "offers_virtual": True,
        "verified_at": datetime.date(2026, 3, 2),
    }
    fields.update(overrides)
    return make_facility(**fields)


def test_page_groups_what_we_know_with_plain_language_labels(client):
    facility = full_facility()
    response = client.get(facility.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    sections = [
        "Contact and how to start",
        "IOP schedule",
        "Payment and help with cost",
        "Who it serves",
        "Treatment",
        "Licensing and who runs it",
    ]
    positions = [body.index(f">{heading}</h2>") for heading in sections]
    assert positions == sorted(positions)
    for text in [
        "Evening IOP",
        "1200 North State Street",
        "9 to 12",
        "3 hours",  # session length in words
        "10 weeks",
        "Private health insurance<span",
        "The state and federal program for people with low incomes.",  # Term.description
        "Sliding fee scale",
        "Veterans",
        "Spanish",
        "Buprenorphine with naloxone",
        "Cognitive behavioral therapy",
        "Yoga",
        "Alcohol use",
        "Case management",
        "CARF",
        "Department of Veterans Affairs (federal government)",
        "Treats substance use and mental health disorders together",
        "Last verified March 2, 2026",
    ]:
        assert text in body, text


def test_call_intake_website_and_directions_are_links(client):
    facility = full_facility()
    body = client.get(facility.get_absolute_url()).content.decode()
    assert 'href="tel:+16015550143;ext=7"' in body
    assert 'href="tel:+16015550142"' in body
    assert 'href="https://harborlight.example.org/"' in body
    assert 'href="https://www.openstreetmap.org/directions?to=32.31200%2C-90.18000"' in body


def test_directions_search_the_address_when_the_location_is_only_the_zip_centre(client):
    # Without coordinates a listing gets its ZIP centre, marked approximate.
    facility = full_facility(latitude=None, longitude=None)
    assert facility.location_approximate
    body = client.get(facility.get_absolute_url()).content.decode()
    assert "https://www.openstreetmap.org/search?query=1200+North+State+Street%2C+Jackson" in body
    assert "openstreetmap.org/directions" not in body


def test_fictional_listings_say_so(client):
    real = full_facility(name="Real one")
    demo = full_facility(name="Demo one", source=Facility.Source.DEMO)
    badge = "Demo data (fictional): not a real program"
    assert badge in client.get(demo.get_absolute_url()).content.decode()
    assert badge not in client.get(real.get_absolute_url()).content.decode()


@pytest.mark.parametrize("status", [Facility.Status.DRAFT, Facility.Status.ARCHIVED])
def test_unpublished_listings_are_not_found(client, status):
    facility = full_facility(status=status)
    assert client.get(facility.get_absolute_url()).status_code == 404
    assert client.get("/facilities/no-such-place/").status_code == 404


def test_nearby_lists_the_five_closest_other_published_iops(client):
    here = full_facility(latitude=34.3665, longitude=-89.5192)
    # Distances from `here`, increasing.
    spots = [
        ("N1", 34.37, -89.52),
        ("N2", 34.40, -89.52),
        ("N3", 34.45, -89.52),
        ("N4", 34.50, -89.52),
        ("N5", 34.55, -89.52),
        ("N6", 34.60, -89.52),
    ]
    for name, lat, lng in reversed(spots):
        make_facility(name=name, latitude=lat, longitude=lng)
    make_facility(
        name="Closer but outpatient", levels=["ORT"], latitude=34.3666, longitude=-89.5192
    )
    make_facility(name="Closer but draft", status="draft", latitude=34.3666, longitude=-89.5192)
    make_facility(name="No coordinates", latitude=None, longitude=None)
    response = client.get(here.get_absolute_url())
    nearby = response.context["nearby"]
    assert [row["name"] for row in nearby] == ["N1", "N2", "N3", "N4", "N5"]
    assert nearby[0]["distance_miles"] < nearby[-1]["distance_miles"]
    assert f"{nearby[0]['distance_miles']:.1f} miles away" in response.content.decode()


def test_nearby_in_a_dense_place_is_the_five_closest_found_in_the_first_radius(client):
    """With five IOPs within 10 miles the search stops there; what lies farther is farther."""
    here = full_facility(latitude=34.3665, longitude=-89.5192)
    for number in range(8):  # 0.7 to 5.5 miles north; then one 44 miles away
        make_facility(name=f"Close {number}", latitude=34.3765 + number * 0.01, longitude=-89.5192)
    make_facility(name="Far", latitude=35.0, longitude=-89.5192)
    nearby = client.get(here.get_absolute_url()).context["nearby"]
    assert [row["name"] for row in nearby] == [f"Close {number}" for number in range(5)]


def test_nearby_is_empty_without_coordinates_or_neighbours(client):
    lonely = full_facility(latitude=None, longitude=None)
    response = client.get(lonely.get_absolute_url())
    assert response.context["nearby"] == []
    assert "We have no other IOP listings within" in response.content.decode()


def test_page_links_to_report_a_problem(client):
    facility = full_facility()
    body = client.get(facility.get_absolute_url()).content.decode()
    assert f'href="/facilities/{facility.slug}/report/"' in body


def test_query_count_does_not_grow_with_what_a_facility_offers(client):
    sparse = make_facility(name="Sparse", latitude=34.0, longitude=-89.0)
    rich = full_facility(latitude=36.0, longitude=-89.0)
    client.get(sparse.get_absolute_url())  # warm the vocabulary cache
    counts = []
    for facility in (sparse, rich):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(facility.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_html_in_a_facility_name_is_escaped(client):
    facility = full_facility(name="<img src=x onerror=alert(1)>")
    body = client.get(facility.get_absolute_url()).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize(
    "county, shown",
    [
        ("Hinds County", "Hinds County"),
        ("Hinds", "Hinds County"),
        ("Orleans Parish", "Orleans Parish"),
    ],
)
def test_county_is_named_once(client, county, shown):
    from .factories import make_facility

    facility = make_facility(county=county)
    html = client.get(facility.get_absolute_url()).content.decode()
    assert shown in html
    assert f"{shown} County" not in html
