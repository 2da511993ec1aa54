"""Hypothesis fuzzing of every public query string: never a 5xx, never injected markup.

Query strings are built from the FilterSet's parameter names (plus the pages' own
and junk names) and values mixing valid codes with junk, huge strings, unicode,
NUL bytes, HTML/script and numbers out of range; some are raw, badly encoded
strings sent as they are. Every answer must be below 500, and an HTML page must
never carry one of the injected tags unescaped.

Bounded and deterministic: derandomize=True (the same examples every run), no
example database, a fixed number of examples per target.
"""

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilities.search.filters import FacilityFilterSet
from facilities.states import STATES
from facilities.vocabulary import VOCABULARY

from .factories import make_facility, make_oxford_iop

EXAMPLES = 120

fuzz_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # The database fixture is set up once per test; the requests only read it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FILTER_NAMES = sorted(FacilityFilterSet.base_filters)
PAGE_NAMES = ["page", "page_size", "format", "place", "q", "near", "radius", "ordering"]
NEAR_MISS_NAMES = ["payment[]", "PAYMENT", "state ", " near", "page_size[]", "format.", "csrf"]
CODES = sorted({entry[0] for entries in VOCABULARY.values() for entry in entries})
VALID_VALUES = [
    *CODES,
    *STATES,
    "true",
    "false",
    "39201",
    "Jackson, MS",
    "Jackson",
    "32.3,-90.2",
    "distance",
    "name",
    "verified",
    "csv",
    "geojson",
    "json",
    "25",
    "1",
    "",
]
# Injected markup: if one of these reaches an HTML page unescaped, the page is defaceable.
MARKERS = [
    "<script>alert('fuzz')</script>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><svg onload=alert(1)>",
]
RAW_MARKERS = [b"<script>alert", b"<img src=x onerror", b"<svg onload"]
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e309", "-1e309", "0x10", "1_000", "٣", "１２", "-0", "1.", ".5e-400"]),
)

names = st.one_of(
    st.sampled_from(FILTER_NAMES),
    st.sampled_from(PAGE_NAMES + NEAR_MISS_NAMES),
    st.text(max_size=20),
)
values = st.one_of(
    st.sampled_from(VALID_VALUES),
    st.lists(st.sampled_from(CODES + ["", " ", "??"]), min_size=2, max_size=6).map(",".join),
    NUMBERS,
    st.sampled_from(MARKERS),
    st.text(max_size=40),  # any unicode, NUL and control characters included
    st.builds(lambda text, marker: text + marker, st.text(max_size=5), st.sampled_from(MARKERS)),
    # Huge values, cheaply: a short piece repeated.
    st.builds(
        lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(300, 6000)
    ),
)
KNOWN_NAMES = sorted(set(FILTER_NAMES + PAGE_NAMES))
# Markup in a parameter the page is known to read back, so echoes are exercised often.
injections = st.tuples(
    st.sampled_from(KNOWN_NAMES),
    st.one_of(
        st.sampled_from(MARKERS),
        st.builds(lambda v, m: v + m, st.sampled_from(VALID_VALUES), st.sampled_from(MARKERS)),
    ),
)
pairs = st.lists(st.one_of(st.tuples(names, values), injections), max_size=8)
# Raw query strings, sent as they are: broken percent escapes, bad UTF-8, odd separators.
raw_pieces = st.sampled_from(
    ["%", "%0", "%00", "%ff", "%c3%28", "%u2603", "&", "&&", "=", "==", ";", "+", "#", "?", "%2526"]
)
raw_queries = st.lists(st.one_of(raw_pieces, names, values.map(quote)), max_size=10).map("".join)
query_strings = st.one_of(pairs.map(lambda items: urlencode(items)), raw_queries)


@pytest.fixture
def listings(db, settings):
    settings.API_ANON_RATE = "1000000/min"  # the fuzzing itself must not be throttled
    make_oxford_iop(offers_evening=True)
    make_facility(name="Jackson outpatient", levels=["OIT", "TELE"], ownership="PVTP")
    make_facility(name="Draft", status="draft")


def fetch(client, path, query):
    """The response to GET path?query, with a streamed body read to the end (an error while
    streaming is a failure too)."""
    response = client.get(f"{path}?{query}" if query else path, HTTP_X_FORWARDED_PROTO="https")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def check(response, body, path, query):
    """Below 500; an HTML page carries none of the injected tags as markup."""
    assert response.status_code < 500, (path, query[:300], response.status_code)
    if response.get("Content-Type", "").startswith("text/html"):
        for marker in RAW_MARKERS:
            assert marker not in body, (path, query[:300], marker)


def fuzz(client, path, query):
    response, body = fetch(client, path, query)
    check(response, body, path, query)
    return response


@fuzz_settings
@given(query=query_strings)
def test_search_page_query_strings(client, listings, query):
    fuzz(client, "/facilities/", query)


@fuzz_settings
@given(query=query_strings)
def test_csv_export_query_strings(client, listings, query):
    fuzz(client, "/facilities/export.csv", query)


# The home page's box: place, with payment / co_occurring / financial_assistance ticks.
home_pairs = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(["place", "payment", "co_occurring", "financial_assistance"]), names
        ),
        st.one_of(st.sampled_from(["Jackson", "Jackson, MS", "Mississippi", "39201"]), values),
    ),
    max_size=6,
)


@fuzz_settings
@given(query=st.one_of(home_pairs.map(urlencode), raw_queries))
def test_home_page_query_strings(client, listings, query):
    fuzz(client, "/", query)


place_paths = st.one_of(
    st.sampled_from(["/states/", "/states/ms/", "/states/ms/jackson/", "/states/ms/oxford/"]),
    st.builds(
        "/states/{}/{}/".format,
        st.sampled_from([code.lower() for code in STATES] + ["xx", "MS"]),
        st.from_regex(r"[-a-zA-Z0-9_]{1,40}", fullmatch=True),
    ),
)


@fuzz_settings
@given(path=place_paths, query=query_strings)
def test_state_and_city_pages(client, listings, path, query):
    fuzz(client, path, query)


@fuzz_settings
@given(query=query_strings)
def test_api_facility_list_query_strings(client, listings, query):
    response = fuzz(client, "/api/v1/facilities/", query)
    # The API speaks JSON (or the CSV / GeoJSON asked for), never an HTML error page.
    assert not response.get("Content-Type", "").startswith("text/html")


@fuzz_settings
@given(
    state=st.one_of(st.sampled_from(sorted(STATES)), st.from_regex(r"[A-Za-z]{2}", fullmatch=True)),
    query=query_strings,
)
def test_api_state_summary_and_list_query_strings(client, listings, state, query):
    for path in (f"/api/v1/states/{state}/summary/", "/api/v1/states/"):
        response = fuzz(client, path, query)
        assert not response.get("Content-Type", "").startswith("text/html")


@pytest.mark.parametrize("path", ["/", "/facilities/", "/states/ms/", "/states/ms/jackson/"])
def test_markup_in_any_parameter_is_escaped_on_html_pages(client, listings, path):
    # Not left to chance: every parameter a page reads, alone and next to a valid search.
    for index, name in enumerate(KNOWN_NAMES + ["place"]):
        marker = MARKERS[index % len(MARKERS)]
        for extra in ([], [("near", "39201")], [("state", "MS"), ("payment", "MD")]):
            query = urlencode([*extra, (name, marker)])
            fuzz(client, path, query)
