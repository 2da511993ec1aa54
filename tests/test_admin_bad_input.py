"""Admin addresses and forms with a NUL byte are a 400, never a database error (500).

PostgreSQL refuses NUL in text, and admin list filters hand their values to the database.
"""

import pytest

pytestmark = pytest.mark.django_db

LISTINGS = "/admin/facilities/facility/"


@pytest.mark.parametrize(
    "query",
    [
        "status__exact=%00",
        "state=%00",
        "source__exact=M%00",
        "levels_of_care__id__exact=%00",
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
