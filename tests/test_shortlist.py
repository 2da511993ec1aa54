"""The shortlist without an account: /shortlist/?ids=..., "Save" without JavaScript, bad ids,
the texts "Send to my phone" and "Email" fill in, and a constant query count."""

import datetime
import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities import shortlist
from facilities.models import Facility

from .factories import make_facility

pytestmark = pytest.mark.django_db

URL = "/shortlist/"


def shown_names(response):
    assert response.status_code == 200, response.content[:2000]
    return [entry["name"] for entry in response.context["programs"]]


def page_text(response):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def harbor_light(**fields):
    values = {
        "name": "Harbor Light & Sons",
        "program_name": "Evening IOP",
        "street1": "1200 North State Street",
        "zip": "39202",
        "phone": "601-555-0142",
        "intake_phone": "601-555-0143",
        "payments": ["PI", "MD"],
        "assistance": ["SS"],
        "co_occurring": True,
        "hours_per_week_min": 9,
        "hours_per_week_max": 12,
        "offers_evening": True,
        "verified_at": datetime.date(2026, 3, 2),
    }
    values.update(fields)
    return make_facility(**values)


# --- Parsing ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, ids, garbage",
    [
        ("12,45,78", [12, 45, 78], []),
        ("1,,2", [1, 2], []),
        (",1,2,", [1, 2], []),
        ("3,1,3,1,2", [3, 1, 2], []),
        ("abc", [], ["abc"]),
        ("1,abc,2", [1, 2], ["abc"]),
        ("-5,7", [7], ["-5"]),
        ("0,7", [7], ["0"]),
        ("1.5,7", [7], ["1.5"]),
        ("99999999999999999999,7", [7], ["99999999999999999999"]),
        (f"{2**31},7", [7], [str(2**31)]),
        (f"{2**31 - 1}", [2**31 - 1], []),
        ("007", [7], []),
        ("1 2+3;4", [1, 2, 3, 4], []),
        ("", [], []),
        ("<script>", [], ["<script>"]),
    ],
)
def test_ids_are_parsed_forgivingly(raw, ids, garbage):
    wanted = shortlist.parse_ids(raw)
    assert wanted.ids == ids
    assert wanted.garbage == garbage
    assert not wanted.over_limit and not wanted.cut


def test_several_ids_parameters_make_one_list():
    assert shortlist.parse_ids(["4,5", "5", "6"]).ids == [4, 5, 6]


def test_at_most_fifty_distinct_ids_are_read_and_a_very_long_parameter_is_cut():
    wanted = shortlist.parse_ids(",".join(str(n) for n in range(1, 501)))
    assert wanted.ids == list(range(1, shortlist.MAX_CANDIDATES + 1))
    assert wanted.over_limit
    long = shortlist.parse_ids("1," + "9" * 5000)
    assert long.ids == [1] and long.cut
    assert len("".join(long.garbage)) <= shortlist.MAX_PARAM_CHARS


def test_adding_keeps_an_id_once_and_refuses_an_eleventh():
    assert shortlist.with_added([1, 2], 3) == ([1, 2, 3], False)
    assert shortlist.with_added([1, 2], 2) == ([1, 2], False)
    ten = list(range(1, 11))
    assert shortlist.with_added(ten, 11) == (ten, True)
    assert shortlist.with_added(ten, 5) == (ten, False)


@pytest.mark.parametrize(
    "back, kept",
    [
        ("/facilities/?near=39201", True),
        ("/facilities/harbor/", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example/", False),
        ("javascript:alert(1)", False),
        ("/facilities/\x00", False),
        ("/" + "a" * 3000, False),
        ("   ", False),
    ],
)
def test_the_page_to_go_back_to_must_be_on_this_site(back, kept):
    assert shortlist.safe_back(back, "testserver") == (back if kept else "")


def test_going_back_carries_the_list_and_replaces_an_older_one():
    url = shortlist.back_with_list("/facilities/?near=Jackson%2C+MS&shortlist=9&page=2", [3, 4])
    parts = urlsplit(url)
    assert parts.path == "/facilities/"
    assert parse_qs(parts.query) == {"near": ["Jackson, MS"], "shortlist": ["3,4"], "page": ["2"]}


# --- The page -----------------------------------------------------------------------------


def test_the_page_shows_the_saved_programs_in_the_order_saved(client):
    first, second, third = (make_facility(name=name) for name in ("First", "Second", "Third"))
    response = client.get(f"{URL}?ids={third.pk},{first.pk},{second.pk}")
    assert shown_names(response) == ["Third", "First", "Second"]
    assert response.context["notes"] == []
    assert response.context["share_url"] == (
        f"http://testserver/shortlist/?ids={third.pk},{first.pk},{second.pk}"
    )


def test_the_comparison_shows_intake_phone_payment_schedule_co_occurring_and_verified(client):
    listing = harbor_light()
    text = page_text(client.get(f"{URL}?ids={listing.pk}"))
    html = client.get(f"{URL}?ids={listing.pk}").content.decode()
    assert 'href="tel:+16015550143"' in html  # the intake line, not the main number
    assert "tel:+16015550142" not in html
    assert "Medicaid" in text
    assert "Help paying:" in text
    assert "9–12 hours a week" in text and "Evening" in text
    assert "March 2, 2026" in text
    assert "Distance" not in text  # no place given, no distance column


def test_without_an_intake_line_the_main_number_is_the_call_link(client):
    listing = harbor_light(intake_phone="")
    response = client.get(f"{URL}?ids={listing.pk}")
    html = response.content.decode()
    assert 'href="tel:+16015550142"' in html
    assert response.context["programs"][0]["call_kind"] == "Main number"


def test_distances_are_shown_from_a_place_given(client):
    near = harbor_light(latitude=32.2988, longitude=-90.1848)
    far = make_facility(name="Oxford IOP", city="Oxford", latitude=34.3665, longitude=-89.5192)
    response = client.get(f"{URL}?ids={far.pk},{near.pk}&near=39201")
    assert response.status_code == 200
    distances = [entry["distance"] for entry in response.context["programs"]]
    assert float(distances[1].split()[0]) < 2
    assert 140 < float(distances[0].split()[0]) < 160
    assert "Distance from 39201" in page_text(response)
    # Removing one keeps the place.
    remove = response.context["programs"][1]["remove_url"]
    assert parse_qs(urlsplit(remove).query) == {"ids": [str(far.pk)], "near": ["39201"]}


def test_an_unknown_place_is_explained_next_to_the_field_with_a_400(client):
    listing = harbor_light()
    response = client.get(f"{URL}?ids={listing.pk}&near=Nowhereville%2C+ZZ")
    assert response.status_code == 400
    assert "is not a US state" in page_text(response)
    assert [entry["name"] for entry in response.context["programs"]] == ["Harbor Light & Sons"]


def test_an_empty_shortlist_explains_how_to_save(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert "Nothing saved yet" in page_text(response)


# --- Bad input ----------------------------------------------------------------------------


def test_unknown_archived_and_draft_ids_are_named_as_no_longer_listed(client):
    shown = make_facility(name="Still here")
    archived = make_facility(name="Archived place", status=Facility.Status.ARCHIVED)
    draft = make_facility(name="Draft place", status=Facility.Status.DRAFT)
    unknown = draft.pk + 1000
    response = client.get(f"{URL}?ids={archived.pk},{shown.pk},{draft.pk},{unknown}")
    assert shown_names(response) == ["Still here"]
    text = page_text(response)
    assert f"3 saved programs (#{archived.pk}, #{draft.pk}, #{unknown}) are no longer listed" in (
        text
    )
    # Their names are not shown: an archived or draft listing is not public.
    assert "Archived place" not in text and "Draft place" not in text
    # The list to share holds only what is shown.
    assert response.context["share_url"].endswith(f"?ids={shown.pk}")


def test_one_missing_id_is_named_in_the_singular(client):
    shown = make_facility(name="Still here")
    response = client.get(f"{URL}?ids={shown.pk},{shown.pk + 50}")
    assert f"One saved program (#{shown.pk + 50}) is no longer listed" in page_text(response)


def test_repeated_ids_show_a_program_once(client):
    listing = make_facility(name="Once")
    response = client.get(f"{URL}?ids={listing.pk},{listing.pk},{listing.pk}")
    assert shown_names(response) == ["Once"]
    assert response.context["notes"] == []


def test_more_than_ten_shows_the_first_ten_still_listed(client):
    listings = [make_facility(name=f"Program {n:02d}") for n in range(12)]
    archived = listings[0]
    archived.status = Facility.Status.ARCHIVED
    archived.save()
    ids = ",".join(str(listing.pk) for listing in listings)
    response = client.get(f"{URL}?ids={ids}")
    assert shown_names(response) == [f"Program {n:02d}" for n in range(1, 11)]
    text = page_text(response)
    assert "the first 10 still listed are shown" in text
    assert f"(#{archived.pk}) is no longer listed" in text


def test_five_hundred_ids_are_a_normal_page(client):
    listing = make_facility(name="Among many")
    ids = ",".join(str(n) for n in range(listing.pk, listing.pk + 500))
    response = client.get(f"{URL}?ids={ids}")
    assert shown_names(response) == ["Among many"]
    assert "up to 10 programs" in page_text(response)


@pytest.mark.parametrize(
    "ids",
    [
        "abc",
        "1,,2",
        "-1",
        "99999999999999999999999",
        "x" * 5000,
        "\x00",
        "%00",
        "1e309",
        "💥",
        "'; drop table x;--",
        "<script>alert(1)</script>",
    ],
)
def test_garbage_is_ignored_with_a_note_never_a_500(client, ids):
    listing = make_facility(name="Real one")
    response = client.get(URL, {"ids": f"{listing.pk},{ids}"})
    assert shown_names(response) == ["Real one"]
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    if ids not in ("1,,2",):
        assert "was ignored" in page_text(response)


@pytest.mark.parametrize(
    "params",
    [
        {"near": "\x00"},
        {"near": "x" * 5000},
        {"back": "\x00"},
        {"back": "https://evil.example/"},
        {"back": "/" + "x" * 5000},
        {"full": "<b>"},
        {"ids": ""},
    ],
)
def test_odd_other_parameters_never_cause_a_server_error(client, params):
    listing = make_facility(name="Real one")
    response = client.get(URL, {"ids": str(listing.pk), **params})
    assert response.status_code in (200, 400)
    assert "evil.example" not in response.content.decode()


def test_names_and_addresses_are_escaped(client):
    listing = harbor_light(
        name="<img src=x onerror=alert(1)>", program_name="<script>alert(2)</script>"
    )
    html = client.get(f"{URL}?ids={listing.pk}").content.decode()
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# --- Send to my phone, Email --------------------------------------------------------------


def decoded_body(href, scheme):
    assert href.startswith(scheme)
    query = href.split("?", 1)[1]
    # No raw spaces, line breaks or ampersands: every character that means something in a
    # URL is percent-encoded (and a space is %20, not "+", which sms: and mailto: keep).
    fields = dict(part.split("=", 1) for part in query.split("&") if part)
    for value in fields.values():
        assert not re.search(r"[\s&<>\"'+#?]", value), value
    return {name: unquote(value) for name, value in fields.items()}


def test_sms_and_mailto_links_carry_name_intake_phone_address_and_link_encoded(client):
    listing = harbor_light()
    response = client.get(f"{URL}?ids={listing.pk}")
    entry = response.context["programs"][0]
    page_link = f"http://testserver{listing.get_absolute_url()}"
    sms = decoded_body(entry["sms_href"], "sms:?")
    assert sms["body"] == (
        "Harbor Light & Sons\nEvening IOP\nCall (intake): 601-555-0143\n"
        f"1200 North State Street, Jackson, MS 39202\n{page_link}"
    )
    mail = decoded_body(entry["mailto_href"], "mailto:?")
    assert mail["subject"] == "IOP program: Harbor Light & Sons"
    assert mail["body"] == sms["body"].replace("\n", "\r\n")
    # In the page the links are attribute-escaped (& as &amp;), and come back whole.
    html = response.content.decode()
    assert f'href="{entry["sms_href"].replace("&", "&amp;")}"' in html


def test_the_whole_list_goes_in_one_message_with_the_link_to_the_list(client):
    first = harbor_light()
    second = make_facility(name="Second Place", phone="601-555-0199", intake_phone="")
    response = client.get(f"{URL}?ids={first.pk},{second.pk}")
    body = decoded_body(response.context["list_sms_href"], "sms:?")["body"]
    assert body.startswith("My IOP shortlist (2):")
    assert "1. Harbor Light & Sons" in body and "Call (intake): 601-555-0143" in body
    assert "2. Second Place" in body and "Call: 601-555-0199" in body
    assert body.endswith(f"Compare them: http://testserver/shortlist/?ids={first.pk},{second.pk}")
    mail = decoded_body(response.context["list_mailto_href"], "mailto:?")
    assert mail["subject"] == "My IOP shortlist (2 programs)"
    assert "\r\n2. Second Place\r\n" in mail["body"]


# --- Saving without JavaScript ------------------------------------------------------------


def save_form(html, listing_id):
    """(action, {hidden name: value}) of the Save form of one listing on a page."""
    match = re.search(
        rf'<form class="save-form" method="get" action="([^"]+)" '
        rf'data-shortlist-id="{listing_id}">(.*?)</form>',
        html,
        re.S,
    )
    assert match, f"no Save form for {listing_id}"
    hidden = {
        name: unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', match.group(2)
        )
    }
    return unescape(match.group(1)), hidden


def test_saving_from_cards_without_javascript_builds_the_list_in_the_address(client):
    first = make_facility(name="First Choice")
    second = make_facility(name="Second Choice")
    results = client.get("/facilities/?near=39201")
    action, hidden = save_form(results.content.decode(), first.pk)
    assert action == f"/shortlist/add/{first.pk}/"
    assert hidden == {"back": "/facilities/?near=39201"}

    saved = client.get(action, hidden)
    assert saved.status_code == 302
    assert saved["Location"].startswith(f"/shortlist/?ids={first.pk}&")
    page = client.get(saved["Location"])
    assert shown_names(page) == ["First Choice"]

    # Back to the results: the list rides along, so the next Save adds to it.
    back = page.context["back_url"]
    assert parse_qs(urlsplit(back).query) == {"near": ["39201"], "shortlist": [str(first.pk)]}
    results = client.get(back)
    assert results.status_code == 200
    action, hidden = save_form(results.content.decode(), second.pk)
    assert hidden["ids"] == str(first.pk)
    saved = client.get(action, hidden)
    page = client.get(saved["Location"])
    assert shown_names(page) == ["First Choice", "Second Choice"]
    # Saving the same one again changes nothing (a link may be followed twice).
    again = client.get(action, hidden)
    assert again["Location"] == saved["Location"]


def test_the_facility_page_has_save_at_the_top_and_near_the_report_link(client):
    listing = harbor_light()
    html = client.get(listing.get_absolute_url() + "?shortlist=3,4").content.decode()
    assert html.count(f'data-shortlist-id="{listing.pk}"') == 2
    action, hidden = save_form(html, listing.pk)
    assert hidden["ids"] == "3,4"
    top = html.index("save-form")
    assert top < html.index('id="contact-heading"')
    assert html.rindex("save-form") < html.index('id="report-heading"')


def test_an_eleventh_save_is_refused_with_a_note(client):
    listings = [make_facility(name=f"P{n}") for n in range(11)]
    ids = ",".join(str(listing.pk) for listing in listings[:10])
    saved = client.get(f"/shortlist/add/{listings[10].pk}/", {"ids": ids})
    assert saved["Location"] == f"/shortlist/?ids={ids}&full=1"
    page = client.get(saved["Location"])
    assert "Your shortlist is full (10 programs)" in page_text(page)
    assert len(shown_names(page)) == 10


@pytest.mark.parametrize(
    "path, params",
    [
        ("/shortlist/add/5/", {"ids": "abc,,-1"}),
        ("/shortlist/add/5/", {"back": "https://evil.example/"}),
        ("/shortlist/add/0/", {}),
        ("/shortlist/add/99999999999999999999/", {}),
    ],
)
def test_saving_with_bad_input_goes_to_a_list_never_a_500(client, path, params):
    response = client.get(path, params)
    assert response.status_code == 302
    assert response["Location"].startswith("/shortlist/")
    assert "evil" not in response["Location"]
    assert client.get(response["Location"]).status_code == 200


def test_saving_is_get_only(client):
    assert client.post("/shortlist/add/5/").status_code == 405
    assert client.post(URL).status_code == 405


def test_nothing_is_stored_about_the_visitor(client):
    listing = make_facility(name="Kept nowhere")
    response = client.get(f"/shortlist/add/{listing.pk}/")
    page = client.get(response["Location"])
    assert not response.cookies and not page.cookies
    assert not client.session.keys()


# --- Query count --------------------------------------------------------------------------


def queries_for(client, url):
    client.get(url)  # warm the vocabulary cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return len(captured), response


@pytest.mark.parametrize("near", ["", "&near=39201"])
def test_query_count_is_the_same_for_one_and_ten_programs(client, near):
    listings = [
        make_facility(name=f"Program {n}", payments=["MD", "PI"], assistance=["SS"])
        for n in range(12)
    ]
    one, response = queries_for(client, f"{URL}?ids={listings[0].pk}{near}")
    assert len(shown_names(response)) == 1
    ids = ",".join(str(listing.pk) for listing in listings) + ",abc,99999"
    ten, response = queries_for(client, f"{URL}?ids={ids}{near}")
    assert len(shown_names(response)) == 10
    assert one == ten, (one, ten)
    assert one <= 3  # the listings, their lines (and the data version)


def test_the_results_page_keeps_the_shortlist_in_its_address_and_its_filter_form(client):
    # Without JavaScript the list travels in the address: the canonical redirect and the
    # filter form must carry it, or the next Save would start a new list.
    make_facility(name="Kept")
    response = client.get("/facilities/?payment=md&shortlist=3,4")
    assert response.status_code == 302
    assert "shortlist=3%2C4" in response["Location"] or "shortlist=3,4" in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'<input type="hidden" name="shortlist" value="3,4">' in page.content
