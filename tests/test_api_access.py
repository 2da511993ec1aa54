"""Who may read the API and how often; CORS; conditional GET for cheap polling."""

import time

import pytest
from django.contrib.auth.models import Group, User
from django.utils.http import http_date
from rest_framework_api_key.models import APIKey

from facilities.permissions import CURATORS_GROUP

from .factories import make_facility

pytestmark = pytest.mark.django_db

LIST = "/api/v1/facilities/"


def key_header(key):
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


@pytest.fixture
def partner_key():
    _, key = APIKey.objects.create_key(name="211 helpline")
    return key


# Throttling


def test_anonymous_reads_are_throttled_with_retry_after(client, settings):
    settings.API_ANON_RATE = "3/min"
    assert [client.get(LIST).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(LIST)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"]
    # Every endpoint shares the one allowance.
    assert client.get("/api/v1/vocabularies/").status_code == 429


def test_anonymous_callers_are_counted_by_address(client, settings):
    settings.API_ANON_RATE = "1/min"
    assert client.get(LIST, REMOTE_ADDR="10.0.0.1").status_code == 200
    assert client.get(LIST, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get(LIST, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(client, settings):
    settings.API_ANON_RATE = "1/min"
    assert client.get(LIST, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert client.get(LIST, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429


def test_a_key_gets_its_own_higher_allowance(client, settings, partner_key):
    settings.API_ANON_RATE = "2/min"
    settings.API_KEY_RATE = "5/min"
    codes = [client.get(LIST, **key_header(partner_key)).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    # The keyed requests did not use up the address's anonymous allowance.
    assert [client.get(LIST).status_code for _ in range(3)] == [200, 200, 429]
    _, other_key = APIKey.objects.create_key(name="health plan")
    assert client.get(LIST, **key_header(other_key)).status_code == 200


def test_the_window_passes(client, settings):
    settings.API_ANON_RATE = "1/s"
    assert client.get(LIST).status_code == 200
    assert client.get(LIST).status_code == 429
    time.sleep(1.1)
    assert client.get(LIST).status_code == 200


# API keys


def test_valid_key_is_accepted(client, partner_key):
    response = client.get(LIST, **key_header(partner_key))
    assert response.status_code == 200


def test_keys_are_stored_hashed(partner_key):
    stored = APIKey.objects.get()
    assert partner_key not in (stored.hashed_key, stored.id)
    assert stored.hashed_key.startswith("sha512$$")
    assert stored.is_valid(partner_key)


def test_revoked_key_is_refused(client, partner_key):
    APIKey.objects.update(revoked=True)
    response = client.get(LIST, **key_header(partner_key))
    assert response.status_code == 401
    assert response.json() == {"detail": "This API key has been revoked."}
    assert response["WWW-Authenticate"] == "Api-Key"


def test_expired_key_is_refused(client, partner_key):
    from django.utils import timezone

    APIKey.objects.update(expiry_date=timezone.now() - timezone.timedelta(days=1))
    response = client.get(LIST, **key_header(partner_key))
    assert response.status_code == 401 and "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "value",
    ["Api-Key garbage", "Api-Key ", "api-key abc.def", "Api-Key a\x00b.c", "Api-Key " + "x" * 5000],
)
def test_garbage_keys_are_refused_as_json(client, partner_key, value):
    response = client.get(LIST, HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_right_prefix_wrong_secret_is_refused(client, partner_key):
    prefix = partner_key.partition(".")[0]
    response = client.get(LIST, **key_header(prefix + ".wrongsecret"))
    assert response.status_code == 401 and response.json() == {"detail": "Unknown API key."}


def test_no_key_and_other_schemes_are_anonymous(client):
    assert client.get(LIST).status_code == 200
    assert client.get(LIST, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").status_code == 200


def test_curators_can_issue_and_revoke_keys_in_admin(client):
    from facilities.permissions import ensure_curators_group

    ensure_curators_group()
    curator = User.objects.create_user("curator", password="pw", is_staff=True)
    curator.groups.add(Group.objects.get(name=CURATORS_GROUP))
    assert curator.has_perm("rest_framework_api_key.add_apikey")
    assert curator.has_perm("rest_framework_api_key.change_apikey")
    assert not curator.has_perm("rest_framework_api_key.delete_apikey")
    client.force_login(curator)
    response = client.post(
        "/admin/rest_framework_api_key/apikey/add/", {"name": "Helpline"}, follow=True
    )
    assert response.status_code == 200
    key = APIKey.objects.get(name="Helpline")
    message = " ".join(str(m) for m in response.context["messages"])
    shown = message.split("The API key for Helpline is: ")[1].split()[0].rstrip(".")
    assert key.is_valid(shown)
    client.post(
        f"/admin/rest_framework_api_key/apikey/{key.pk}/change/",
        {"name": "Helpline", "revoked": "on"},
    )
    key.refresh_from_db()
    assert key.revoked
    client.logout()
    assert client.get(LIST, **key_header(shown)).status_code == 401


# CORS


def test_cors_allows_any_origin_to_read(client):
    response = client.get(LIST, HTTP_ORIGIN="https://partner.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]


def test_cors_preflight_allows_get_and_not_post(client):
    response = client.options(
        LIST,
        HTTP_ORIGIN="https://partner.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    allowed = {method.strip() for method in response["Access-Control-Allow-Methods"].split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS"}
    headers = response["Access-Control-Allow-Headers"]
    assert "authorization" in headers and "if-none-match" in headers
    post = client.post(LIST, HTTP_ORIGIN="https://partner.example")
    assert post.status_code == 405


def test_cors_is_only_for_the_api(client):
    response = client.get("/admin/login/", HTTP_ORIGIN="https://partner.example")
    assert "Access-Control-Allow-Origin" not in response


# Conditional GET


def test_unchanged_query_is_a_304_by_etag(client):
    make_facility()
    first = client.get(LIST, {"state": "MS"})
    assert first["Cache-Control"] == "public, max-age=60"
    etag = first["ETag"]
    again = client.get(LIST, {"state": "MS"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "public, max-age=60"
    assert client.get(LIST, {"state": "VA"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.get(
        LIST, {"state": "MS", "page_size": 5}, HTTP_IF_NONE_MATCH=etag
    ).status_code == (200)


def test_a_change_to_any_listing_changes_the_etag(client):
    facility = make_facility()
    etag = client.get(LIST)["ETag"]
    facility.phone = "601-555-0199"
    facility.save()
    response = client.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag
    etag = response["ETag"]
    make_facility(status="draft")  # even unpublished rows: a listing may have left the results
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_vocabulary_edit_changes_the_etag(client):
    from facilities.models import Term

    make_facility(ownership="PVTP")
    etag = client.get(LIST)["ETag"]
    Term.objects.filter(code="PVTP").update(label="Private, for profit")
    from facilities import selectors

    selectors.clear_vocabulary_cache()
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_if_modified_since_gives_a_304_until_a_save(client):
    facility = make_facility()
    response = client.get(LIST)
    last_modified = response["Last-Modified"]
    assert last_modified == http_date(facility.updated_at.timestamp())
    assert client.get(LIST, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    time.sleep(1)
    facility.save()
    assert client.get(LIST, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200


@pytest.mark.parametrize(
    "path, params",
    [
        (LIST, {"format": "csv"}),
        (LIST, {"format": "geojson"}),
        ("/api/v1/vocabularies/", {}),
        ("/api/v1/states/", {}),
        ("/api/v1/states/MS/summary/", {"level_of_care": "OIT"}),
    ],
)
def test_every_endpoint_answers_304_to_its_own_etag(client, path, params):
    make_facility()
    etag = client.get(path, params)["ETag"]
    assert client.get(path, params, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_detail_304_and_csv_etag_differs_from_json(client):
    facility = make_facility()
    path = f"{LIST}{facility.id}/"
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(LIST)["ETag"] != client.get(LIST, {"format": "csv"})["ETag"]


def test_head_answers_headers_only(client):
    make_facility()
    response = client.head(LIST)
    assert response.status_code == 200 and response.content == b""
    assert response["ETag"] == client.get(LIST)["ETag"]


def test_errors_are_not_cached(client):
    response = client.get(LIST, {"payment": "XX"})
    assert response.status_code == 400
    assert "ETag" not in response and "public" not in response.get("Cache-Control", "")
