"""Issue 14 in a browser, items 3 and 6: a place typed as people type it, and the CSV download.

Chromium at phone and desktop width: "jackson mississippi" in the home page's box reaches
Jackson's results; an ambiguous city asks which one with the states we list first and their
counts; the results page's "Download these results (CSV)" gives labels beside the codes.
"""

import csv
import io
from pathlib import Path

import pytest

from .factories import make_facility
from .test_browser import WIDTHS, at_width, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def places(live_vocabulary):
    make_facility(name="Jackson Medicaid IOP", payments=["MD"], co_occurring=True)
    for name in ("Springfield IOP", "Capital City IOP"):
        make_facility(
            name=name, city="Springfield", state="IL", zip="62701",
            latitude=39.7990, longitude=-89.6440,
        )  # fmt: skip
    make_facility(
        name="Ozarks IOP", city="Springfield", state="MO", zip="65806",
        latitude=37.2090, longitude=-93.2923,
    )  # fmt: skip


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_a_place_typed_without_a_comma_or_spelled_out_is_understood(page, places, width_name):
    at_width(page, width_name)
    for typed in ("jackson mississippi", "Jackson MS 39201", "jackson, miss."):
        page.goto("/")
        page.get_by_label("Where? Type a city, a ZIP code or a state").fill(typed)
        page.keyboard.press("Enter")
        page.wait_for_url("**/facilities/**")
        assert "Jackson Medicaid IOP" in page.locator("main").inner_text(), typed
    assert serious_violations(page) == [], width_name


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_an_ambiguous_city_lists_the_states_with_programs_first(page, places, width_name):
    at_width(page, width_name)
    page.goto("/?place=Springfield")
    page.wait_for_load_state("load")
    choices = page.get_by_role("list", name="Places you may mean").locator("a").all_inner_texts()
    assert choices, page.locator("main").inner_text()[:500]
    # The states where we list programs first, most programs first, with their counts.
    assert choices[0] == "Springfield, IL (2 programs)", choices[:3]
    assert choices[1] == "Springfield, MO (1 program)", choices[:3]
    assert len(choices) > 2  # then the other Springfields
    assert serious_violations(page) == [], width_name
    page.locator("main").get_by_role("link", name=choices[0]).click()
    page.wait_for_load_state("load")
    assert "Springfield IOP" in page.locator("main").inner_text()


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_downloaded_csv_reads_in_words(page, places, width_name):
    at_width(page, width_name)
    page.goto("/facilities/?state=MS&payment=MD")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these results (CSV)").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["name"] == "Jackson Medicaid IOP"
    assert row["payment_options_labels"] == "Medicaid"
    assert row["fictional"] == "false"
