"""The results page /facilities/: filters, default IOP scope, chips, pages, CSV, bad input."""

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import make_facility

pytestmark = pytest.mark.django_db

URL = "/facilities/"


def get(client, params=None):
    return client.get(URL + ("?" + urlencode(params, doseq=True) if params else ""))


def names(response):
    assert response.status_code == 200, response.content[:2000]
    return sorted(row["name"] for row in response.context["page"].object_list)


def count(response):
    return response.context["page"].paginator.count


# --- Default scope ------------------------------------------------------------------------


def test_by_default_only_intensive_outpatient_programs_are_listed(client):
    make_facility(name="IOP", levels=["OIT"])
    make_facility(name="PHP", levels=["ODT"])
    make_facility(name="Outpatient", levels=["ORT"])
    response = get(client)
    assert names(response) == ["IOP"]
    body = response.content.decode()
    assert "Only Intensive outpatient (IOP) (the default)" in body
    # The default chip's link widens to every level of care.
    chip = response.context["chips"][0]
    assert chip.is_default and parse_qs(urlsplit(chip.remove_url).query, True) == {
        "level_of_care": [""]
    }
    assert names(client.get(chip.remove_url)) == ["IOP", "Outpatient", "PHP"]


def test_level_of_care_can_be_widened_to_php_and_outpatient(client):
    make_facility(name="IOP", levels=["OIT"])
    make_facility(name="PHP", levels=["ODT"])
    make_facility(name="Outpatient", levels=["ORT"])
    assert names(get(client, {"level_of_care": ["OIT", "ODT"]})) == ["IOP", "PHP"]
    assert names(get(client, {"level_of_care": "ORT"})) == ["Outpatient"]
    # What the form sends when every level box is unticked: the hidden empty value.
    assert names(get(client, {"level_of_care": ""})) == ["IOP", "Outpatient", "PHP"]


# --- Each filter narrows ------------------------------------------------------------------


@pytest.mark.parametrize(
    "param, value, match",
    [
        ("payment", "MD", {"payments": ["MD"]}),
        ("population", "VET", {"populations": ["VET"]}),
        ("age", "CHLD", {"ages": ["CHLD"]}),
        ("language", "SP", {"languages": ["SP"]}),
        ("medication", "BU", {"medications": ["BU"]}),
        ("ownership", "PVTN", {"ownership": "PVTN"}),
        ("state", "TN", {"state": "TN", "city": "Memphis", "zip": "38103"}),
        ("city", "Oxford", {"city": "Oxford", "zip": "38655"}),
        ("zip", "38655", {"city": "Oxford", "zip": "38655"}),
        ("q", "harbor", {"name": "Harbor Light"}),
        ("co_occurring", "true", {"co_occurring": True}),
        ("evening", "true", {"offers_evening": True}),
        ("telehealth", "true", {"offers_virtual": True}),
        ("financial_assistance", "true", {"assistance": ["SS"]}),
        ("max_hours_per_week", "9", {"hours_per_week_min": 6}),
        ("near", "38655", {"latitude": 34.3665, "longitude": -89.5192}),
    ],
)
def test_each_filter_narrows_the_page_to_the_matching_listing(client, param, value, match):
    fields = {"name": "Match", **match}
    make_facility(**fields)
    make_facility(name="Other A", ownership="PVTP", hours_per_week_min=12)
    make_facility(name="Other B", ownership="PVTP", hours_per_week_min=12)
    assert count(get(client)) == 3
    response = get(client, {param: value})
    found = names(response)
    assert len(found) == 1 and found[0] in ("Match", "Harbor Light"), found
    assert response.context["chips"], "the active filter is shown as a chip"


def test_values_in_one_group_are_or_and_groups_are_and(client):
    make_facility(name="Medicaid", payments=["MD"])
    make_facility(name="Military", payments=["MI"])
    make_facility(name="Private", payments=["PI"])
    make_facility(name="Medicaid and co-occurring", payments=["MD"], co_occurring=True)
    make_facility(name="Military veterans", payments=["MI"], populations=["VET"])
    either = get(client, {"payment": ["MD", "MI"]})
    assert names(either) == [
        "Medicaid",
        "Medicaid and co-occurring",
        "Military",
        "Military veterans",
    ]
    assert names(get(client, {"payment": ["MD", "MI"], "co_occurring": "true"})) == [
        "Medicaid and co-occurring"
    ]
    assert names(get(client, {"payment": ["MD", "MI"], "population": "VET"})) == [
        "Military veterans"
    ]


def test_federal_ownership_includes_the_va(client):
    make_facility(name="VA", ownership="VAMC")
    make_facility(name="Private", ownership="PVTP")
    assert names(get(client, {"ownership": "FED"})) == ["VA"]


# --- Chips, sorting, pages ----------------------------------------------------------------


def test_a_chip_removes_one_value_and_keeps_the_rest(client):
    make_facility(name="Medicaid", payments=["MD"])
    make_facility(name="Military", payments=["MI"], co_occurring=True)
    response = get(client, {"payment": ["MD", "MI"], "co_occurring": "true"})
    chips = {chip.label: chip.remove_url for chip in response.context["chips"]}
    assert set(chips) == {
        "Only Intensive outpatient (IOP) (the default)",
        "Payment accepted: Medicaid",
        "Payment accepted: Military insurance (e.g. TRICARE)",
        "Treats mental health and substance use together",
    }
    without_medicaid = parse_qs(urlsplit(chips["Payment accepted: Medicaid"]).query)
    assert without_medicaid == {"payment": ["MI"], "co_occurring": ["true"]}
    assert names(client.get(chips["Payment accepted: Medicaid"])) == ["Military"]
    body = response.content.decode()
    assert f'href="{chips["Payment accepted: Medicaid"].replace("&", "&amp;")}"' in body


def test_removing_the_place_also_drops_radius_and_distance_sorting(client):
    make_facility(name="Oxford", latitude=34.3665, longitude=-89.5192)
    response = get(client, {"near": "38655", "radius": "50", "ordering": "distance"})
    chip = next(c for c in response.context["chips"] if c.label.startswith("Within 50 miles"))
    assert parse_qs(urlsplit(chip.remove_url).query) == {}
    assert client.get(chip.remove_url).status_code == 200


def test_sorting_by_distance_name_and_recent_verification(client):
    import datetime

    make_facility(name="B far", latitude=34.2576, longitude=-88.7034)  # Tupelo, ~45 mi
    make_facility(
        name="C near", latitude=34.3665, longitude=-89.5192, verified_at=datetime.date(2026, 1, 5)
    )
    make_facility(
        name="A middle", latitude=34.3115, longitude=-89.9442, verified_at=datetime.date(2025, 5, 1)
    )
    near = {"near": "38655", "radius": "100"}
    response = get(client, near)
    assert [row["name"] for row in response.context["page"]] == ["C near", "A middle", "B far"]
    assert "3.2 miles away" in response.content.decode()
    assert [row["name"] for row in get(client, {**near, "ordering": "name"}).context["page"]] == [
        "A middle",
        "B far",
        "C near",
    ]
    assert [row["name"] for row in get(client, {"ordering": "verified"}).context["page"]] == [
        "C near",
        "A middle",
        "B far",
    ]
    # Without a place, distance is not offered as a sort.
    choices = dict(get(client).context["ordering_choices"])
    assert "distance" not in choices and "name" in choices


def test_twenty_a_page_and_page_links_keep_the_filters(client):
    for number in range(25):
        make_facility(name=f"Medicaid {number:02d}", payments=["MD"])
    make_facility(name="Private", payments=["PI"])
    first = get(client, {"payment": "MD"})
    assert count(first) == 25 and len(first.context["page"].object_list) == 20
    body = first.content.decode()
    links = re.findall(r'href="(\?[^"]*page=2[^"]*)"', body)
    assert links, "a link to page 2"
    params = parse_qs(links[0].replace("&amp;", "&")[1:])
    assert params["payment"] == ["MD"] and params["page"] == ["2"]
    second = client.get(URL + links[0].replace("&amp;", "&"))
    assert names(second) == [f"Medicaid {n:02d}" for n in range(20, 25)]


def test_no_results_suggests_widening_and_shows_the_help_lines(client):
    make_facility(name="Tupelo", latitude=34.2576, longitude=-88.7034, payments=["MD"])
    response = get(client, {"near": "38655", "payment": "MD"})
    assert count(response) == 0
    body = response.content.decode()
    assert "No programs match" in body
    widen = dict(response.context["widen_links"])
    bigger = widen["Search within 50 miles"]
    assert names(client.get(bigger)) == ["Tupelo"]
    assert "Include every level of care, not only IOP" in widen
    assert "Search without “Payment accepted: Medicaid”" in widen
    assert 'href="tel:+18006624357"' in body and 'href="tel:988"' in body


def test_result_card_shows_what_people_choose_by(client):
    import datetime

    make_facility(
        name="Harbor Light",
        program_name="Evening IOP",
        street1="12 Main St",
        phone="601-555-0142 x12",
        ownership="PVTN",
        payments=["MD", "MI"],
        co_occurring=True,
        hours_per_week_min=9,
        hours_per_week_max=12,
        offers_evening=True,
        offers_virtual=True,
        verified_at=datetime.date(2026, 3, 2),
        source="demo",
        latitude=34.3665,
        longitude=-89.5192,
    )
    body = get(client, {"near": "38655"}).content.decode()
    for text in [
        "Harbor Light",
        "Evening IOP",
        "12 Main St, Jackson, MS 39201",
        "3.2 miles away",
        'href="tel:+16015550142;ext=12"',
        "Private non-profit",
        "Medicaid, Military insurance (e.g. TRICARE)",
        "Treats mental health and substance use together",
        "9–12 hours a week · Evening · Virtual option",
        "Last verified",
        "March 2, 2026",
        "Demo data (fictional)",
    ]:
        assert text in body, text


# --- CSV ----------------------------------------------------------------------------------


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_the_same_results_as_the_page_including_the_default_scope(client):
    make_facility(name="IOP Medicaid", payments=["MD"], latitude=34.3665, longitude=-89.5192)
    make_facility(name="IOP far", payments=["MD"], latitude=34.2576, longitude=-88.7034)
    make_facility(name="PHP Medicaid", levels=["ODT"], payments=["MD"])
    make_facility(name="IOP private", payments=["PI"])
    for params in ({"payment": "MD"}, {"payment": "MD", "near": "38655", "radius": "100"}, {}):
        page = get(client, params)
        export_url = page.context["export_url"]
        assert export_url.startswith("/facilities/export.csv")
        rows = csv_rows(client.get(export_url))
        assert [row["name"] for row in rows] == [row["name"] for row in page.context["page"]]
    near_rows = csv_rows(client.get(get(client, {"near": "38655"}).context["export_url"]))
    assert near_rows[0]["distance_miles"] == "3.2"


def test_csv_with_bad_parameters_is_a_400_with_the_reason(client):
    response = client.get("/facilities/export.csv?radius=abc&near=38655")
    assert response.status_code == 400
    assert b"radius" in response.content


# --- Bad input ----------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script>'


@pytest.mark.parametrize(
    "params, message",
    [
        ({"payment": "XX"}, "Select a valid choice"),
        ({"ownership": "NOPE"}, "Select a valid choice"),
        ({"state": "ZZ"}, "Select a valid choice"),
        ({"near": "38655", "radius": "abc"}, "Enter a number"),
        ({"near": "99999"}, "We do not know the ZIP code 99999"),
        ({"near": "Oxfrd, MS"}, "Oxford, MS"),
        ({"q": "x" * 2000}, "at most 200 characters"),
        ({"co_occurring": "maybe"}, "Use true or false"),
        ({"ordering": "distance"}, "needs a place"),
        ({"max_hours_per_week": "lots"}, "Enter a number"),
        ({"page": "abc"}, "1 program found"),
        ({"page": "999"}, "1 program found"),
    ],
)
def test_bad_input_renders_the_page_with_a_message_never_a_500(client, params, message):
    make_facility(name="Oxford", latitude=34.3665, longitude=-89.5192)
    response = get(client, params)
    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert message in body
    assert 'href="tel:988"' in body  # the help lines are still there
    if response.status_code == 400:
        assert "We could not run this search" in body


@pytest.mark.parametrize(
    "param",
    ["q", "near", "city", "zip", "state", "payment", "level_of_care", "radius", "ordering", "page"]
    + ["co_occurring", "max_hours_per_week", "population", "language"],
)
def test_html_in_any_parameter_is_never_echoed_unescaped(client, param):
    make_facility(name="Anything")
    # Codes are upper-cased on the way to the canonical address: follow it there.
    response = client.get(URL + "?" + urlencode({param: HOSTILE}), follow=True)
    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert HOSTILE not in body
    assert "<script>alert" not in body


def test_curated_labels_and_listing_text_are_escaped_in_the_filters_and_cards(client):
    """The checkboxes, state options and cards are built in Python for speed; a term a
    curator named with markup, or a hostile listing, must still show as text."""
    from facilities.models import Term

    Term.objects.create(group="payment", code="ZZX", label='Cash & "cheques" <b>ok</b>')
    make_facility(name=HOSTILE, program_name="<i>p</i>", phone="601-555-0100", payments=["ZZX"])
    response = get(client, {"state": "MS", "payment": "ZZX"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<b>ok</b>" not in body and "<i>p</i>" not in body and HOSTILE not in body
    checkbox = re.search(r'<input type="checkbox" name="payment" value="ZZX"[^>]*>', body)
    assert checkbox and "checked" in checkbox.group(0)
    assert "Cash &amp; &quot;cheques&quot; &lt;b&gt;ok&lt;/b&gt;</label>" in body
    assert "<dd>Cash &amp; &quot;cheques&quot; &lt;b&gt;ok&lt;/b&gt;</dd>" in body
    assert '<option value="MS" selected>Mississippi</option>' in body
    assert '<option value="VA">Virginia</option>' in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_a_zip_parameter_that_does_not_exist_finds_nothing_rather_than_failing(client):
    make_facility(name="Jackson")
    response = get(client, {"zip": "00000"})
    assert count(response) == 0


# --- Query count --------------------------------------------------------------------------


def queries_for(client, params):
    get(client, params)  # warm the vocabulary cache
    with CaptureQueriesContext(connection) as captured:
        response = get(client, params)
    assert response.status_code == 200
    return len(captured), count(response)


@pytest.mark.parametrize("params", [{}, {"payment": "MD", "near": "39201", "radius": "50"}])
def test_query_count_is_the_same_for_one_and_twenty_results(client, params):
    make_facility(name="Only one", payments=["MD", "PI"], populations=["VET"], ownership="VAMC")
    one, found = queries_for(client, params)
    assert found == 1
    for number in range(19):
        make_facility(
            name=f"More {number}",
            payments=["MD", "MC"],
            populations=["VET", "WN"],
            assistance=["SS"],
            ownership="PVTP",
        )
    twenty, found = queries_for(client, params)
    assert found == 20
    assert one == twenty, (one, twenty)


# --- Content-Security-Policy readiness ----------------------------------------------------

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_templates_have_no_inline_scripts_styles_or_event_handlers():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style", r"\sstyle=", r"\son[a-z]+="):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{template.name}: {pattern}")
    assert offenders == []


ALL_PARAMS = [
    "q",
    "near",
    "city",
    "zip",
    "state",
    "payment",
    "level_of_care",
    "radius",
    "ordering",
    "page",
    "co_occurring",
    "max_hours_per_week",
    "population",
    "language",
    "age",
    "medication",
    "ownership",
    "telehealth",
    "evening",
    "financial_assistance",
]
ODD_VALUES = ["\x00", "1e309", "nan", "-1", "x" * 5000, "💥", ",", "'; drop table x;--"]


def test_odd_values_in_any_parameter_never_cause_a_server_error(client):
    # PostgreSQL refuses NUL characters and infinities: they must be caught before the query.
    make_facility(name="A")
    failures = []
    for param in ALL_PARAMS:
        for value in ODD_VALUES:
            params = {param: value}
            if param in ("radius", "ordering"):
                params["near"] = "39201"
            for url in (URL, "/facilities/export.csv"):
                # A value the canonical address spells otherwise is redirected there first.
                response = client.get(url + "?" + urlencode(params), follow=True)
                if response.status_code not in (200, 400):
                    failures.append((url, param, value[:12], response.status_code))
    assert failures == []


# --- One address per search (search/page.canonical_query) ---------------------------------

# What the filter panel sends without JavaScript: every field, empty or not, the hidden
# empty level of care beside the ticked IOP box (templates/facilities/_filters.html).
FORM_QUERY = (
    "near=Jackson%2C+MS&radius=&state=&q=&level_of_care=&level_of_care=OIT"
    "&payment=MD&co_occurring=true&max_hours_per_week="
)


@pytest.mark.parametrize(
    "query, canonical",
    [
        (FORM_QUERY, "near=Jackson%2C+MS&payment=MD&co_occurring=true"),
        # Codes: split, upper case, each once, one pair per code, in the order given.
        ("payment=md,MI&payment=MD&payment=", "payment=MD&payment=MI"),
        ("state=&state=ms", "state=MS"),
        # Level of care: the default alone is the default; nothing ticked means every level.
        ("level_of_care=OIT", ""),
        ("level_of_care=&level_of_care=oit", ""),
        ("level_of_care=", "level_of_care="),
        (
            "level_of_care=&level_of_care=ODT&level_of_care=OIT",
            "level_of_care=ODT&level_of_care=OIT",
        ),
        # One value per parameter: the last one, as the form reads it, stripped.
        ("q=first&q=+second+", "q=second"),
        ("near=38655&near=", ""),
        # Booleans as true/false; a word that is not one stays, for the error message.
        (
            "co_occurring=1&evening=Yes&telehealth=off",
            "co_occurring=true&evening=true&telehealth=false",
        ),
        ("co_occurring=maybe", "co_occurring=maybe"),
        # Names the page does not read go; the page number stays; order of first appearance.
        ("utm_source=x&page=2&payment=MD&foo=", "page=2&payment=MD"),
        ("radius=50&near=38655", "radius=50&near=38655"),
        ("", ""),
        ("&&=&", ""),
    ],
)
def test_canonical_query_has_no_empty_or_repeated_parameters(query, canonical):
    from django.http import QueryDict

    from facilities.search.page import canonical_query

    assert canonical_query(QueryDict(query)) == canonical


def test_the_forms_address_without_javascript_is_redirected_to_the_canonical_one(client):
    make_facility(name="Medicaid co-occurring", payments=["MD"], co_occurring=True)
    make_facility(name="Private", payments=["PI"])
    response = client.get(f"{URL}?{FORM_QUERY}")
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?near=Jackson%2C+MS&payment=MD&co_occurring=true"
    page = client.get(response["Location"])
    assert names(page) == ["Medicaid co-occurring"]
    # The same heading and chips as a search that never named the default level of care.
    assert page.context["default_scope"] is True
    labels = [chip.label for chip in page.context["chips"]]
    assert "Only Intensive outpatient (IOP) (the default)" in labels
    heading = "Intensive outpatient programs (IOPs) near Jackson, MS</h1>"
    assert f'<h1 id="results-title">{heading}' in page.content.decode()


def test_a_canonical_address_is_answered_without_a_redirect_however_it_is_encoded(client):
    make_facility(name="Oxford", latitude=34.3665, longitude=-89.5192)
    # The facility page writes near=lat,lng with a bare comma: the same pairs, no redirect.
    for query in ("near=34.36650,-89.51920&radius=100", "near=34.36650%2C-89.51920&radius=100"):
        assert client.get(f"{URL}?{query}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "near=%2F%2Fevil.example&radius=",
        "next=https%3A%2F%2Fevil.example%2F&q=",
        "q=%0D%0ALocation%3A+https%3A%2F%2Fevil.example&state=",
        "%2F%2Fevil.example=1&payment=",
    ],
)
def test_the_redirect_stays_on_the_results_page(client, query):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{URL}") and "\n" not in location and "\r" not in location
    assert client.get(location).status_code in (200, 400)


def test_every_link_the_page_builds_is_canonical(client):
    """Chips, widen links, a near suggestion, the page links: none of them is redirected."""
    for number in range(22):
        make_facility(name=f"Medicaid {number:02d}", payments=["MD", "MI"], co_occurring=True)
    pages = [
        get(client, {"payment": ["MD", "MI"], "co_occurring": "true", "near": "39201"}),
        get(client, {"payment": "ITU", "near": "38655"}),  # nothing: the widen links
        get(client, {"near": "Jacksn, MS"}),  # a suggestion
    ]
    links = set()
    for response in pages:
        body = response.content.decode()
        links.update(
            link.replace("&amp;", "&")
            for link in re.findall(r'href="(/facilities/\?[^"]*|\?[^"]*)"', body)
        )
    assert len(links) > 8, links
    for link in links:
        response = client.get(link if link.startswith("/") else URL + link)
        assert response.status_code in (200, 400), link


def test_canonical_query_is_stable_for_any_query():
    """Redirecting to the canonical address never redirects again (no loop)."""
    from django.http import QueryDict
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from facilities.search.page import canonical_pairs, canonical_query, canonical_url
    from facilities.search.params import PARAMS

    names_ = st.sampled_from([param.name for param in PARAMS] + ["page", "junk"])
    values = st.one_of(
        st.sampled_from(["", " ", "MD", "md,mi", "oit", "OIT", ",", "true", "Yes", "ß", "é,ǅ"]),
        st.text(max_size=12),
    )

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.tuples(names_, values), max_size=8))
    def check(pairs):
        from urllib.parse import urlencode as encode

        query = QueryDict(encode(pairs))
        once = QueryDict(canonical_query(query))
        assert canonical_pairs(once) == canonical_pairs(query)
        assert canonical_url(once) == ""

    check()


# --- Result cards: the call button and the way back ---------------------------------------


def card_for(response, name):
    return next(card for card in response.context["cards"] if card["name"] == name)


def test_every_card_calls_the_intake_line_or_else_the_main_number(client):
    make_facility(name="With intake", phone="601-555-0142", intake_phone="601-555-0100")
    make_facility(name="Main only", phone="601-555-0199 x3")
    make_facility(name="No phone", phone="")
    response = get(client, {"state": "MS"})
    body = response.content.decode()
    intake = card_for(response, "With intake")
    # Its name comes with it: the card's heading describes the button.
    assert (
        '<a class="button call-button" href="tel:+16015550100" '
        f'aria-describedby="f-{intake["id"]}">'
        'Call to start: <span class="nowrap">601-555-0100</span></a>'
    ) in body
    # The main number is still on the card, as a fact of its own.
    assert '<dt>Main number</dt><dd><a href="tel:+16015550142">601-555-0142</a></dd>' in body
    assert (
        'href="tel:+16015550199;ext=3" aria-describedby="f-{}">Call: '
        '<span class="nowrap">601-555-0199 x3</span>'.format(card_for(response, "Main only")["id"])
    ) in body
    assert card_for(response, "No phone")["call"] is None
    assert body.count("call-button") == 2


def test_cards_link_to_the_facility_with_the_way_back_to_these_results(client):
    facility = make_facility(name="Harbor Light", payments=["MD"])
    response = get(client, {"payment": "MD", "page": "1"})
    url = card_for(response, "Harbor Light")["url"]
    path, _, query = url.partition("?")
    assert path == facility.get_absolute_url()
    assert parse_qs(query) == {"back": [f"{URL}?payment=MD&page=1"]}
    assert f'href="{url.replace("&", "&amp;")}"' in response.content.decode()
    # The printed address stays the facility's own.
    assert card_for(response, "Harbor Light")["absolute_url"].endswith(facility.get_absolute_url())
