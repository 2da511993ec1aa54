"""Forgiving place names: the home page's box and the results page's `near` read them alike.

"jackson mississippi", "Jackson MS 39201", "jackson, miss.", "39201-1234", stray spaces
and punctuation; a city in several states offered with the states where we list
programs first, with their counts; misspellings answered with close matches ranked by
similarity and by where listings are; bad input explained, never a 500.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities import geo
from facilities.search.places import interpret_place

from .factories import make_facility
from .test_home_page import go as home
from .test_home_page import target as redirect_query

pytestmark = pytest.mark.django_db


def results(client, near):
    # follow: what was typed is first redirected to the search's one address (stripped).
    return client.get("/facilities/", {"near": near, "level_of_care": ""}, follow=True)


def listings_in(city, state, count, status="published"):
    for number in range(count):
        make_facility(
            name=f"{city} {state} {status} {number}", city=city, state=state, status=status
        )


# (typed, what to search near) for the forms of the issue and their cousins.
FORMS = [
    ("jackson mississippi", "Jackson, MS"),
    ("Jackson MS 39201", "39201"),
    ("jackson, miss.", "Jackson, MS"),
    ("39201-1234", "39201"),
    ("392011234", "39201"),
    ("39201 - 1234", "39201"),
    ("  JACKSON ,,  ms. ", "Jackson, MS"),
    ("Jackson; MS", "Jackson, MS"),
    ("Jackson, Mississippi 39201", "39201"),
    ("Jackson, MS, USA", "Jackson, MS"),
    ("MS, Jackson", "Jackson, MS"),
    ("Springfield, Ill.", "Springfield, IL"),
    ("fresno calif", "Fresno, CA"),
    ("Harrisburg, Penn.", "Harrisburg, PA"),
    ("Charlotte N. Car.", "Charlotte, NC"),
    ("Charleston, W. Va.", "Charleston, WV"),
    ("Kansas City Missouri", "Kansas City, MO"),
    ("new york new york", "New York, NY"),
    ("Mount Vernon in", "Mount Vernon, IN"),
    ("st. louis mo", "Saint Louis, MO"),
    # The city named with a ZIP of another state: the city the person named.
    ("Jackson TN 39201", "Jackson, TN"),
]


@pytest.mark.parametrize("typed, near", FORMS)
def test_resolve_place_reads_the_forms_people_type(typed, near):
    assert geo.resolve_place(typed).near_value == near


@pytest.mark.parametrize("typed, near", FORMS)
def test_the_home_box_searches_near_what_the_results_page_understands(client, typed, near):
    assert redirect_query(home(client, typed)) == {"near": [near]}
    # The results page reads the same text to the same place.
    response = results(client, typed)
    assert response.status_code == 200
    assert response.context["filterset"].place == geo.resolve_place(near)


@pytest.mark.parametrize(
    "typed, state",
    [("Miss.", "MS"), ("calif.", "CA"), ("N. Car.", "NC"), ("Okla", "OK"), (" Tenn. ", "TN")],
)
def test_a_state_written_the_old_way_goes_to_that_states_results(client, typed, state):
    assert redirect_query(home(client, typed)) == {"state": [state]}


def test_an_old_abbreviation_that_is_also_a_town_is_the_town(client):
    # Penn, PA and Penn, ND: "Penn" alone asks which; "Jackson, Penn." is Pennsylvania.
    response = home(client, "Penn")
    assert response.status_code == 200
    assert [label for label, _ in response.context["answer"].choices] == ["Penn, ND", "Penn, PA"]
    assert geo.state_code("Penn.") == "PA"


def test_a_city_ending_in_a_state_like_word_stays_a_city():
    # "city" is no state; "new washington" is a city (IN, OH), not New in Washington.
    assert geo.resolve_place("Lake Charles").near_value == "Lake Charles, LA"
    with pytest.raises(geo.PlaceError) as raised:
        geo.resolve_place("New Washington")
    assert raised.value.suggestions == ["New Washington, IN", "New Washington, OH"]


def test_an_unknown_zip_after_a_city_falls_back_to_the_city():
    assert geo.resolve_place("Jackson MS 39999").near_value == "Jackson, MS"
    with pytest.raises(geo.PlaceError, match="We do not know the ZIP code 39999"):
        geo.resolve_place("39999-1234")


def test_a_misspelled_state_is_offered_spelled_right(client):
    for typed in ("Jackson, Missisippi", "jackson missisippi"):
        with pytest.raises(geo.PlaceError) as raised:
            geo.resolve_place(typed)
        assert raised.value.suggestions == ["Jackson, MS"], typed
    response = home(client, "jacksn mississippi")
    assert response.status_code == 400
    assert [label for label, _ in response.context["answer"].choices][0] == "Jackson, MS"


# --- A city in several states ----------------------------------------------------------


def test_springfield_lists_the_states_with_programs_first_with_their_counts(client):
    listings_in("Springfield", "MO", 1)
    listings_in("Springfield", "IL", 4)
    response = home(client, "Springfield")
    assert response.status_code == 200
    answer = response.context["answer"]
    labels = [label for label, _ in answer.choices]
    assert labels[:2] == ["Springfield, IL (4 programs)", "Springfield, MO (1 program)"]
    # Then every other Springfield, by state, without a count.
    rest = labels[2:]
    assert rest == sorted(rest) and "Springfield, OR" in rest
    assert not any("program" in label for label in rest)
    assert "we list programs in 2 of them" in answer.error
    query = parse_qs(urlsplit(answer.choices[0][1]).query)
    assert query == {"near": ["Springfield, IL"]}
    body = response.content.decode()
    assert "Springfield, IL (4 programs)" in body


def test_the_results_page_offers_the_same_springfields_in_the_same_order(client):
    listings_in("Springfield", "MO", 1)
    listings_in("Springfield", "IL", 4)
    response = results(client, "Springfield")
    assert response.status_code == 400
    offered = [label for label, _ in response.context["near_suggestions"]]
    home_answer = interpret_place("Springfield")
    assert offered == [label for label, _ in home_answer.choices]  # counts and all
    assert offered[:2] == ["Springfield, IL (4 programs)", "Springfield, MO (1 program)"]


def test_only_published_listings_count(client):
    listings_in("Springfield", "IL", 2)
    listings_in("Springfield", "OR", 3, status="draft")
    listings_in("Springfield", "MO", 3, status="archived")
    labels = [label for label, _ in interpret_place("Springfield").choices]
    # Listed only in IL: the box goes there at once (as for "Jackson").
    assert labels == []
    listings_in("Springfield", "MA", 1)
    labels = [label for label, _ in interpret_place("Springfield").choices]
    assert labels[:2] == ["Springfield, IL (2 programs)", "Springfield, MA (1 program)"]
    assert "Springfield, OR" in labels and "Springfield, MO" in labels


def test_a_city_listed_in_one_state_goes_there(client):
    listings_in("Springfield", "IL", 1)
    listings_in("Springfield", "OR", 1, status="draft")
    assert redirect_query(home(client, "springfield")) == {"near": ["Springfield, IL"]}


# --- Misspellings ------------------------------------------------------------------------


def test_charlotesville_offers_virginia_where_the_listings_are_before_indiana(client):
    listings_in("Charlottesville", "VA", 2)
    response = home(client, "Charlotesville")
    assert response.status_code == 400
    labels = [label for label, _ in response.context["answer"].choices]
    assert labels[0] == "Charlottesville, VA (2 programs)"
    assert labels[1] == "Charlottesville, IN"
    response = results(client, "Charlotesville")
    assert response.context["filterset"].form.near_suggestions[:2] == [
        "Charlottesville, VA",
        "Charlottesville, IN",
    ]


def test_listings_lift_an_equally_close_place():
    # Without listings Virginia's Charlottesville (more ZIP codes, a bigger place) leads;
    # a listing in Indiana's puts it first.
    with pytest.raises(geo.PlaceError) as raised:
        geo.resolve_place("Charlotesville")
    assert raised.value.suggestions[:2] == ["Charlottesville, VA", "Charlottesville, IN"]
    counts = geo.ListingCounts({"charlottesville": {"IN": 1}}, {"IN": 1})
    with pytest.raises(geo.PlaceError) as raised:
        geo.resolve_place("Charlotesville", program_counts=lambda: counts)
    assert [choice.label for choice in raised.value.choices][:2] == [
        "Charlottesville, IN (1 program)",
        "Charlottesville, VA",
    ]


def test_a_much_closer_name_still_beats_a_listed_one():
    # Harleysville, PA has listings but is a poorer match than either Charlottesville;
    # it passes Cartersville, GA, as close a match, bigger, but with no listings.
    with pytest.raises(geo.PlaceError) as raised:
        geo.resolve_place("Charlotesville")
    labels = [choice.label for choice in raised.value.choices]
    assert labels.index("Cartersville, GA") < labels.index("Harleysville, PA")
    counts = geo.ListingCounts({"harleysville": {"PA": 9}}, {"PA": 9})
    with pytest.raises(geo.PlaceError) as raised:
        geo.resolve_place("Charlotesville", program_counts=lambda: counts)
    labels = [choice.label for choice in raised.value.choices]
    assert labels[:2] == ["Charlottesville, VA", "Charlottesville, IN"]
    assert labels.index("Harleysville, PA (9 programs)") < labels.index("Cartersville, GA")


def test_the_close_match_index_is_built_once():
    geo.resolve_place("39201")
    with pytest.raises(geo.PlaceError):
        geo.resolve_place("Charlotesville")
    built = geo._fuzzy_index.cache_info().misses
    for typed in ("Charlotesvile", "Springfeild", "Oxfrd, MS", "Jacksn MS"):
        with pytest.raises(geo.PlaceError):
            geo.resolve_place(typed)
    assert geo._fuzzy_index.cache_info().misses == built


# --- Queries -----------------------------------------------------------------------------


def test_listing_counts_are_one_cached_query_not_one_per_place_offered(client):
    for state in ("IL", "MO", "MA", "OR", "OH", "KY"):
        listings_in("Springfield", state, 1)
    with CaptureQueriesContext(connection) as first:
        answer = interpret_place("Springfield")
    assert len([label for label, _ in answer.choices if "program" in label]) == 6
    grouped = [q["sql"] for q in first.captured_queries if "GROUP BY" in q["sql"].upper()]
    assert len(grouped) == 1
    # The data version read and the grouped count, whatever the number of states.
    assert len(first.captured_queries) <= 2
    with CaptureQueriesContext(connection) as again:
        interpret_place("Springfeild")
        interpret_place("Charlotesville")
    assert not any("GROUP BY" in q["sql"].upper() for q in again.captured_queries)
    assert len(again.captured_queries) <= 2  # one data version read each


def test_a_place_that_is_found_does_not_count_listings(client):
    make_facility(name="Jackson")
    with CaptureQueriesContext(connection) as queries:
        interpret_place("Jackson, MS")
        geo.resolve_place("jackson mississippi", program_counts=pytest.fail)
    assert queries.captured_queries == []


def test_a_new_listing_shows_in_the_counts(client):
    listings_in("Springfield", "IL", 1)
    listings_in("Springfield", "MO", 1)
    assert interpret_place("Springfield").choices[0][0] == "Springfield, IL (1 program)"
    listings_in("Springfield", "MO", 2)
    assert interpret_place("Springfield").choices[0][0] == "Springfield, MO (3 programs)"


# --- Bad input ---------------------------------------------------------------------------

BAD = ["x" * 2000, "!!!", ",,, ;;", "💥", "💥💥, MS", "\x00", "a\x00b", "3920", "1e309", "\u200b"]


@pytest.mark.parametrize("typed", BAD)
def test_bad_input_in_the_home_box_is_a_form_error(client, typed):
    response = home(client, typed)
    assert response.status_code == 400, typed
    assert response.context["answer"].error
    assert 'aria-invalid="true"' in response.content.decode()


@pytest.mark.parametrize("typed", BAD)
def test_bad_input_in_near_is_a_form_error(client, typed):
    response = results(client, typed)
    assert response.status_code == 400, typed
    assert response.context["field_errors"]["near"]


def test_what_was_typed_is_escaped_in_every_message(client):
    hostile = '<img src=x onerror="alert(1)">'
    for typed in (hostile, f"{hostile}, MS", f"Jackson, {hostile}", f"{hostile} mississippi"):
        for response in (home(client, typed), results(client, typed)):
            body = response.content.decode()
            assert response.status_code == 400
            assert "<img src=x" not in body, typed
            assert "&lt;img src=x" in body, typed
