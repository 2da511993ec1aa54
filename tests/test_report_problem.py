"""Report a problem with a listing: a queue entry for curators, with spam protection."""

import pytest
from django.test import Client

from facilities.forms import REPORTS_PER_HOUR
from facilities.models import ProblemReport

from .factories import make_facility

pytestmark = pytest.mark.django_db

GOOD = {"category": "phone", "message": "The number rings out, nobody answers.", "contact": ""}


def report_url(facility):
    return f"/facilities/{facility.slug}/report/"


def test_the_form_asks_what_is_wrong_and_is_csrf_protected(client):
    facility = make_facility(name="Harbor")
    response = client.get(report_url(facility))
    assert response.status_code == 200
    body = response.content.decode()
    assert "csrfmiddlewaretoken" in body
    for label in [
        "What kind of problem is it?",
        "What is wrong?",
        "Your email or phone (optional)",
    ]:
        assert label in body
    assert "The facility has closed or no longer offers IOP" in body


def test_a_report_lands_in_the_queue_and_thanks_the_sender(client):
    facility = make_facility(name="Harbor")
    response = client.post(report_url(facility), {**GOOD, "contact": "sam@example.org"})
    assert response.status_code == 302
    assert response["Location"] == f"/facilities/{facility.slug}/report/thanks/"
    report = ProblemReport.objects.get()
    assert report.facility == facility
    assert report.category == ProblemReport.Category.PHONE
    assert report.message == GOOD["message"]
    assert report.contact == "sam@example.org"
    assert report.status == ProblemReport.Status.NEW
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "your report was sent" in thanks.content.decode()


def test_the_honeypot_field_filled_in_saves_nothing_but_looks_the_same(client):
    facility = make_facility(name="Harbor")
    response = client.post(report_url(facility), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 302
    assert response["Location"].endswith("/report/thanks/")
    assert ProblemReport.objects.count() == 0


def test_reports_are_rate_limited_per_client_address(client):
    facility = make_facility(name="Harbor")
    for _ in range(REPORTS_PER_HOUR):
        assert client.post(report_url(facility), GOOD).status_code == 302
    blocked = client.post(report_url(facility), GOOD)
    assert blocked.status_code == 429
    assert "Please try again later" in blocked.content.decode()
    assert ProblemReport.objects.count() == REPORTS_PER_HOUR
    # Someone else, elsewhere, can still report.
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post(report_url(facility), GOOD).status_code == 302
    assert ProblemReport.objects.count() == REPORTS_PER_HOUR + 1


def test_honeypot_posts_count_towards_the_rate_limit(client):
    facility = make_facility(name="Harbor")
    for _ in range(REPORTS_PER_HOUR):
        client.post(report_url(facility), {**GOOD, "website": "x"})
    assert client.post(report_url(facility), GOOD).status_code == 429
    assert ProblemReport.objects.count() == 0


@pytest.mark.parametrize(
    "data, field",
    [
        ({"message": "It closed."}, "category"),
        ({"category": "phone", "message": ""}, "message"),
        ({"category": "phone", "message": "x"}, "message"),
        ({"category": "bogus", "message": "It closed last year."}, "category"),
        ({"category": "other", "message": "y" * 2001}, "message"),
    ],
)
def test_incomplete_reports_are_shown_again_with_the_problem(client, data, field):
    facility = make_facility(name="Harbor")
    response = client.post(report_url(facility), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "Please check your report" in response.content.decode()
    assert ProblemReport.objects.count() == 0


def test_html_in_a_report_is_escaped_when_shown_back(client):
    facility = make_facility(name="Harbor")
    response = client.post(report_url(facility), {"message": "<script>alert(1)</script>"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_posting_without_the_csrf_token_is_refused():
    facility = make_facility(name="Harbor")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(report_url(facility), GOOD).status_code == 403
    assert ProblemReport.objects.count() == 0


def test_unpublished_listings_cannot_be_reported(client):
    draft = make_facility(name="Draft", status="draft")
    assert client.get(report_url(draft)).status_code == 404
    assert client.post(report_url(draft), GOOD).status_code == 404


def test_a_nul_character_is_a_form_error_not_a_server_error(client):
    facility = make_facility(name="Harbor")
    response = client.post(report_url(facility), {"category": "other", "message": "bad\x00one"})
    assert response.status_code == 400
    assert ProblemReport.objects.count() == 0
