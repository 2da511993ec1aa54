"""The finder in a real browser: Playwright driving Debian's Chromium, headless.

Screenshots of each page at 360 px and 1280 px go to test-artifacts/screenshots/.
"""

import datetime
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from facilities.models import Facility, ProblemReport

from .factories import add_line, build_mississippi, make_facility

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
WIDTHS = {"phone": (360, 740), "desktop": (1280, 900)}
XSS_NAME = "<img src=x onerror=alert(1)>"


def detailed_facility():
    return make_facility(
        name="Harbor Light Recovery Center",
        program_name="Evening IOP",
        street1="1200 North State Street",
        zip="39202",
        latitude=32.3120,
        longitude=-90.1800,
        phone="601-555-0142",
        intake_phone="601-555-0143",
        website="https://harborlight.example.org/",
        description="Group and individual counseling for adults, with family sessions.",
        ownership="PVTN",
        co_occurring=True,
        payments=["PI", "MD", "MC", "SF"],
        assistance=["SS"],
        populations=["WN", "VET", "CO"],
        ages=["ADLT", "YAD"],
        genders=["FEM", "MALE"],
        languages=["SP"],
        medications=["BWN", "NU"],
        approaches=["CBT", "DBT", "MI", "REL"],
        therapies=["YOGA", "MED"],
        conditions=["ALC", "OPI", "DEP", "ANX"],
        services=["ASMT", "GRPC", "INDC", "FAMC", "AFT"],
        accreditations=["JC", "SSA"],
        hours_per_week_min=9,
        hours_per_week_max=12,
        sessions_per_week=3,
        session_length_minutes=180,
        duration_weeks=10,
        offers_evening=True,
        offers_virtual=True,
        verified_at=datetime.date(2026, 3, 2),
        source=Facility.Source.DEMO,
    )


def place_cities():
    """build_mississippi puts every listing at Jackson's point; move them to their cities."""
    for city, (lat, lng) in {
        "Oxford": (34.3665, -89.5192),
        "Hattiesburg": (31.3271, -89.2903),
        "Richmond": (37.5407, -77.4360),
    }.items():
        Facility.objects.filter(city=city).update(latitude=lat, longitude=lng)


@pytest.fixture
def finder(live_vocabulary):
    build_mississippi()
    place_cities()
    return detailed_facility()


def at_width(page, width_name):
    width, height = WIDTHS[width_name]
    page.set_viewport_size({"width": width, "height": height})


def expand(page, selector):
    """Open a <details> by clicking its summary, as a person would (if it is closed)."""
    if not page.locator(selector).evaluate("element => element.open"):
        page.locator(f"{selector} > summary").click()


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_search_from_home_filter_open_a_facility_and_report_a_problem(page, finder):
    page.goto("/")
    page.get_by_label("Where? Type a city, a ZIP code or a state").fill("Jackson")
    page.get_by_role("button", name="Search").click()
    # "Jackson" alone: we list programs only in Jackson, Mississippi, so it goes straight there.
    expect_url = re.compile(r"/facilities/\?near=Jackson%2C\+MS")
    page.wait_for_url(expect_url)
    assert page.locator(".result-count").inner_text().strip() == "17 programs found"

    expand(page, "#filters")
    expand(page, "#field-payment")
    page.get_by_label("Medicaid", exact=True).check()
    expand(page, "#field-co_occurring")
    page.get_by_label("Treats mental health and substance use together", exact=True).check()
    page.locator("#show-results").click()  # "Show N programs" with JavaScript
    page.wait_for_url(re.compile(r"payment=MD.*co_occurring=true"))
    chips = page.locator(".chips .chip").all_inner_texts()
    assert any("Payment accepted: Medicaid" in chip for chip in chips)
    assert any("Treats mental health" in chip for chip in chips)
    count = int(page.locator(".result-count").inner_text().split()[0])
    assert 0 < count < 17

    page.get_by_role("link", name="Harbor Light Recovery Center").click()
    page.wait_for_url(re.compile(r"/facilities/harbor-light"))
    assert page.get_by_role("heading", level=1).inner_text() == "Harbor Light Recovery Center"
    assert page.get_by_role(
        "link", name="Call to start treatment (intake): 601-555-0143"
    ).get_attribute("href") == ("tel:+16015550143")

    page.get_by_role("link", name="Report a problem with this listing").click()
    page.get_by_label("The phone number is wrong").check()
    page.get_by_label("What is wrong?").fill("The intake line rings out; nobody answers.")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(re.compile(r"/report/thanks/$"))
    assert "your report was sent" in page.get_by_role("heading", level=1).inner_text()
    report = ProblemReport.objects.get()
    assert report.facility == finder and report.category == "phone"
    assert report.status == ProblemReport.Status.NEW


def test_ticking_a_filter_updates_the_results_in_place_with_javascript(page, finder):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/facilities/?state=MS")
    assert page.locator(".result-count").inner_text().strip() == "29 programs found"
    page.evaluate("window.__sameDocument = true")
    expand(page, "#field-payment")
    page.get_by_label("Military insurance (e.g. TRICARE)", exact=True).check()
    # Wait through a locator: string predicates are eval()ed, which the CSP forbids.
    page.locator(".result-count", has_text="15 programs found").wait_for()
    assert page.locator(".result-count").inner_text().strip() == "15 programs found"
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert "payment=MI" in page.url


def test_searching_and_filtering_work_without_javascript(browser, live_server, finder):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Where? Type a city, a ZIP code or a state").fill("Mississippi")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"/facilities/\?state=MS$"))
        assert page.locator(".result-count").inner_text().strip() == "29 programs found"
        expand(page, "#filters")
        expand(page, "#field-payment")
        page.get_by_label("Medicare", exact=True).check()
        page.get_by_role("button", name="Show programs").click()
        page.wait_for_url(re.compile(r"payment=MC"))
        assert page.locator(".result-count").inner_text().strip() == "12 programs found"
        # Level of care: untick IOP to see every level (the hidden empty value keeps it so).
        expand(page, "#filters")
        expand(page, "#field-level_of_care")
        page.get_by_label("Intensive outpatient (IOP)", exact=True).uncheck()
        expand(page, "#field-payment")
        page.get_by_label("Medicare", exact=True).uncheck()
        page.get_by_role("button", name="Show programs").click()
        page.wait_for_url(re.compile(r"level_of_care=(&|$)"))
        assert page.locator(".chip-default").count() == 0
        # The 29 IOPs and the outpatient-only listing.
        assert page.locator(".result-count").inner_text().strip() == "30 programs found"
    finally:
        context.close()


PAGES = {
    "home": lambda facility: "/",
    "results": lambda facility: "/facilities/?near=Jackson%2C+MS",
    "no-results": lambda facility: "/facilities/?near=39201&payment=ITU",
    "bad-input": lambda facility: "/facilities/?near=Jacksn%2C+MS&radius=abc",
    "facility": lambda facility: facility.get_absolute_url(),
    "report": lambda facility: facility.get_absolute_url() + "report/",
    "states": lambda facility: "/states/",
    "state": lambda facility: "/states/ms/",
    "city": lambda facility: "/states/ms/jackson/",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violations_at_phone_and_desktop_width(
    page, finder, name
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console_errors = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    for width_name in WIDTHS:
        at_width(page, width_name)
        page.goto(PAGES[name](finder))
        assert page.locator("a[href='tel:988']").first.is_visible()
        assert page.locator("a[href='tel:+18006624357']").first.is_visible()
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}-{WIDTHS[width_name][0]}.png"), full_page=True
        )
        assert serious_violations(page) == [], (name, width_name)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (name, width_name, overflow)
    # Nothing blocked by the Content-Security-Policy, no script errors (a page answered
    # with 400 on purpose is logged as a failed load: that one is expected).
    expected = "the server responded with a status of 400"
    assert [text for text in console_errors if expected not in text] == []


def test_a_place_with_two_programs_is_clear_on_a_phone_and_a_desktop(page, finder):
    """The facility page of a place whose mental health program differs from its IOP."""
    add_line(
        finder,
        "MH",
        levels=["ORT"],
        payments=["MD", "SF"],
        populations=["CO"],
        ages=["ADLT", "YAD"],
        conditions=["DEP", "ANX"],
        approaches=["CBT", "DBT"],
        services=["ASMT", "INDC"],
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width_name in WIDTHS:
        at_width(page, width_name)
        page.goto(finder.get_absolute_url())
        page.screenshot(
            path=str(SCREENSHOTS / f"facility-two-programs-{WIDTHS[width_name][0]}.png"),
            full_page=True,
        )
        assert serious_violations(page) == [], width_name
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width_name, overflow)
        # Calling still comes first, then what each program offers.
        call = page.get_by_role("link", name="Call to start treatment (intake): 601-555-0143")
        programs = page.get_by_role("heading", name="Programs at this place", level=2)
        assert call.bounding_box()["y"] < programs.bounding_box()["y"]
        payment = page.locator("section[aria-labelledby='payment-heading']")
        blocks = payment.locator(".line")
        assert blocks.locator("h3").all_inner_texts() == [
            "Substance use treatment",
            "Mental health treatment",
        ]
        mental_health = blocks.nth(1).get_by_role("listitem").all_inner_texts()
        assert any(text.startswith("Medicaid") for text in mental_health)
        assert not any(text.startswith("Private health insurance") for text in mental_health)
        first, second = blocks.nth(0).bounding_box(), blocks.nth(1).bounding_box()
        if width_name == "desktop":  # side by side
            assert first["y"] == second["y"] and first["x"] < second["x"]
        else:  # one above the other, each the width of the screen's column
            assert first["y"] + first["height"] <= second["y"] and first["x"] == second["x"]


def test_a_facility_named_like_html_renders_as_text_and_runs_nothing(page, finder):
    hostile = make_facility(name=XSS_NAME, program_name="<script>alert(2)</script>")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for url in [
        hostile.get_absolute_url(),
        "/facilities/?q=img",
        "/facilities/?q=%3Cimg+src%3Dx+onerror%3Dalert(3)%3E",
        "/facilities/?near=%3Cscript%3Ealert(4)%3C/script%3E",
        "/?place=%3Cimg+src%3Dx+onerror%3Dalert(5)%3E",
    ]:
        page.goto(url)
        page.wait_for_load_state("load")
        assert page.locator("img[src='x']").count() == 0, url
    page.goto(hostile.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text() == XSS_NAME
    assert dialogs == []


# --- Issue 14, item 1: never a dead end --------------------------------------------------

# Where the closing note looks for them (besides test-artifacts/).
ZERO_SHOTS = Path("/tmp/shots14")  # noqa: S108


def test_a_search_that_finds_nothing_offers_the_nearest_telehealth_and_wider_searches(page):
    from .test_no_dead_ends import build_sparse

    build_sparse()
    ZERO_SHOTS.mkdir(parents=True, exist_ok=True)
    url = "/facilities/?near=59001&payment=SF"
    for width_name in WIDTHS:
        at_width(page, width_name)
        page.goto(url)
        assert page.locator(".result-count").inner_text().strip() == "0 programs found"
        lead = page.locator(".no-results-lead")
        assert "No programs match all of this within 25 miles of 59001" in lead.inner_text()
        assert "The nearest is " in lead.inner_text() and "in Missoula, MT." in lead.inner_text()
        # The help line is on screen with the rest, not only at the foot of the page.
        assert page.locator(".no-results a[href='tel:+18006624357']").is_visible()
        links = page.locator(".fallback-links a")
        texts = links.all_inner_texts()
        assert any(text.startswith("Search within 250 miles") for text in texts), texts
        assert any("virtual (telehealth) sessions in Montana" in text for text in texts), texts
        assert all(re.search(r"\(\d+ programs?\)$", text) for text in texts), texts
        cards = page.locator(".no-results .card")
        assert cards.first.get_by_role("heading").inner_text() == "Clark Fork Telehealth IOP"
        page.screenshot(path=str(ZERO_SHOTS / f"zero-{WIDTHS[width_name][0]}.png"), full_page=True)
        assert serious_violations(page) == [], width_name
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width_name, overflow)
    # Each link finds what it says.
    hrefs = page.locator(".fallback-links a").evaluate_all("links => links.map(a => a.href)")
    for href, text in zip(hrefs, texts, strict=True):
        page.goto(href)
        found = int(page.locator(".result-count").inner_text().split()[0])
        assert f"({found} program" in text, (href, text)


# --- Issue 14: the shortlist (Save, /shortlist/, send and share) -------------------------

# Where the closing note picks the shortlist screenshots up.
SHORTLIST_SHOTS = Path("/tmp/shots14")  # noqa: S108


def pdf_pages(pdf):
    """Pages in a PDF from Chromium (each page object says /Type /Page)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


def header_shortlist(page):
    return page.locator(".site-nav .shortlist-link")


def test_shortlist_save_remove_compare_and_copy_with_javascript(page, finder):
    SHORTLIST_SHOTS.mkdir(parents=True, exist_ok=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first = Facility.objects.get(name="Mississippi IOP 00")
    for width_name in WIDTHS:
        at_width(page, width_name)
        page.goto("/facilities/?near=Jackson%2C+MS")
        page.evaluate("window.localStorage.clear()")
        page.reload()
        assert not header_shortlist(page).is_visible()
        page.evaluate("window.__sameDocument = true")
        page.get_by_role("button", name="Save Mississippi IOP 00 to your shortlist").click()
        page.get_by_role(
            "button", name="Save Harbor Light Recovery Center to your shortlist"
        ).click()
        assert header_shortlist(page).inner_text() == "Shortlist (2)"
        harbor_card = page.locator("article.card", has_text="Harbor Light Recovery Center")
        assert harbor_card.locator(".saved-mark").is_visible()
        size = WIDTHS[width_name][0]
        harbor_card.screenshot(path=str(SHORTLIST_SHOTS / f"card-saved-{size}.png"))
        # Saving again removes: the button says so, and the count follows.
        remove = page.get_by_role("button", name="Remove Mississippi IOP 00 from your shortlist")
        remove.click()
        assert header_shortlist(page).inner_text() == "Shortlist (1)"
        page.get_by_role("button", name="Save Mississippi IOP 00 to your shortlist").click()
        assert header_shortlist(page).inner_text() == "Shortlist (2)"
        assert page.evaluate("window.__sameDocument") is True  # no page load: all in place
        assert page.locator("[role=status]", has_text="2 on your shortlist").count() == 1

        header_shortlist(page).click()
        # In the order saved: Mississippi IOP 00 was removed and saved again.
        page.wait_for_url(re.compile(rf"/shortlist/\?ids={finder.pk},{first.pk}$"))
        names = page.locator(".shortlist-table .program-name").all_inner_texts()
        assert names == ["Harbor Light Recovery Center", "Mississippi IOP 00"]
        harbor = page.locator("tr", has_text="Harbor Light Recovery Center")
        assert harbor.get_by_role("link", name="601-555-0143").get_attribute("href") == (
            "tel:+16015550143"
        )
        sms = harbor.get_by_role("link", name="Send to my phone").get_attribute("href")
        assert sms.startswith("sms:?&body=Harbor%20Light%20Recovery%20Center%0A")
        # Side by side at 1280 (a table row), stacked on a phone.
        cells = harbor.locator("td")
        first_cell, second_cell = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
        if width_name == "desktop":
            assert page.locator(".shortlist-table thead").is_visible()
            assert first_cell["y"] == second_cell["y"] and first_cell["x"] < second_cell["x"]
        else:
            assert first_cell["y"] + first_cell["height"] <= second_cell["y"]
        assert not page.get_by_role("button", name="Keep this list on this device").is_visible()

        page.get_by_role("button", name="Copy link").click()
        page.locator("[role=status]", has_text="Link copied").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.endswith(f"/shortlist/?ids={finder.pk},{first.pk}")
        assert copied == page.get_by_label("Link to this list").input_value()

        page.screenshot(
            path=str(SHORTLIST_SHOTS / f"shortlist-{WIDTHS[width_name][0]}.png"), full_page=True
        )
        assert serious_violations(page) == [], width_name
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width_name, overflow)

        # Remove on the list page: the address and this browser both forget it.
        page.get_by_role("link", name="Remove Mississippi IOP 00 from the list").click()
        page.wait_for_url(re.compile(rf"/shortlist/\?ids={finder.pk}$"))
        assert header_shortlist(page).inner_text() == "Shortlist (1)"
        # The facility page knows it is saved, at the top and at the bottom.
        page.goto(finder.get_absolute_url())
        assert (
            page.get_by_role(
                "button", name="Remove Harbor Light Recovery Center from your shortlist"
            ).count()
            == 2
        )
        page.screenshot(path=str(SHORTLIST_SHOTS / f"facility-saved-{size}.png"))


def test_a_shared_shortlist_opens_on_another_device_and_can_be_kept(browser, live_server, finder):
    first = Facility.objects.get(name="Mississippi IOP 03")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"/shortlist/?ids={first.pk},{finder.pk},999999,abc")
        assert page.locator(".shortlist-table .program-name").count() == 2
        assert "#999999" in page.locator(".shortlist-notes").inner_text()
        assert not header_shortlist(page).is_visible()
        page.get_by_role("button", name="Keep this list on this device").click()
        assert header_shortlist(page).inner_text() == "Shortlist (2)"
        # /shortlist/ alone shows what this browser keeps.
        page.goto("/shortlist/")
        page.wait_for_url(re.compile(rf"/shortlist/\?ids={first.pk},{finder.pk}$"))
        assert serious_violations(page) == []
    finally:
        context.close()


def test_ten_saved_programs_print_on_one_page_and_an_eleventh_is_refused(page, finder):
    listings = list(Facility.objects.filter(name__startswith="Mississippi IOP").order_by("name"))
    ids = [listing.pk for listing in listings[:9]] + [finder.pk]
    page.goto(f"/shortlist/?ids={','.join(map(str, ids))}&near=39201")
    assert page.locator(".shortlist-table tbody tr").count() == 10
    page.get_by_role("button", name="Keep this list on this device").click()
    page.emulate_media(media="print")
    assert not page.locator(".shortlist-share").is_visible()
    assert page.locator(".shortlist-table").is_visible()
    # What a page of US Letter holds inside 0.4-inch margins, at 96 px an inch.
    page.set_viewport_size({"width": 739, "height": 979})
    page.screenshot(path=str(SHORTLIST_SHOTS / "shortlist-print.png"), full_page=True)
    # Printed with a browser's usual margins, on US Letter and on A4.
    margins = dict.fromkeys(("top", "right", "bottom", "left"), "0.4in")
    SHORTLIST_SHOTS.mkdir(parents=True, exist_ok=True)
    letter = page.pdf(format="Letter", margin=margins, path=SHORTLIST_SHOTS / "shortlist-print.pdf")
    assert pdf_pages(letter) == 1
    assert pdf_pages(page.pdf(format="A4", margin=margins)) == 1
    page.emulate_media(media="screen")
    page.goto(listings[9].get_absolute_url())
    page.get_by_role("button", name="Save Mississippi IOP 09 to your shortlist").first.click()
    page.locator("[role=status]", has_text="Your shortlist is full").wait_for()
    assert header_shortlist(page).inner_text() == "Shortlist (10)"


def test_saving_works_without_javascript_through_the_address(browser, live_server, finder):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/facilities/?near=Jackson%2C+MS")
        page.get_by_role("button", name="Save Mississippi IOP 01 to your shortlist").click()
        page.wait_for_url(re.compile(r"/shortlist/\?ids=\d+&back="))
        page.get_by_role("link", name="Back to where you saved from").click()
        page.wait_for_url(re.compile(r"/facilities/\?near=.*shortlist=\d+"))
        page.get_by_role(
            "button", name="Save Harbor Light Recovery Center to your shortlist"
        ).click()
        page.wait_for_url(re.compile(r"/shortlist/\?ids=\d+,\d+&back="))
        names = page.locator(".shortlist-table .program-name").all_inner_texts()
        assert names == ["Mississippi IOP 01", "Harbor Light Recovery Center"]
        # Without JavaScript the link is there to copy by hand; the buttons are not shown.
        assert "/shortlist/?ids=" in page.get_by_label("Link to this list").input_value()
        assert not page.get_by_role("button", name="Copy link").is_visible()
    finally:
        context.close()


# --- Issue 14: phone-first results, and addresses that keep their meaning ------------------
# Self-contained: its own helpers, named phone_first_*. Screenshots: results-*-360/1280.png.

PHONE_FIRST_RESULTS = "/facilities/?near=Jackson%2C+MS"
PHONE_FIRST_CARD = "#result-list > li:first-child"


def phone_first_shot(page, name, full_page=False):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def phone_first_no_overflow(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def phone_first_state(page):
    """What a results address shows: heading, chips, count and first card."""
    return {
        "heading": page.locator("#results-title").inner_text().strip(),
        "chips": page.locator(".chips .chip").all_inner_texts(),
        "count": page.locator(".result-count").inner_text().strip(),
        "first": page.locator(f"{PHONE_FIRST_CARD} h3").inner_text().strip(),
    }


def phone_first_tabs_until(page, selector, limit=150):
    """Tab presses from where the focus is until `selector` has it (None if never)."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.locator(selector).evaluate("element => element === document.activeElement"):
            return presses
    return None


def test_on_a_phone_the_count_and_first_result_with_its_call_button_come_first(page, finder):
    at_width(page, "phone")
    page.goto(PHONE_FIRST_RESULTS)
    # One listing with only a main number (the other demo listings here have none).
    names = page.locator(".card h3").all_inner_texts()
    main_only = Facility.objects.get(name=next(name for name in names if name != finder.name))
    Facility.objects.filter(pk=main_only.pk).update(phone="601-555-0177", intake_phone="")
    page.reload()
    phone_first_shot(page, "results-phone-first-360")
    phone_first_shot(page, "results-phone-first-360-full", full_page=True)
    count = page.locator(".result-count")
    first = page.locator(PHONE_FIRST_CARD)
    assert count.inner_text().strip() == "17 programs found"
    assert count.bounding_box()["y"] < first.bounding_box()["y"] < 600
    # Its call button is on the first screen too: no scrolling before a call.
    call = first.locator("a.call-button")
    box = call.bounding_box()
    assert box["y"] + box["height"] <= WIDTHS["phone"][1], box
    assert call.get_attribute("href").startswith("tel:+1")
    # A card with a number has its call button: the intake line where there is one, else
    # the main number.
    assert page.locator(".card a.call-button").count() == 2
    other = page.locator(".card", has_text=main_only.name)
    assert other.get_by_role("link", name="Call: 601-555-0177").is_visible()
    harbor = page.locator(".card", has_text="Harbor Light Recovery Center")
    assert harbor.get_by_role("link", name="Call to start: 601-555-0143").get_attribute("href") == (
        "tel:+16015550143"
    )
    # Chips, sort and download are still all there.
    assert page.locator(".chips .chip").count() == 2
    assert page.get_by_label("Sort by").is_visible()
    assert page.get_by_role("link", name="Download these results (CSV)").is_visible()
    assert serious_violations(page) == []
    assert phone_first_no_overflow(page) <= 0
    at_width(page, "desktop")
    page.goto(PHONE_FIRST_RESULTS)
    phone_first_shot(page, "results-phone-first-1280")
    assert serious_violations(page) == []
    assert phone_first_no_overflow(page) <= 0


def test_filtering_on_a_phone_counts_on_a_sticky_show_button(page, finder):
    at_width(page, "phone")
    page.goto("/facilities/?state=MS")
    expand(page, "#filters")
    show = page.locator("#show-results")
    assert show.inner_text() == "Show 29 programs"
    expand(page, "#field-payment")
    page.get_by_label("Military insurance (e.g. TRICARE)", exact=True).check()
    page.locator("#show-results", has_text="Show 15 programs").wait_for()
    # Where the person is: the button is on screen, at its bottom, while the panel is long.
    box = show.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= WIDTHS["phone"][1], box
    # (Scoped to the filter form: the shortlist has a status line of its own.)
    assert page.get_by_role("form", name="Search and filters").get_by_role(
        "status"
    ).inner_text() == ("15 programs found")
    assert page.url.endswith("/facilities/?state=MS&payment=MI")
    phone_first_shot(page, "results-filtering-phone-first-360")
    assert serious_violations(page) == []
    assert phone_first_no_overflow(page) <= 0
    show.click()
    # Nothing typed: the results are already there; the panel folds away and they show.
    assert page.locator("#filters").evaluate("element => element.open") is False
    assert page.locator("#results").evaluate("element => element === document.activeElement")
    assert page.locator(".result-count").inner_text().strip() == "15 programs found"
    assert page.locator(PHONE_FIRST_CARD).bounding_box()["y"] < 600


def test_with_javascript_sorting_applies_at_once_and_has_no_button(
    browser, page, finder, live_server
):
    page.goto(PHONE_FIRST_RESULTS)
    assert page.get_by_role("button", name="Sort").count() == 0
    page.get_by_label("Sort by").select_option("name")
    page.locator("#id_ordering option[value='name'][selected]").wait_for(state="attached")
    assert page.url.endswith("?near=Jackson%2C+MS&ordering=name")
    names = page.locator(".card h3").all_inner_texts()
    assert names == sorted(names)
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        plain = context.new_page()
        plain.goto(PHONE_FIRST_RESULTS)
        assert plain.get_by_role("button", name="Sort").is_visible()
    finally:
        context.close()


def phone_first_tick(page):
    """Medicaid and co-occurring on the panel, as the home page's mother would."""
    expand(page, "#filters")
    expand(page, "#field-payment")
    page.get_by_label("Medicaid", exact=True).check()
    expand(page, "#field-co_occurring")
    page.get_by_label("Treats mental health and substance use together", exact=True).check()


def test_ticking_with_javascript_ends_at_the_address_the_form_without_it_does(
    browser, page, finder, live_server
):
    page.goto(PHONE_FIRST_RESULTS)
    before = phone_first_state(page)
    phone_first_tick(page)
    page.locator(".chip", has_text="Treats mental health").wait_for()
    page.locator("#show-results", has_text=re.compile(r"^Show \d+ programs$")).wait_for()
    with_js = page.url
    assert with_js == (
        f"{live_server.url}/facilities/?near=Jackson%2C+MS&payment=MD&co_occurring=true"
    )
    shown = phone_first_state(page)
    heading = "Intensive outpatient programs (IOPs) near Jackson, MS"
    assert shown["heading"] == before["heading"] == heading
    assert shown["chips"][0] == before["chips"][0]  # the place, kept as it was
    assert any("Payment accepted: Medicaid" in chip for chip in shown["chips"])
    page.reload()
    assert phone_first_state(page) == shown
    # Shared: a fresh browser with nothing of this one's state.
    fresh = browser.new_context(base_url=live_server.url)
    no_js = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        other = fresh.new_page()
        other.goto(with_js)
        assert phone_first_state(other) == shown
        # The same ticks without JavaScript: the form, then the server's redirect.
        plain = no_js.new_page()
        plain.set_viewport_size({"width": 1280, "height": 900})
        plain.goto(PHONE_FIRST_RESULTS)
        phone_first_tick(plain)
        plain.get_by_role("button", name="Show programs").click()
        plain.wait_for_url(re.compile(r"co_occurring=true$"))
        assert plain.url == with_js
        assert phone_first_state(plain) == shown
    finally:
        fresh.close()
        no_js.close()


def test_skip_to_results_and_the_tab_presses_to_the_first_result(page, finder, capsys):
    at_width(page, "desktop")
    # The open panel (payment ticked, so its section is open) is what Tab crosses without it.
    searched = f"{PHONE_FIRST_RESULTS}&payment=MD&co_occurring=true"
    page.goto(searched)
    first_result = f"{PHONE_FIRST_CARD} h3 a"
    plain = phone_first_tabs_until(page, first_result)
    page.goto(searched)
    to_skip = phone_first_tabs_until(page, "#skip-results")
    # The first stop in main, after the site's own skip link, help lines and navigation.
    assert to_skip == 8
    assert page.locator("#skip-results").is_visible()
    page.keyboard.press("Enter")
    after_skip = phone_first_tabs_until(page, first_result)
    assert after_skip == 1
    with capsys.disabled():
        print(
            f"\nTab presses to the first result at 1280 px: {plain} without the skip link, "
            f"{to_skip} + Enter + {after_skip} with it"
        )
    assert serious_violations(page) == []


def test_a_facility_reached_from_results_leads_back_to_them(page, finder):
    at_width(page, "phone")
    page.goto("/facilities/?near=Jackson%2C+MS&payment=MD")
    results_url = page.url
    state = phone_first_state(page)
    page.locator(f"{PHONE_FIRST_CARD} h3 a").click()
    page.wait_for_url(re.compile(r"/facilities/[a-z0-9-]+/\?back="))
    back = page.get_by_role("link", name="Back to results")
    assert back.bounding_box()["y"] < 400
    assert serious_violations(page) == []
    back.click()
    page.wait_for_url(results_url)
    assert phone_first_state(page) == state


def test_from_home_to_a_call_in_six_taps_on_a_phone(page, finder, capsys):
    """A mother in Jackson, MS whose son needs an IOP that takes Medicaid and treats
    co-occurring disorders: each tap a person makes is counted; typing is not."""
    at_width(page, "phone")
    taps = []

    def tap(locator, what):
        locator.click()
        taps.append(what)

    page.goto("/")
    box = page.get_by_label("Where? Type a city, a ZIP code or a state")
    tap(box, "the place box")
    box.fill("Jackson, MS")
    tap(page.get_by_text("Narrow it down (optional)"), "Narrow it down")
    tap(page.get_by_label("Medicaid", exact=True), "Medicaid")
    tap(
        page.get_by_label("Treats mental health and substance use together (co-occurring)"),
        "co-occurring",
    )
    tap(page.get_by_role("button", name="Search"), "Search")
    page.wait_for_url(re.compile(r"payment=MD&co_occurring=true$"))
    call = page.locator(f"{PHONE_FIRST_CARD} a.call-button")
    box = call.bounding_box()
    assert box["y"] + box["height"] <= WIDTHS["phone"][1], "the call button needs no scrolling"
    assert call.get_attribute("href").startswith("tel:")
    taps.append(f"“{call.inner_text()}” on the first card")
    with capsys.disabled():
        print(f"\nTaps from home to a call: {len(taps)}: " + "; ".join(taps))
    assert len(taps) == 6
