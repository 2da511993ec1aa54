"""Bad input to admin is answered, never a server error (500).

Addresses and forms with a NUL byte are a 400: PostgreSQL refuses NUL in text, and
admin list filters hand their values to the database. A listing's service lines
(inlines) with wrong values come back as form errors.
"""

import pytest
from django.urls import reverse

from facilities.models import Facility
from tests.admin_pages import inline_forms, post_data_from_form
from tests.factories import add_line, line_of

pytestmark = pytest.mark.django_db

LISTINGS = "/admin/facilities/facility/"


@pytest.mark.parametrize(
    "query",
    [
        "status__exact=%00",
        "state=%00",
        "source__exact=M%00",
        "lines__levels_of_care__id__exact=%00",
        "lines__payment_options__id__exact=%00",
        "q=Region%00Ten",
        "o=%00",
        "%00=1",
    ],
)
def test_a_nul_in_a_listing_filter_is_a_400(superuser_client, query):
    response = superuser_client.get(f"{LISTINGS}?{query}")
    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/admin/facilities/term/?group__exact=%00",
        "/admin/facilities/problemreport/?status__exact=%00",
    ],
)
def test_a_nul_in_other_admin_filters_is_a_400(superuser_client, path):
    assert superuser_client.get(path).status_code == 400


def test_a_nul_in_the_login_form_is_a_400(client):
    response = client.post("/admin/login/", {"username": "root\x00", "password": "pw"})
    assert response.status_code == 400


def test_admin_filters_without_a_nul_still_work(superuser_client):
    assert superuser_client.get(f"{LISTINGS}?status__exact=published").status_code == 200


def test_public_pages_keep_their_own_answer_to_a_nul(client):
    # The results page explains what is wrong on its own 400 page, with the help lines.
    response = client.get("/facilities/?near=%00")
    assert response.status_code == 400
    assert b"We could not run this search" in response.content


# A listing's service lines, as a hand-made or tampered request may send them


@pytest.fixture
def listing(db):
    facility = Facility.objects.create(
        name="Hope Recovery", city="Jackson", state="MS", zip="39201"
    )
    add_line(facility, "SA", levels=["OIT"], payments=["MD"])
    return facility


def change_url(facility):
    return reverse("admin:facilities_facility_change", args=[facility.pk])


def form_as_loaded(client, facility):
    return post_data_from_form(client.get(change_url(facility)))


def refused(client, facility, data):
    """Post; the page comes back with errors, and the listing and its line are unchanged."""
    line = line_of(facility)
    before = (Facility.objects.get(pk=facility.pk).version, line.version)
    response = client.post(change_url(facility), data)
    assert response.status_code == 200
    line.refresh_from_db()
    assert (Facility.objects.get(pk=facility.pk).version, line.version) == before
    return response


@pytest.mark.parametrize(
    "field, value",
    [
        ("hours_per_week_min", "nine"),
        ("hours_per_week_max", "12.5"),
        ("sessions_per_week", "-3"),
        ("session_length_minutes", "99999999999999999999"),
        ("duration_weeks", "0"),
        ("kind", "XX"),
        ("payment_options", ["999999"]),
        ("payment_options", ["abc"]),
        ("payment_options", ["99999999999999999999"]),
        ("levels_of_care", ["1.5"]),
    ],
)
def test_a_bad_value_in_a_line_is_a_form_error(superuser_client, listing, field, value):
    data = form_as_loaded(superuser_client, listing)
    data[f"lines-0-{field}"] = value
    response = refused(superuser_client, listing, data)
    assert field in inline_forms(response).forms[0].errors


def test_a_term_of_another_vocabulary_is_refused(superuser_client, listing, terms):
    data = form_as_loaded(superuser_client, listing)
    data["lines-0-payment_options"] = [str(terms("population", "VET").pk)]
    response = refused(superuser_client, listing, data)
    assert "payment_options" in inline_forms(response).forms[0].errors


def test_another_listings_line_cannot_be_edited_through_this_one(superuser_client, listing):
    other = Facility.objects.create(name="Other", city="Oxford", state="MS", zip="38655")
    other_line = add_line(other, "SA", levels=["ORT"])
    data = form_as_loaded(superuser_client, listing)
    data["lines-0-id"] = str(other_line.pk)
    data["lines-0-hours_per_week_min"] = "9"
    response = superuser_client.post(change_url(listing), data)
    assert response.status_code in {200, 302}
    other_line.refresh_from_db()
    assert (other_line.facility_id, other_line.hours_per_week_min) == (other.pk, None)


@pytest.mark.parametrize(
    "changes",
    [
        {"lines-TOTAL_FORMS": "abc"},
        {"lines-TOTAL_FORMS": None, "lines-INITIAL_FORMS": None},  # no management form
        {"lines-0-seen_version": "not a number"},
    ],
)
def test_a_tampered_line_formset_is_refused(superuser_client, listing, changes):
    data = form_as_loaded(superuser_client, listing)
    data["name"] = "Renamed"
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    response = superuser_client.post(change_url(listing), data)
    assert response.status_code in {200, 400}
    assert Facility.objects.get(pk=listing.pk).name == "Hope Recovery"


def test_a_nul_in_a_line_field_is_a_400(superuser_client, listing):
    data = form_as_loaded(superuser_client, listing)
    data["lines-0-hours_per_week_min"] = "9\x00"
    assert superuser_client.post(change_url(listing), data).status_code == 400


def test_a_formset_claiming_more_lines_than_the_listing_has_is_no_server_error(
    superuser_client, listing
):
    data = form_as_loaded(superuser_client, listing)
    data.update({"lines-INITIAL_FORMS": "5", "lines-TOTAL_FORMS": "5"})
    assert superuser_client.post(change_url(listing), data).status_code in {200, 302}
    assert list(listing.lines.values_list("kind", flat=True)) == ["SA"]
