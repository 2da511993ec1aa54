"""TRACE is refused everywhere with 405: pages would echo themselves, the API would run its
parameter checks first (a bad `format` answered 400)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/facilities/?near=38655", "/states/ms/", "/admin/login/"])
def test_trace_on_a_page_is_a_405(client, path):
    response = client.generic("TRACE", path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert b"<html" not in response.content


@pytest.mark.parametrize("path", ["/api/v1/facilities/", "/api/v1/facilities/?format=nope"])
def test_trace_on_the_api_is_a_json_405(client, path):
    response = client.generic("TRACE", path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == {"detail": 'Method "TRACE" not allowed.'}


def test_other_methods_are_unchanged(client):
    assert client.get("/").status_code == 200
    assert client.head("/").status_code == 200
    assert client.options("/api/v1/facilities/").status_code == 200
