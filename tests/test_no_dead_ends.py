"""A search that finds nothing is never a dead end (issue 14, item 1).

Zero results offer the nearest programs that match every other filter at any distance,
telehealth in the person's state, each wider search with the number it finds (none that
finds nothing) and the help lines. A walk over ZIP codes in sparse places follows every
link offered.
"""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities import data_version, geo, selectors
from facilities.search import fallbacks

from .conftest import clear_cache
from .factories import make_facility

pytestmark = pytest.mark.django_db

URL = "/facilities/"


def get(client, params):
    # follow: a search not spelled canonically is first redirected to its one address.
    return client.get(URL + "?" + urlencode(params, doseq=True), follow=True)


def count(response):
    assert response.status_code == 200, response.content[:2000]
    return response.context["page"].paginator.count


def forget_cached_counts():
    """So following a link counts it afresh, not from what the offering page cached."""
    clear_cache()
    data_version.clear_process_cache()


# Real places (ZIP and city centres), few programs, far apart: Montana, Wyoming, Alaska,
# northern Maine. Nothing within 25 miles of 59001, 82001, 99701 or 04730.
BILLINGS = {
    "city": "Billings",
    "state": "MT",
    "zip": "59101",
    "latitude": 45.7833,
    "longitude": -108.5007,
}
MISSOULA = {
    "city": "Missoula",
    "state": "MT",
    "zip": "59801",
    "latitude": 46.8721,
    "longitude": -113.9940,
}
GREAT_FALLS = {
    "city": "Great Falls",
    "state": "MT",
    "zip": "59401",
    "latitude": 47.5002,
    "longitude": -111.3008,
}
DENVER = {
    "city": "Denver",
    "state": "CO",
    "zip": "80202",
    "latitude": 39.7392,
    "longitude": -104.9903,
}
ANCHORAGE = {
    "city": "Anchorage",
    "state": "AK",
    "zip": "99501",
    "latitude": 61.2181,
    "longitude": -149.9003,
}
BANGOR = {
    "city": "Bangor",
    "state": "ME",
    "zip": "04401",
    "latitude": 44.8012,
    "longitude": -68.7778,
}
JACKSON = {
    "city": "Jackson",
    "state": "MS",
    "zip": "39201",
    "latitude": 32.2988,
    "longitude": -90.1848,
}


def build_sparse():
    """Programs in a few cities of sparse states, each taking different payments."""
    listings = {
        "billings": make_facility(name="Yellowstone Recovery", payments=["MD", "PI"], **BILLINGS),
        "billings 2": make_facility(
            name="Rimrock IOP", payments=["PI"], co_occurring=True, **BILLINGS
        ),
        "missoula": make_facility(
            name="Clark Fork Telehealth IOP", payments=["SF"], offers_virtual=True, **MISSOULA
        ),
        "great falls": make_facility(
            name="Great Falls Outpatient", levels=["ORT"], payments=["MD", "MC"], **GREAT_FALLS
        ),
        "denver": make_facility(name="Front Range IOP", payments=["PI", "MI"], **DENVER),
        "anchorage": make_facility(
            name="Chugach IOP", payments=["MD"], offers_virtual=True, **ANCHORAGE
        ),
        "bangor": make_facility(name="Penobscot IOP", payments=["MC", "MI"], **BANGOR),
        "jackson": make_facility(name="Jackson IOP", payments=["MD", "MI", "SF"], **JACKSON),
    }
    for number, facility in enumerate(listings.values()):
        facility.phone = f"406-555-01{number:02d}"
        facility.save(update_fields=["phone"])
    return listings


# Searches that find nothing in those places: a ZIP alone, with filters, a small radius,
# a filter nobody anywhere meets, a state with no programs, a ZIP without `near`.
ZERO_RESULT_SEARCHES = [
    {"near": "59001"},
    {"near": "59001", "payment": "MD"},
    {"near": "59001", "payment": "MC"},
    {"near": "59001", "payment": "MI", "population": "VET"},
    {"near": "59001", "radius": "5", "co_occurring": "true"},
    {"near": "59001", "level_of_care": "ODT"},
    {"near": "82001"},
    {"near": "82001", "payment": "MD", "telehealth": "true"},
    {"near": "99701"},
    {"near": "Fairbanks, AK", "payment": "SF", "evening": "true"},
    {"near": "04730", "payment": "MD", "ordering": "name"},
    {"near": "04730", "radius": "50", "payment": "MC,MI", "co_occurring": "true"},
    {"near": "19.7,-155.1"},
    {"state": "WY"},
    {"state": "MT", "payment": "MI"},
    {"state": "AK", "payment": "PI", "population": "VET"},
    {"zip": "82001"},
    {"q": "nothing-like-this"},
    {"payment": "ITU"},
]


@pytest.mark.parametrize("params", ZERO_RESULT_SEARCHES, ids=lambda p: urlencode(p))
def test_every_zero_result_page_offers_links_that_each_find_programs(client, params):
    build_sparse()
    response = get(client, params)
    assert count(response) == 0
    offer = response.context["no_results"]
    body = response.content.decode()
    assert offer.links, params
    for link in offer.links:
        assert f'href="{link.url.replace("&", "&amp;")}"' in body
        forget_cached_counts()
        assert count(client.get(link.url)) == link.count >= 1, (params, link)
    for card in offer.nearest_cards:
        assert client.get(card["url"]).status_code == 200
    # The help lines are there, whatever else is.
    assert 'href="tel:+18006624357"' in body and 'href="tel:988"' in body


def test_the_nearest_program_is_named_with_its_distance_and_city(client):
    build_sparse()
    response = get(client, {"near": "59001", "payment": "MD"})
    assert count(response) == 0
    offer = response.context["no_results"]
    place = geo.resolve_place("59001")
    miles = geo.haversine_miles(
        place.latitude, place.longitude, BILLINGS["latitude"], BILLINGS["longitude"]
    )
    sentence = f"The nearest is {round(miles)} miles away, in Billings, MT."
    assert offer.nearest_sentence == sentence
    assert sentence in response.content.decode()
    # Only the one that takes Medicaid and offers IOP: not the outpatient-only Great Falls.
    names = [card["name"] for card in offer.nearest_cards]
    assert names == ["Yellowstone Recovery", "Jackson IOP", "Chugach IOP"]
    assert offer.nearest_cards[0]["distance"] == f"{round(miles, 1):.1f} miles"
    # The radius that reaches it: the smallest step holding it (Billings is 50.3 miles off).
    assert offer.reach.label == "Search within 100 miles"
    assert offer.reach.count == 1


def test_the_nearest_beyond_the_largest_radius_is_reached_through_its_state(client):
    build_sparse()
    response = get(client, {"near": "19.7,-155.1"})  # Hawaii: 2,800 miles from Anchorage
    offer = response.context["no_results"]
    assert offer.nearest_sentence.startswith("The nearest is ")
    assert offer.nearest_sentence.endswith(" miles away, in Anchorage, AK.")
    assert offer.reach.label == "Search in Alaska"
    assert "state=AK" in offer.reach.url and "near=" not in offer.reach.url


def test_a_state_with_nothing_offers_the_nearest_outside_it(client):
    build_sparse()
    response = get(client, {"state": "WY"})
    offer = response.context["no_results"]
    # From Wyoming's middle, Billings (200 miles) is nearer than Denver (260).
    assert offer.nearest_sentence == "The nearest that matches is in Billings, MT."
    names = [card["name"] for card in offer.nearest_cards]
    assert names == ["Rimrock IOP", "Yellowstone Recovery", "Front Range IOP"]
    assert all(card["distance"] == "" for card in offer.nearest_cards)
    assert (offer.reach.label, offer.reach.count) == ("Search in Montana", 3)  # and Missoula
    assert "Nearest outside Wyoming that match your other filters" in response.content.decode()


def test_telehealth_in_the_persons_state_with_the_other_filters(client):
    build_sparse()
    response = get(client, {"near": "59001", "payment": "SF"})
    offer = response.context["no_results"]
    assert offer.telehealth.label == (
        "IOPs with virtual (telehealth) sessions in Montana, with your other filters"
    )
    assert offer.telehealth.count == 1
    forget_cached_counts()
    found = client.get(offer.telehealth.url).context["page"].object_list
    assert [row["name"] for row in found] == ["Clark Fork Telehealth IOP"]


def test_telehealth_without_the_other_filters_when_none_meets_them(client):
    build_sparse()
    response = get(client, {"near": "99701", "payment": "MC"})  # nobody in Alaska takes Medicare
    offer = response.context["no_results"]
    assert offer.telehealth.label == "Every IOP with virtual (telehealth) sessions in Alaska"
    assert "payment" not in offer.telehealth.url
    assert offer.telehealth.count == 1


def test_a_telehealth_level_of_care_counts_as_telehealth(client):
    make_facility(name="Virtual only", levels=["OIT", "TELE"], payments=["MD"], **MISSOULA)
    response = get(client, {"near": "59001", "payment": "MD", "level_of_care": "OIT"})
    telehealth = response.context["no_results"].telehealth
    # (level_of_care=OIT is the default: the canonical address drops it, and the page says IOPs.)
    assert telehealth.label.startswith("IOPs with virtual (telehealth) sessions in Montana")
    assert telehealth.count == 1


def test_widening_links_carry_their_real_counts_and_leave_out_those_finding_nothing(client):
    build_sparse()
    # 04730 with radius 500: Bangor is in reach; nobody there takes Medicaid and is co-occurring.
    params = {"near": "04730", "radius": "500", "payment": "MD", "co_occurring": "true"}
    response = get(client, params)
    offer = response.context["no_results"]
    labels = {link.label: link.count for link in offer.widen}
    # Without Medicaid: Penobscot (Bangor) is not co-occurring either; without co-occurring:
    # nobody within 500 miles takes Medicaid. Every level of care: Great Falls is too far.
    assert labels == {}
    params["co_occurring"] = "false"  # Penobscot is not co-occurring...
    response = get(client, params)
    labels = {link.label: link.count for link in response.context["no_results"].widen}
    # ...but takes Medicare, not Medicaid: only dropping Medicaid finds it.
    assert labels == {"Search without “Payment accepted: Medicaid”": 1}
    shown = [text for text in response.context["widen_links"] if "Medicaid" not in text[0]]
    assert shown  # the other ways out exist, but find nothing, so they are not offered
    assert all(label not in labels for label, _ in shown)


def test_counts_are_cached_where_the_results_page_reads_them(client):
    build_sparse()
    response = get(client, {"near": "59001", "payment": "MD"})
    reach = response.context["no_results"].reach
    with CaptureQueriesContext(connection) as captured:
        followed = client.get(reach.url)
    assert count(followed) == 1
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)


def test_last_resort_when_nothing_else_finds_anything(client):
    make_facility(name="Only IOP", payments=["SF"], **BILLINGS)
    # Nobody anywhere takes Medicaid for veterans; the ways out each keep one of them.
    response = get(client, {"near": "59001", "payment": "MD", "population": "VET"})
    offer = response.context["no_results"]
    assert offer.nearest_cards == [] and offer.widen == [] and offer.telehealth is None
    assert offer.last_resort.label == "Every IOP within 100 miles, with no other filters"
    forget_cached_counts()
    assert count(client.get(offer.last_resort.url)) == 1
    # Without a place: every IOP in the state, then everywhere, then every level of care.
    response = get(client, {"state": "MT", "payment": "MD", "population": "VET"})
    assert response.context["no_results"].last_resort is not None


def test_an_empty_directory_offers_the_help_lines_and_nothing_broken(client):
    response = get(client, {"near": "59001"})
    assert count(response) == 0
    offer = response.context["no_results"]
    assert offer.links == [] and offer.nearest_cards == []
    body = response.content.decode()
    assert 'href="tel:+18006624357"' in body and 'href="tel:988"' in body
    assert "Searches that find programs" not in body


def test_what_was_typed_and_listing_text_are_escaped(client):
    build_sparse()
    # A city nobody is in, typed as HTML: "search without" it finds Billings' two.
    response = get(client, {"near": "59101", "city": "<b>x</b>"})
    assert count(response) == 0
    widen = response.context["no_results"].widen
    assert [link.label for link in widen] == ["Search without “City: <b>x</b>”"]
    body = response.content.decode()
    assert "<b>x</b>" not in body and "City: &lt;b&gt;x&lt;/b&gt;" in body
    # Listing text in the nearest program's sentence and card.
    hostile = dict(BILLINGS, city="<i>Billings</i>")
    make_facility(name="<script>alert(1)</script>", payments=["ITU"], **hostile)
    response = get(client, {"near": "59001", "payment": "ITU"})
    body = response.content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    assert "<i>Billings</i>" not in body and "in &lt;i&gt;Billings&lt;/i&gt;, MT." in body


ODD_ZERO_SEARCHES = [
    {"near": "0,0"},
    {"near": "89.99,179.99"},
    {"near": "-89.9,-179.9", "radius": "500"},
    {"near": "59001", "radius": "1"},
    {"near": "59001", "payment": "MD,MD,MD", "ordering": "verified"},
    {"state": "AS"},
    {"state": "GU", "payment": "MD"},
    {"zip": "00000"},
    {"zip": "5"},
    {"zip": "99999", "state": "MT"},
    {"q": "x" * 200, "state": "WY"},
    {
        "near": "59001",
        "payment": ["MD", "PI", "MC", "MI", "SF", "ITU", "PA", "FSA"],
        "population": "VET",
    },
]


@pytest.mark.parametrize("params", ODD_ZERO_SEARCHES, ids=lambda p: urlencode(p, doseq=True)[:40])
def test_odd_zero_result_searches_never_fail(client, params):
    build_sparse()
    response = get(client, params)
    assert response.status_code in (200, 400)
    if response.status_code == 200 and count(response) == 0:
        for link in response.context["no_results"].links:
            assert link.count >= 1


def test_a_page_that_finds_programs_asks_nothing_of_the_fallbacks(client, monkeypatch):
    build_sparse()

    def refuse(*args, **kwargs):
        raise AssertionError("fallbacks asked for a page with results")

    monkeypatch.setattr(fallbacks, "offer", refuse)
    response = get(client, {"near": "59101"})
    assert count(response) == 2
    assert response.context["no_results"] is None


def queries(client, params):
    with CaptureQueriesContext(connection) as captured:
        response = get(client, params)
    assert count(response) == 0
    return len(captured)


def test_a_zero_result_page_asks_a_bounded_number_of_queries(client):
    build_sparse()
    get(client, {"near": "39201"})  # the vocabulary, read by every search, is cached
    # Eight chips, of which MAX_COUNTED_LINKS are counted; nobody matches at any distance.
    many = {"near": "59001", "payment": ["MD", "PI", "MC", "MI", "SF", "ITU"], "population": "VET"}
    first = queries(client, many)
    assert first <= 20, first
    # Again: the counts and the (empty) nearest come from the cache.
    assert queries(client, many) <= 2
    # With nearest programs to show: their lines are read for the cards, nothing else.
    medicaid = {"near": "59001", "payment": "MD"}
    first = queries(client, medicaid)
    assert first <= 20, first
    assert queries(client, medicaid) <= 3


def test_nearest_reads_growing_boxes_and_stops_when_it_has_enough(django_assert_num_queries):
    build_sparse()
    place = geo.resolve_place("59001")
    listings = selectors.published_facilities()
    # Billings, 50 miles away, twice in the first (100-mile) box; Great Falls in the next.
    with django_assert_num_queries(3):  # the ids of each box in distance order, the rows
        found = selectors.nearest(listings, place.latitude, place.longitude, 3)
    assert [row["city"] for row in found] == ["Billings", "Billings", "Great Falls"]
    assert found[0]["distance_miles"] <= found[1]["distance_miles"] <= found[2]["distance_miles"]
    # From Hawaii every box is empty until the last, which has no box at all.
    with django_assert_num_queries(2 + len(selectors.NEAREST_STEPS_MILES)):
        far = selectors.nearest(listings, 19.7, -155.1, 1)
    assert [row["city"] for row in far] == ["Anchorage"]
