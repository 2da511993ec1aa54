"""State and city pages: the state-guide summary computed live, and links into the search."""

from urllib.parse import parse_qs, urlsplit

import pytest

from facilities.guide import summary_sentences

from .factories import build_mississippi, make_facility

pytestmark = pytest.mark.django_db

MISSISSIPPI_SUMMARY = (
    "There are 28 facilities providing IOP in Mississippi. "
    "Of those, 12 are private for-profit, 10 private non-profit, "
    "5 run by local, county or community government and 1 by the federal government. "
    "22 also treat co-occurring mental health disorders. "
    "18 accept private insurance, 11 Medicare, 12 Medicaid, 15 military insurance; "
    "19 offer financial assistance."
)


def test_the_state_page_writes_the_summary_the_guide_writes(client):
    build_mississippi()
    response = client.get("/states/ms/")
    assert response.status_code == 200
    assert " ".join(response.context["sentences"]) == MISSISSIPPI_SUMMARY
    assert MISSISSIPPI_SUMMARY in " ".join(response.content.decode().split())


def test_the_state_page_links_into_the_search_with_filters_applied(client):
    build_mississippi()
    response = client.get("/states/ms/")
    payments = {row["label"]: row for row in response.context["payments"]}
    assert payments["Medicaid"]["count"] == 12
    assert parse_qs(urlsplit(payments["Medicaid"]["url"]).query) == {
        "state": ["MS"],
        "payment": ["MD"],
    }
    # Following the link shows as many results as the page counted.
    results = client.get(payments["Medicaid"]["url"])
    assert results.context["page"].paginator.count == 12
    populations = {row["label"]: row for row in response.context["populations"]}
    assert populations["Veterans"]["count"] == 6
    assert client.get(populations["Veterans"]["url"]).context["page"].paginator.count == 6
    owners = {row["label"]: row["count"] for row in response.context["ownerships"]}
    assert owners == {
        "Private for-profit": 12,
        "Private non-profit": 10,
        "Local, county or community government": 5,
        "Federal government": 1,
    }
    co = client.get(response.context["co_occurring_url"])
    assert co.context["page"].paginator.count == 22
    body = response.content.decode()
    assert 'href="/facilities/?state=MS&amp;financial_assistance=true"' in body


def test_the_state_page_lists_the_cities_with_the_most_options(client):
    build_mississippi()
    cities = client.get("/states/ms/").context["cities"]
    assert [(row["city"], row["count"], row["url"]) for row in cities] == [
        ("Jackson", 16, "/states/ms/jackson/"),
        ("Oxford", 8, "/states/ms/oxford/"),
        ("Hattiesburg", 4, "/states/ms/hattiesburg/"),
    ]


def test_the_state_page_mentions_other_levels_of_care(client):
    build_mississippi()
    response = client.get("/states/ms/")
    assert response.context["other_count"] == 1  # "MS outpatient only"
    assert "See 1 other treatment program in Mississippi" in response.content.decode()
    assert parse_qs(urlsplit(response.context["all_levels_url"]).query, True) == {
        "state": ["MS"],
        "level_of_care": [""],
    }


def test_the_city_page_summarises_that_city(client):
    build_mississippi()
    response = client.get("/states/ms/oxford/")
    assert response.status_code == 200
    sentences = response.context["sentences"]
    assert sentences[0] == "There are 8 facilities providing IOP in Oxford, Mississippi."
    assert len(response.context["facilities"]) == 8
    assert parse_qs(urlsplit(response.context["search_url"]).query) == {
        "state": ["MS"],
        "city": ["Oxford"],
    }
    assert client.get(response.context["search_url"]).context["page"].paginator.count == 8


def test_city_slugs_match_however_the_city_is_spelled(client):
    make_facility(name="Saint Louis IOP", city="St. Louis", state="MO", zip="63101")
    response = client.get("/states/mo/saint-louis/")
    assert response.status_code == 200
    assert (
        response.context["sentences"][0]
        == "There is 1 facility providing IOP in St. Louis, Missouri."
    )


def test_the_states_index_lists_states_with_listings_and_counts(client):
    build_mississippi()
    response = client.get("/states/")
    rows = {row["code"]: (row["iop"], row["total"]) for row in response.context["states"]}
    # Not counted: the draft; the outpatient-only listing counts in total, not as IOP.
    assert rows == {"MS": (28, 29), "VA": (1, 1)}
    assert 'href="/states/ms/"' in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/states/zz/", "/states/ms/nowhere/", "/states/zz/jackson/", "/states/ms/---/"]
)
def test_unknown_states_and_cities_are_not_found(client, url):
    build_mississippi()
    assert client.get(url).status_code == 404


def test_upper_case_addresses_redirect_to_the_lower_case_page(client):
    build_mississippi()
    assert client.get("/states/MS/")["Location"] == "/states/ms/"
    assert client.get("/states/MS/Jackson/")["Location"] == "/states/ms/jackson/"


def test_a_state_without_iop_listings_says_so(client):
    response = client.get("/states/wy/")
    assert response.status_code == 200
    assert "We have no intensive outpatient (IOP) listings in Wyoming yet." in (
        response.content.decode()
    )
    assert 'href="tel:+18006624357"' in response.content.decode()


def test_summary_sentences_for_one_facility_are_singular():
    figures = {
        "facility_count": 1,
        "ownership": {"FED": 1},
        "co_occurring_count": 1,
        "payment_options": {"MC": 1},
        "financial_assistance_count": 1,
    }
    assert summary_sentences(figures, "Oxford, Mississippi") == [
        "There is 1 facility providing IOP in Oxford, Mississippi.",
        "It is run by the federal government.",
        "1 also treats co-occurring mental health disorders.",
        "1 accepts Medicare; 1 offers financial assistance.",
    ]
