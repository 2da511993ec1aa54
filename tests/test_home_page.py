"""The home page: one box for a city, ZIP or state; quick links; what an IOP is."""

from urllib.parse import parse_qs, urlsplit

import pytest

from facilities.search.places import interpret_place

from .factories import make_facility

pytestmark = pytest.mark.django_db


def go(client, place, **extra):
    return client.get("/", {"place": place, **extra})


def target(response):
    assert response.status_code == 302, response.status_code
    parts = urlsplit(response["Location"])
    assert parts.path == "/facilities/"
    return parse_qs(parts.query)


@pytest.mark.parametrize("typed", ["Mississippi", "ms", "MS", "mississippi "])
def test_a_state_goes_to_that_states_results(client, typed):
    assert target(go(client, typed)) == {"state": ["MS"]}


def test_a_zip_code_searches_near_it(client):
    assert target(go(client, "39201")) == {"near": ["39201"]}


def test_a_zip_code_that_does_not_exist_is_explained(client):
    response = go(client, "00000")
    assert response.status_code == 400
    assert "We do not know the ZIP code 00000" in response.content.decode()


def test_city_and_state_searches_near_the_city(client):
    assert target(go(client, "Jackson, MS")) == {"near": ["Jackson, MS"]}
    assert target(go(client, "oxford ms")) == {"near": ["Oxford, MS"]}


def test_a_bare_city_goes_to_the_one_state_where_we_list_programs_there(client):
    make_facility(name="Jackson MS", city="Jackson", state="MS")
    # There are Jacksons in many states; we only list one.
    assert target(go(client, "Jackson")) == {"near": ["Jackson, MS"]}


def test_a_bare_city_listed_in_two_states_offers_a_choice(client):
    make_facility(name="Jackson MS", city="Jackson", state="MS")
    make_facility(name="Jackson TN", city="Jackson", state="TN", zip="38301")
    response = go(client, "Jackson")
    assert response.status_code == 200
    answer = response.context["answer"]
    labels = [label for label, _ in answer.choices]
    # The two with programs first, with their counts; then the other Jacksons.
    assert labels[:2] == ["Jackson, MS (1 program)", "Jackson, TN (1 program)"]
    assert "Jackson, WY" in labels[2:]
    assert parse_qs(urlsplit(answer.choices[1][1]).query) == {"near": ["Jackson, TN"]}
    body = response.content.decode()
    assert "Which one do you mean?" in body and "Jackson, TN (1 program)" in body


def test_a_bare_city_we_do_not_list_asks_which_state(client):
    response = go(client, "Springfield")
    assert response.status_code == 200
    labels = [label for label, _ in response.context["answer"].choices]
    assert "Springfield, IL" in labels and "Springfield, MO" in labels


def test_an_unknown_place_is_an_error_with_close_matches(client):
    response = go(client, "Oxfrd, MS")
    assert response.status_code == 400
    body = response.content.decode()
    assert "We could not find a place called" in body
    assert "Oxford, MS" in [label for label, _ in response.context["answer"].choices]
    assert 'aria-invalid="true"' in body


def test_a_very_long_or_hostile_entry_is_refused_politely(client):
    response = go(client, "x" * 2000)
    assert response.status_code == 400
    assert "That is too long" in response.content.decode()
    response = go(client, "<script>alert(1)</script>")
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()


def test_payment_and_co_occurring_choices_are_carried_to_the_results(client):
    query = target(go(client, "39201", payment=["MD", "MI"], co_occurring="true"))
    assert query == {"near": ["39201"], "payment": ["MD", "MI"], "co_occurring": ["true"]}


def test_an_empty_box_with_filters_searches_everywhere(client):
    assert target(go(client, "", payment="MC")) == {"payment": ["MC"]}


def test_interpret_place_keeps_extra_filters_in_every_choice():
    answer = interpret_place("Springfield", {"payment": ["MD"]})
    assert answer.choices and all("payment=MD" in url for _, url in answer.choices)


def test_home_lists_states_with_listings_and_their_iop_counts(client):
    make_facility(name="A")
    make_facility(name="B")
    make_facility(name="Outpatient only", levels=["ORT"])
    make_facility(name="Draft", status="draft")
    make_facility(name="Tennessee", state="TN", city="Memphis", zip="38103")
    response = client.get("/")
    assert response.status_code == 200
    states = {row["code"]: (row["iop"], row["total"]) for row in response.context["states"]}
    assert states == {"MS": (2, 3), "TN": (1, 1)}
    body = response.content.decode()
    assert 'href="/states/ms/"' in body and "2 IOPs" in body and "1 IOP<" in body


def test_home_has_quick_filters_explainers_and_help_lines(client):
    body = client.get("/").content.decode()
    assert 'href="/facilities/?payment=MD"' in body
    assert 'href="/facilities/?co_occurring=true"' in body
    assert 'href="/facilities/?financial_assistance=true"' in body
    assert "What is an IOP?" in body and "How to choose" in body
    assert "9 hours a week" in body
    assert 'href="tel:988"' in body and 'href="tel:+18006624357"' in body
    assert "clinician's assessment decides" in body
    assert '<a class="skip-link" href="#main">' in body and '<main id="main"' in body


@pytest.mark.parametrize("typed", ["\x00", "1e309", "💥", ",", "  ,  MS"])
def test_odd_entries_never_cause_a_server_error(client, typed):
    assert go(client, typed).status_code in (200, 302, 400)
