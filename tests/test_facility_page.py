"""The facility page: everything we know, grouped as the domain brief groups it."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities.models import Facility, Term

from .factories import add_line, make_facility

pytestmark = pytest.mark.django_db


def full_facility(**overrides):
    fields = {
        "name": "Harbor Light Recovery Center",
        "program_name": "Evening IOP",
        "street1": "1200 North State Street",
        "zip": "39202",
        "latitude": 32.3120,
        "longitude": -90.1800,
        "phone": "(601) 555-0142",
        "intake_phone": "601-555-0143 ext. 7",
        "website": "https://harborlight.example.org/",
        "ownership": "VAMC",
        "co_occurring": True,
        "payments": ["PI", "MD"],
        "assistance": ["SS"],
        "populations": ["VET"],
        "ages": ["ADLT"],
        "genders": ["FEM"],
        "languages": ["SP"],
        "medications": ["BWN"],
        "approaches": ["CBT"],
        "therapies": ["YOGA"],
        "conditions": ["ALC"],
        "services": ["CSM"],
        "accreditations": ["CARF"],
        "hours_per_week_min": 9,
        "hours_per_week_max": 12,
        "sessions_per_week": 3,
        "session_length_minutes": 180,
        "duration_weeks": 10,
        "offers_evening": True,
        "offers_virtual": True,
        "verified_at": datetime.date(2026, 3, 2),
    }
    fields.update(overrides)
    return make_facility(**fields)


def test_page_groups_what_we_know_with_plain_language_labels(client):
    facility = full_facility()
    response = client.get(facility.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    sections = [
        "Contact and how to start",
        "IOP schedule",
        "Payment and help with cost",
        "Who it serves",
        "Treatment",
        "Licensing and who runs it",
    ]
    positions = [body.index(f">{heading}</h2>") for heading in sections]
    assert positions == sorted(positions)
    for text in [
        "Evening IOP",
        "1200 North State Street",
        "9 to 12",
        "3 hours",  # session length in words
        "10 weeks",
        "Private health insurance<span",
        "The state and federal program for people with low incomes.",  # Term.description
        "Sliding fee scale",
        "Veterans",
        "Spanish",
        "Buprenorphine with naloxone",
        "Cognitive behavioral therapy",
        "Yoga",
        "Alcohol use",
        "Case management",
        "CARF",
        "Department of Veterans Affairs (federal government)",
        "Treats substance use and mental health disorders together",
        "Last verified March 2, 2026",
    ]:
        assert text in body, text


def test_call_intake_website_and_directions_are_links(client):
    facility = full_facility()
    body = client.get(facility.get_absolute_url()).content.decode()
    assert 'href="tel:+16015550143;ext=7"' in body
    assert 'href="tel:+16015550142"' in body
    assert 'href="https://harborlight.example.org/"' in body
    assert 'href="https://www.openstreetmap.org/directions?to=32.31200%2C-90.18000"' in body


def test_directions_search_the_address_when_the_location_is_only_the_zip_centre(client):
    # Without coordinates a listing gets its ZIP centre, marked approximate.
    facility = full_facility(latitude=None, longitude=None)
    assert facility.location_approximate
    body = client.get(facility.get_absolute_url()).content.decode()
    assert "https://www.openstreetmap.org/search?query=1200+North+State+Street%2C+Jackson" in body
    assert "openstreetmap.org/directions" not in body


def test_fictional_listings_say_so(client):
    real = full_facility(name="Real one")
    demo = full_facility(name="Demo one", source=Facility.Source.DEMO)
    badge = "Demo data (fictional): not a real program"
    assert badge in client.get(demo.get_absolute_url()).content.decode()
    assert badge not in client.get(real.get_absolute_url()).content.decode()


@pytest.mark.parametrize("status", [Facility.Status.DRAFT, Facility.Status.ARCHIVED])
def test_unpublished_listings_are_not_found(client, status):
    facility = full_facility(status=status)
    assert client.get(facility.get_absolute_url()).status_code == 404
    assert client.get("/facilities/no-such-place/").status_code == 404


def test_nearby_lists_the_five_closest_other_published_iops(client):
    here = full_facility(latitude=34.3665, longitude=-89.5192)
    # Distances from `here`, increasing.
    spots = [
        ("N1", 34.37, -89.52),
        ("N2", 34.40, -89.52),
        ("N3", 34.45, -89.52),
        ("N4", 34.50, -89.52),
        ("N5", 34.55, -89.52),
        ("N6", 34.60, -89.52),
    ]
    for name, lat, lng in reversed(spots):
        make_facility(name=name, latitude=lat, longitude=lng)
    make_facility(
        name="Closer but outpatient", levels=["ORT"], latitude=34.3666, longitude=-89.5192
    )
    make_facility(name="Closer but draft", status="draft", latitude=34.3666, longitude=-89.5192)
    make_facility(name="No coordinates", latitude=None, longitude=None)
    response = client.get(here.get_absolute_url())
    nearby = response.context["nearby"]
    assert [row["name"] for row in nearby] == ["N1", "N2", "N3", "N4", "N5"]
    assert nearby[0]["distance_miles"] < nearby[-1]["distance_miles"]
    assert f"{nearby[0]['distance_miles']:.1f} miles away" in response.content.decode()


def test_nearby_in_a_dense_place_is_the_five_closest_found_in_the_first_radius(client):
    """With five IOPs within 10 miles the search stops there; what lies farther is farther."""
    here = full_facility(latitude=34.3665, longitude=-89.5192)
    for number in range(8):  # 0.7 to 5.5 miles north; then one 44 miles away
        make_facility(name=f"Close {number}", latitude=34.3765 + number * 0.01, longitude=-89.5192)
    make_facility(name="Far", latitude=35.0, longitude=-89.5192)
    nearby = client.get(here.get_absolute_url()).context["nearby"]
    assert [row["name"] for row in nearby] == [f"Close {number}" for number in range(5)]


def test_nearby_is_empty_without_coordinates_or_neighbours(client):
    lonely = full_facility(latitude=None, longitude=None)
    response = client.get(lonely.get_absolute_url())
    assert response.context["nearby"] == []
    assert "We have no other IOP listings within" in response.content.decode()


def test_page_links_to_report_a_problem(client):
    facility = full_facility()
    body = client.get(facility.get_absolute_url()).content.decode()
    assert f'href="/facilities/{facility.slug}/report/"' in body


def test_query_count_does_not_grow_with_what_a_facility_offers(client):
    sparse = make_facility(name="Sparse", latitude=34.0, longitude=-89.0)
    rich = full_facility(latitude=36.0, longitude=-89.0)
    two_programs = full_facility(name="Two programs", latitude=38.0, longitude=-89.0)
    add_line(two_programs, "MH", levels=["ORT", "OIT"], payments=["MD", "SF"], ages=["CHLD"])
    client.get(sparse.get_absolute_url())  # warm the vocabulary cache
    counts = []
    for facility in (sparse, rich, two_programs):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(facility.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1] == counts[2], counts


def test_html_in_a_facility_name_is_escaped(client):
    facility = full_facility(name="<img src=x onerror=alert(1)>")
    body = client.get(facility.get_absolute_url()).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize(
    "county, shown",
    [
        ("Hinds County", "Hinds County"),
        ("Hinds", "Hinds County"),
        ("Orleans Parish", "Orleans Parish"),
    ],
)
def test_county_is_named_once(client, county, shown):
    from .factories import make_facility

    facility = make_facility(county=county)
    html = client.get(facility.get_absolute_url()).content.decode()
    assert shown in html
    assert f"{shown} County" not in html


# --- A place's service lines (issue 12): one list where they agree, each program where not.


class PageFacts(HTMLParser):
    """What a facility page lists, and where: lists[(section, program, list heading)] are
    the items' labels (without their descriptions; program "" when the list stands for
    every program) and facts[(section, term)] the text of a <dt>/<dd> pair."""

    def __init__(self, html):
        super().__init__()
        self.lists, self.facts = {}, {}
        self.section = self.program = self.heading = self._term = ""
        self._capturing, self._text, self._in_description = None, [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        css = dict(attrs).get("class") or ""
        if tag == "span" and "term-description" in css:
            self._in_description = True
        elif tag == "h3" and "line-name" in css:
            self._start("program")
        elif tag in ("h2", "h3", "h4", "li", "dt", "dd"):
            self._start(tag)

    def _start(self, what):
        self._capturing, self._text = what, []

    def handle_data(self, data):
        if self._capturing and not self._in_description:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_description = False
            return
        if self._capturing is None or tag not in ("h2", "h3", "h4", "li", "dt", "dd"):
            return
        text = " ".join("".join(self._text).split())
        what, self._capturing = self._capturing, None
        if what == "h2":
            self.section, self.program, self.heading = text, "", ""
        elif what == "program":
            self.program, self.heading = text, ""
        elif what in ("h3", "h4"):
            self.heading = text
        elif what == "li":
            self.lists.setdefault((self.section, self.program, self.heading), []).append(text)
        elif what == "dt":
            self._term = text
        elif what == "dd":
            self.facts[(self.section, self._term)] = text

    def programs(self, section):
        """The program headings a section shows."""
        return sorted({program for (where, program, _) in self.lists if where == section} - {""})


def page_of(client, facility):
    response = client.get(facility.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    return body, PageFacts(body)


def section_html(body, heading_id):
    start = body.index(f'id="{heading_id}"')
    return body[start : body.index("</section>", start)]


PAYMENT = "Payment and help with cost"
SERVES = "Who it serves"
PROGRAMS = "Programs at this place"


def two_program_place(**fields):
    """The issue's example: an IOP paid for yourself, beside outpatient care on Medicaid."""
    values = {
        "name": "Two Rivers Behavioral Health",
        "payments": ["SF"],
        "populations": ["VET"],
        "languages": ["SP"],
        "approaches": ["CBT"],
        "accreditations": ["CARF"],
        "hours_per_week_min": 9,
        "hours_per_week_max": 12,
        "offers_evening": True,
    }
    values.update(fields)
    place = make_facility(**values)
    # No populations, languages nor accreditations in the mental health line.
    add_line(place, "MH", levels=["ORT"], payments=["MD", "SF"], approaches=["CBT"])
    return place


def test_two_programs_that_differ_are_each_shown_under_their_own_name(client):
    body, page = page_of(client, two_program_place())
    sa, mh = "Substance use treatment", "Mental health treatment"
    # The levels of care of each program, right after how to call.
    assert body.index(">Contact and how to start</h2>") < body.index(f">{PROGRAMS}</h2>")
    assert body.index(f">{PROGRAMS}</h2>") < body.index(">IOP schedule</h2>")
    assert page.facts[(PROGRAMS, sa)] == "Intensive outpatient (IOP)"
    assert page.facts[(PROGRAMS, mh)] == "Regular outpatient"
    assert "a substance use treatment program and a mental health treatment program" in body
    # Payment: Medicaid is the mental health program's only.
    assert page.lists[(PAYMENT, sa, "Payment accepted")] == ["Cash or self-payment"]
    assert page.lists[(PAYMENT, mh, "Payment accepted")] == ["Medicaid", "Cash or self-payment"]
    assert page.programs(PAYMENT) == [mh, sa]
    # Who it serves: the mental health program lists nobody in particular, and says so.
    assert page.lists[(SERVES, sa, "Programs for")] == ["Veterans"]
    assert page.lists[(SERVES, sa, "Languages")] == ["Spanish"]
    assert not [key for key in page.lists if key[:2] == (SERVES, mh)]
    serves = section_html(body, "serves-heading")
    assert serves.index(mh) < serves.index("Not listed: ask the program.")
    # Treatment: the same in both programs, so one list without program headings.
    assert page.lists[("Treatment", "", "Treatment approaches")] == ["Cognitive behavioral therapy"]
    assert page.programs("Treatment") == []
    # Licensing differs: only the substance use program is accredited.
    assert page.lists[("Licensing and who runs it", sa, "Licensed or accredited by")] == ["CARF"]
    # The badges at the top are every level of care of the place.
    badges = body[body.index('<ul class="badges">') : body.index("</ul>", body.index("badges"))]
    assert "Intensive outpatient (IOP)" in badges and "Regular outpatient" in badges
    # The schedule says whose it is.
    schedule = section_html(body, "schedule-heading")
    assert "For the substance use treatment program." in schedule
    assert page.facts[("IOP schedule", "Hours a week")] == "9 to 12"


def test_the_schedule_is_the_iop_programs_own_even_when_it_is_the_second(client):
    place = make_facility(levels=["ORT"], offers_virtual=True, transportation_assistance=True)
    add_line(place, "MH", levels=["OIT"], hours_per_week_min=10, offers_evening=True)
    body, page = page_of(client, place)
    assert "For the mental health treatment program." in section_html(body, "schedule-heading")
    assert page.facts[("IOP schedule", "Hours a week")] == "10"
    assert page.facts[("IOP schedule", "When")] == "Evening"
    # The substance use program's virtual sessions and rides are not the IOP's.
    assert page.facts[("IOP schedule", "Virtual (video) sessions")] == "Not listed"
    assert page.facts[("IOP schedule", "Help with transportation")] == "Not listed"
    assert page.facts[(PROGRAMS, "Mental health treatment")] == "Intensive outpatient (IOP)"


def test_a_place_with_one_program_shows_its_lists_once_without_program_headings(client):
    body, page = page_of(client, full_facility())
    assert f">{PROGRAMS}</h2>" not in body
    assert 'class="line-name"' not in body and "For the " not in body
    assert page.lists[(PAYMENT, "", "Payment accepted")] == [
        "Private health insurance",
        "Medicaid",
    ]
    assert page.lists[(SERVES, "", "Languages")] == ["Spanish"]
    for section in (PAYMENT, SERVES, "Treatment", "Licensing and who runs it"):
        assert page.programs(section) == [], section


def test_two_programs_with_the_same_terms_show_each_list_once(client):
    place = make_facility(payments=["MD", "SF"], populations=["VET"])
    add_line(place, "MH", levels=["OIT"], payments=["SF", "MD"], populations=["VET"])
    body, page = page_of(client, place)
    assert f">{PROGRAMS}</h2>" not in body and 'class="line-name"' not in body
    assert page.lists[(PAYMENT, "", "Payment accepted")] == ["Medicaid", "Cash or self-payment"]
    assert page.lists[(SERVES, "", "Programs for")] == ["Veterans"]


def test_two_programs_that_differ_in_payment_only_list_their_levels_of_care_once(client):
    place = make_facility(payments=["SF"])
    add_line(place, "MH", levels=["OIT"], payments=["MD"])
    body, page = page_of(client, place)
    assert page.facts[(PROGRAMS, "Both programs")] == "Intensive outpatient (IOP)"
    assert page.lists[(PAYMENT, "Mental health treatment", "Payment accepted")] == ["Medicaid"]
    assert page.lists[(PAYMENT, "Substance use treatment", "Payment accepted")] == [
        "Cash or self-payment"
    ]


def test_a_programs_terms_are_escaped(client):
    Term.objects.create(
        group="payment",
        code="XSS",
        label="<script>alert(1)</script>",
        description='<img src=x onerror="alert(2)">',
    )
    place = make_facility(payments=["SF"])
    add_line(place, "MH", payments=["XSS"])
    body, page = page_of(client, place)
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert page.lists[(PAYMENT, "Mental health treatment", "Payment accepted")] == [
        "<script>alert(1)</script>"
    ]


def test_a_listing_without_lines_still_has_a_page(client):
    place = make_facility(name="Lines deleted by a curator")
    place.lines.all().delete()
    body, page = page_of(client, place)
    assert ">Payment and help with cost</h2>" in body and 'class="line-name"' not in body
    assert page.facts[("IOP schedule", "Hours a week")] == "Ask the program"


# --- Back to results (the `back` parameter a result card adds) ----------------------------


def back_link(body):
    match = re.search(r'<p class="back-link"><a href="([^"]*)">', body)
    return match.group(1).replace("&amp;", "&") if match else None


def test_a_facility_reached_from_a_search_links_back_to_those_results(client):
    facility = full_facility()
    results = client.get("/facilities/", {"payment": "MD", "co_occurring": "true"})
    card = next(c for c in results.context["cards"] if c["name"] == facility.name)
    body = client.get(card["url"]).content.decode()
    assert back_link(body) == "/facilities/?payment=MD&co_occurring=true"
    assert "Back to results</a>" in body
    # Nearby programs keep the way back.
    other = full_facility(name="Next door", latitude=32.3130, longitude=-90.1810)
    page = client.get(facility.get_absolute_url(), {"back": "/facilities/?payment=MD"})
    nearby = next(c for c in page.context["nearby_cards"] if c["name"] == other.name)
    assert "back=%2Ffacilities%2F%3Fpayment%3DMD" in nearby["url"]


def test_a_facility_page_without_a_search_has_no_back_link(client):
    facility = full_facility()
    assert back_link(client.get(facility.get_absolute_url()).content.decode()) is None


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/facilities/?payment=MD",
        "//evil.example/facilities/?payment=MD",
        "/\\evil.example/facilities/",
        "javascript:alert(1)//facilities/",
        "/admin/",
        "/facilities/harbor-light/",
        "/facilities/../admin/?x=1",
        "http://[::1/facilities/",
        "/facilities/?q=" + "x" * 5000,
        "",
    ],
)
def test_a_back_address_that_is_not_a_results_page_here_is_ignored(client, back):
    facility = full_facility()
    response = client.get(facility.get_absolute_url(), {"back": back})
    assert response.status_code == 200
    assert back_link(response.content.decode()) is None


def test_a_back_address_is_rebuilt_from_its_parameters_and_escaped(client):
    facility = full_facility()
    hostile = '/facilities/?q="><script>alert(1)</script>&utm=1&payment=md,&radius='
    response = client.get(facility.get_absolute_url(), {"back": hostile})
    body = response.content.decode()
    assert "<script>alert(1)" not in body
    assert back_link(body) == (
        "/facilities/?q=%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E&payment=MD"
    )


def test_the_back_link_asks_no_more_queries(client):
    facility = full_facility()
    client.get(facility.get_absolute_url())  # warm the vocabulary cache
    counts = []
    for params in ({}, {"back": "/facilities/?payment=MD&near=39201"}):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(facility.get_absolute_url(), params).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_a_facility_page_reached_from_results_names_its_one_address(client):
    facility = make_facility(name="Canonical IOP")
    response = client.get(facility.get_absolute_url() + "?back=/facilities/%3Fpayment%3DMD")
    assert response.status_code == 200
    expected = f'<link rel="canonical" href="http://testserver{facility.get_absolute_url()}">'
    assert expected in response.content.decode()
